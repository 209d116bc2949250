// The coordinator's side of N dedup shards (docs/dedup.md#scale-out). It
// starts a resolve as four rounds, relays what each round found (block
// summaries, pattern counts, then edges) to every shard, and combines the
// shards' resolutions into the one resolve commit the ledger and the audit
// store take. It never sees a record's values: summaries, counts, edges
// (record names) and commits only; the members of clusters that span
// shards go from shard to shard (deduper/member_exchange.h). With one shard
// none of this runs: the resolve is the single RESOLVE lease.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/core/status.h"
#include "coordinator/ledger.h"
#include "coordinator/resolution_merge.h"
#include "deduper/shard_preround.h"
#include "sluice/v1/control.pb.h"

namespace sluice::coordination {

class DedupShards {
 public:
  // Leases for particular workers: (identity, lease).
  using Leases = std::vector<std::pair<std::string, v1::Lease>>;

  DedupShards() = default;
  // `spill_dir`: where the shards' resolutions wait until every shard has
  // resolved (resolution_merge.h); `part_bytes`: the bound of a part of
  // their combined resolution.
  DedupShards(uint32_t count, uint64_t batch_size, std::string spill_dir = "",
              size_t part_bytes = ShardResolutions::kPartBytes);

  uint32_t count() const { return count_; }
  bool multi() const { return count_ > 1; }
  static std::string Identity(uint32_t shard) { return "deduper-" + std::to_string(shard); }

  // The shard count and the virtual shard map, for every worker.
  void FillRegisterReply(v1::RegisterReply* reply) const;

  // The pre-round's lease kinds (Lease.dedup_round; docs/dedup.md,
  // "Guests by request"): claims, wants, rows.
  static constexpr uint32_t kClaimRound = preround::kClaimRound;
  static constexpr uint32_t kWantRound = preround::kWantRound;
  static constexpr uint32_t kRowRound = preround::kRowRound;

  // A resolve of `id` (its source is ignored) under `epoch`, one lease per
  // shard; forgets any earlier resolve. `preround` (a fuzzy spec: the
  // transformers sent home rows only) starts with the pre-round's claims,
  // else with round 1.
  Leases StartResolve(const v1::BatchId& id, uint64_t epoch, bool preround = false);

  // Whether `commit` is one of the rounds': dedup_claims, dedup_wants,
  // dedup_guests, dedup_blocks, dedup_patterns, dedup_edges, or a shard's
  // dedup_resolve when there are several shards.
  bool IsRoundCommit(const v1::Commit& commit) const;

  struct Step {
    Status status;  // a shard's resolution that does not add up
    Leases leases;  // the next round, when every shard has reported
    // Every shard resolved: EmitResolution() gives their resolutions as one.
    bool resolved = false;
  };
  // Takes one shard's round commit, or one part of a shard's resolution.
  // Commits of another epoch than the current resolve's are ignored. A
  // shard's resolution is written aside part by part as it arrives; once
  // whole, its digest is checked and kept in `ledger` under its own name.
  // The round's lists are moved out of `commit`.
  Step OnCommit(v1::Commit&& commit, Ledger* ledger);
  // Once every shard has resolved: their resolutions combined into one, in
  // parts of bounded size (batch source "dedup/resolve"), passed to `take`
  // in order for the path one shard's takes; the parts written aside go
  // once every part was taken. Stops at the first error of `take`.
  Status EmitResolution(const std::function<Status(v1::Commit&&)>& take);

  // After the resolution: every output batch, shard by shard, each shard's
  // numbered 0..n-1.
  const std::vector<v1::BatchId>& outputs() const { return outputs_; }
  // The shard that emits outputs()[seq].
  uint32_t OutputShard(uint64_t seq) const { return output_shards_.at(seq); }

  // After dedup shard `shard` died before the resolution was complete: the
  // lease that brings its replacement back into the current round under the
  // same epoch (the other shards are not disturbed; a replacement redoes
  // the earlier rounds from its log). With the pre-round done and rounds
  // 1-3 under way, a rows lease goes first: the guest rows it took died
  // with it. A shard that had already resolved is rebuilt instead, and
  // `resend` gets its output batches to emit again.
  Leases Redrive(uint32_t shard, std::vector<v1::BatchId>* resend) const;
  // Whether `shard` has committed its part of the current resolution.
  bool Resolved(uint32_t shard) const { return resolutions_ && resolutions_->Resolved(shard); }
  // Round 4 again for every shard but `except` that has not resolved: a
  // dedup shard registered again (at a new member endpoint) while the
  // others may be waiting for its members. In the pre-round's rows step,
  // the rows lease again for every shard but `except` that has not taken
  // its rows. Empty otherwise.
  Leases MemberRoundAgain(uint32_t except) const;
  // Whether `lease` needs the shards' member endpoints: round 4 and the
  // pre-round's rows.
  static bool NeedsPeers(const v1::Lease& lease) {
    return lease.dedup_round() == 4 || lease.dedup_round() == kRowRound;
  }
  // Fills a round-4 or rows lease's member endpoints, by shard ordinal, as
  // they are when it is sent (a replacement's, once it registered).
  static void FillPeers(const std::vector<std::string>& endpoints, v1::Lease* lease);

  // For a replacement of `shard` during output: round 4 again with every
  // edge (as `shard` needs them), which rebuilds its resolution without a commit; RESEND leases
  // follow it. Empty before the resolution.
  std::optional<v1::Lease> RebuildLease(uint32_t shard, uint64_t epoch) const;

 private:
  // Appends the ids of the output batches `shard` emits for its `out`
  // survivors ("dedup/<shard>", sequence 0..n-1).
  void AddOutputIds(uint32_t shard, uint64_t out, std::vector<v1::BatchId>* ids) const;

  uint32_t count_ = 1;
  uint64_t batch_size_ = 1;
  uint64_t epoch_ = 0;
  v1::BatchId id_;
  // The pre-round (preround_): claims by claimant (only that they came;
  // their keys are in want_leases_), the wants lease of each owner with the
  // claims addressed to it (kept until every owner answered, for a
  // replacement), every owner's wants (kept for a replacement in rounds
  // 1-3), the shards that took their rows.
  bool preround_ = false;
  std::map<uint32_t, bool> claimed_;
  std::vector<v1::Lease> want_leases_;
  std::map<uint32_t, v1::DedupGuestWants> wants_;
  std::map<uint32_t, bool> took_rows_;
  bool ClaimsIn() const { return claimed_.size() == count_; }
  bool WantsIn() const { return wants_.size() == count_; }
  bool PreRoundDone() const { return !preround_ || took_rows_.size() == count_; }
  v1::Lease RowsLease() const;  // every owner's wants
  // Takes one pre-round commit into `step`.
  void OnPreRound(uint32_t shard, v1::Commit& commit, Step* step);
  v1::Lease Round2() const;  // every shard's block summary
  v1::Lease Round3() const;  // and every shard's pattern counts
  // Every edge (all_edges_ parsed), as `shard` needs them (edge_routes.h).
  v1::Lease Round4(uint32_t shard) const;

  std::map<uint32_t, v1::DedupBlocks> blocks_;
  std::map<uint32_t, v1::DedupPatterns> patterns_;
  std::map<uint32_t, v1::DedupEdges> edges_;
  std::string spill_dir_;
  size_t part_bytes_ = ShardResolutions::kPartBytes;
  std::unique_ptr<ShardResolutions> resolutions_;  // as they arrive
  // Every edge, relayed in round 4 and kept for rebuilds, serialized: a
  // third of its parsed size, and parsed again only for a replacement.
  std::string all_edges_;
  bool edges_sent_ = false;
  std::vector<v1::BatchId> outputs_;
  std::vector<uint32_t> output_shards_;  // parallel to outputs_
};

}  // namespace sluice::coordination
