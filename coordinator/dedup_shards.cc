#include "coordinator/dedup_shards.h"

#include <algorithm>
#include <map>

#include "common/core/record.h"
#include "common/core/stage.h"
#include "deduper/edge_routes.h"
#include "deduper/shard_map.h"

namespace sluice::coordination {
namespace {

v1::Lease RoundLease(const v1::BatchId& id, uint64_t epoch, uint32_t round) {
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_RESOLVE);
  *lease.mutable_batch() = id;
  lease.set_epoch(epoch);
  lease.set_dedup_round(round);
  return lease;
}

}  // namespace

DedupShards::DedupShards(uint32_t count, uint64_t batch_size, std::string spill_dir,
                         size_t part_bytes)
    : count_(count == 0 ? 1 : count),
      batch_size_(batch_size == 0 ? 1 : batch_size),
      spill_dir_(std::move(spill_dir)),
      part_bytes_(part_bytes) {}

void DedupShards::FillRegisterReply(v1::RegisterReply* reply) const {
  reply->set_dedup_shards(count_);
  // The deduper's own map: one definition of which shard owns what.
  const ShardMap map(count_, 0);  // named: owners() refers into it
  const std::vector<uint32_t>& owners = map.owners();
  reply->mutable_dedup_shard_map()->Assign(owners.begin(), owners.end());
}

DedupShards::Leases DedupShards::StartResolve(const v1::BatchId& id, uint64_t epoch,
                                              bool preround) {
  epoch_ = epoch;
  preround_ = preround && multi();
  claimed_.clear();
  want_leases_.clear();
  wants_.clear();
  took_rows_.clear();
  id_ = id;
  id_.set_source("");
  id_.set_sequence(0);
  blocks_.clear();
  patterns_.clear();
  edges_.clear();
  if (resolutions_) resolutions_->Clear();
  resolutions_ = std::make_unique<ShardResolutions>(spill_dir_, count_);
  all_edges_.clear();
  edges_sent_ = false;
  outputs_.clear();
  output_shards_.clear();
  Leases leases;
  const uint32_t first = preround_ ? kClaimRound : 1;
  for (uint32_t s = 0; s < count_; ++s) {
    leases.emplace_back(Identity(s), RoundLease(id_, epoch, first));
  }
  return leases;
}

bool DedupShards::IsRoundCommit(const v1::Commit& c) const {
  const std::optional<Stage> stage = StageNamed(c.stage());
  return stage == Stage::kDedupClaims || stage == Stage::kDedupWants ||
         stage == Stage::kDedupGuests || stage == Stage::kDedupBlocks ||
         stage == Stage::kDedupPatterns || stage == Stage::kDedupEdges ||
         (multi() && stage == Stage::kDedupResolve);
}

v1::Lease DedupShards::RowsLease() const {
  v1::Lease lease = RoundLease(id_, epoch_, kRowRound);
  for (const auto& [s, w] : wants_) *lease.add_dedup_guest_wants() = w;
  return lease;
}

void DedupShards::OnPreRound(uint32_t shard, v1::Commit& c, Step* step) {
  const std::optional<Stage> stage = StageNamed(c.stage());
  if (stage == Stage::kDedupClaims) {
    if (ClaimsIn() || claimed_.count(shard)) return;
    want_leases_.resize(count_, RoundLease(id_, epoch_, kWantRound));
    for (v1::DedupKeyClaims& claim : *c.mutable_dedup_key_claims()) {
      if (claim.shard() != shard || claim.owner() >= count_ || claim.owner() == shard) {
        step->status = Status::Internal("dedup shard " + std::to_string(shard) +
                                        " claimed keys as shard " + std::to_string(claim.shard()) +
                                        " for shard " + std::to_string(claim.owner()));
        return;
      }
      *want_leases_[claim.owner()].add_dedup_key_claims() = std::move(claim);
    }
    claimed_[shard] = true;
    if (!ClaimsIn()) return;
    // Each owner is given the claims on its blocks; the leases stay until
    // every owner answered (a replacement is given its own again).
    for (uint32_t s = 0; s < count_; ++s) step->leases.emplace_back(Identity(s), want_leases_[s]);
    return;
  }
  if (stage == Stage::kDedupWants) {
    if (!ClaimsIn() || WantsIn() || wants_.count(shard)) return;
    if (c.dedup_guest_wants().owner() != shard) {
      step->status =
          Status::Internal("dedup shard " + std::to_string(shard) + " sent the wants of shard " +
                           std::to_string(c.dedup_guest_wants().owner()));
      return;
    }
    wants_[shard] = std::move(*c.mutable_dedup_guest_wants());
    if (!WantsIn()) return;
    std::vector<v1::Lease>().swap(want_leases_);  // the claims are answered
    const v1::Lease rows = RowsLease();
    for (uint32_t s = 0; s < count_; ++s) step->leases.emplace_back(Identity(s), rows);
    return;
  }
  // Rows taken: round 1 once every shard has its rows.
  if (!WantsIn() || PreRoundDone() || took_rows_.count(shard)) return;
  took_rows_[shard] = true;
  if (!PreRoundDone()) return;
  for (uint32_t s = 0; s < count_; ++s) {
    step->leases.emplace_back(Identity(s), RoundLease(id_, epoch_, 1));
  }
}

v1::Lease DedupShards::Round2() const {
  v1::Lease lease = RoundLease(id_, epoch_, 2);
  for (const auto& [s, b] : blocks_) *lease.add_dedup_blocks() = b;
  return lease;
}

v1::Lease DedupShards::Round3() const {
  v1::Lease lease = RoundLease(id_, epoch_, 3);
  for (const auto& [s, b] : blocks_) *lease.add_dedup_blocks() = b;
  for (const auto& [s, p] : patterns_) *lease.add_dedup_patterns() = p;
  return lease;
}

v1::Lease DedupShards::Round4(uint32_t shard) const {
  v1::Lease lease = RoundLease(id_, epoch_, 4);
  // Every shard's round-1 counts: each shard derives every shard's output
  // batch count from them (the loader's self-references need them all).
  for (const auto& [s, b] : blocks_) *lease.add_dedup_blocks() = b;
  v1::DedupEdges all;
  all.ParseFromString(all_edges_);
  *lease.mutable_dedup_edges() = EdgeRoutes(ShardMap(count_, 0), all).For(shard);
  return lease;
}

DedupShards::Step DedupShards::OnCommit(v1::Commit&& c, Ledger* ledger) {
  Step step;
  const uint32_t shard = c.dedup_shard();
  const std::optional<Stage> stage = StageNamed(c.stage());
  if (c.epoch() != epoch_ || epoch_ == 0 || shard >= count_) return step;  // stale or stray
  auto to_all = [&](const v1::Lease& lease) {
    for (uint32_t s = 0; s < count_; ++s) step.leases.emplace_back(Identity(s), lease);
  };
  if (stage == Stage::kDedupClaims || stage == Stage::kDedupWants || stage == Stage::kDedupGuests) {
    if (preround_) OnPreRound(shard, c, &step);
    return step;
  }
  if (stage == Stage::kDedupBlocks) {
    // Round 2 already sent, or a summary made before every shard had its rows.
    if (blocks_.size() == count_ || !PreRoundDone()) return step;
    blocks_[shard] = c.dedup_blocks();
    if (blocks_.size() == count_) to_all(Round2());
    return step;
  }
  if (stage == Stage::kDedupPatterns) {
    if (blocks_.size() < count_ || patterns_.size() == count_) return step;
    patterns_[shard] = c.dedup_patterns();
    // Every shard's counts to every shard: each sums them and runs EM.
    if (patterns_.size() == count_) to_all(Round3());
    return step;
  }
  if (stage == Stage::kDedupEdges) {
    if (patterns_.size() < count_ || edges_sent_) return step;
    edges_[shard] = std::move(*c.mutable_dedup_edges());
    if (edges_.size() < count_) return step;
    // Edges are the largest thing the coordinator relays: moved into one
    // list, kept serialized for a replacement, and each shard sent its own
    // view (edge_routes.h): every edge, the detail only where it is read.
    v1::DedupEdges all;
    for (auto& [s, e] : edges_) {
      for (v1::DedupEdge& edge : *e.mutable_edges()) *all.add_edges() = std::move(edge);
    }
    edges_.clear();
    all_edges_ = all.SerializeAsString();
    edges_sent_ = true;
    // Taken apart into the views: they are the only parsed copy.
    std::vector<v1::DedupEdges> views = RouteEdges(ShardMap(count_, 0), std::move(all));
    for (uint32_t s = 0; s < count_; ++s) {
      v1::Lease lease = RoundLease(id_, epoch_, 4);
      for (const auto& [t, b] : blocks_) *lease.add_dedup_blocks() = b;
      *lease.mutable_dedup_edges() = std::move(views[s]);
      step.leases.emplace_back(Identity(s), std::move(lease));
    }
    return step;
  }
  if (stage != Stage::kDedupResolve || !resolutions_ || resolutions_->AllResolved() ||
      resolutions_->Resolved(shard)) {
    return step;
  }
  // A shard's resolution arrives in parts (resolve_parts.h), written aside
  // as they come; each shard accounts for the records it owns:
  // in = out + fates.
  Result<bool> whole = resolutions_->Take(shard, c);
  if (!whole.ok() || !*whole) {
    step.status = whole.status();
    return step;
  }
  step.status = ledger->ApplyResolution(BatchName(c.batch()), resolutions_->TakeDigest(shard));
  if (!step.status.ok() || !resolutions_->AllResolved()) return step;
  outputs_.clear();
  output_shards_.clear();
  for (uint32_t s = 0; s < count_; ++s) {
    AddOutputIds(s, resolutions_->Counts(s).out(), &outputs_);
    output_shards_.resize(outputs_.size(), s);
  }
  step.resolved = true;
  return step;
}

Status DedupShards::EmitResolution(const std::function<Status(v1::Commit&&)>& take) {
  if (!resolutions_) return Status::FailedPrecondition("no dedup resolve under way");
  SLUICE_RETURN_IF_ERROR(resolutions_->Emit("dedup/resolve", epoch_, part_bytes_, take));
  // Recorded: what waited on disk goes; the counts stay for Redrive.
  resolutions_->RemoveFiles();
  return Status::Ok();
}

DedupShards::Leases DedupShards::Redrive(uint32_t shard, std::vector<v1::BatchId>* resend) const {
  Leases leases;
  if (epoch_ == 0 || shard >= count_) return leases;
  // A replacement redoes the earlier rounds from its log, then answers the
  // round it owes; a round it already answered is relayed to it with the
  // next one.
  if (!PreRoundDone()) {
    if (!ClaimsIn()) {
      if (!claimed_.count(shard))
        leases.emplace_back(Identity(shard), RoundLease(id_, epoch_, kClaimRound));
    } else if (!WantsIn()) {
      if (!wants_.count(shard)) leases.emplace_back(Identity(shard), want_leases_.at(shard));
    } else {
      leases.emplace_back(Identity(shard), RowsLease());  // its rows died with it
    }
    return leases;
  }
  // Rounds 1-3 compare: the rows it took first (round 4 needs none).
  if (preround_ && !edges_sent_) leases.emplace_back(Identity(shard), RowsLease());
  if (blocks_.size() < count_) {
    if (!blocks_.count(shard)) leases.emplace_back(Identity(shard), RoundLease(id_, epoch_, 1));
    return leases;
  }
  if (patterns_.size() < count_) {
    if (!patterns_.count(shard)) leases.emplace_back(Identity(shard), Round2());
    return leases;
  }
  if (!edges_sent_) {
    if (!edges_.count(shard)) leases.emplace_back(Identity(shard), Round3());
    return leases;
  }
  if (!Resolved(shard)) {
    leases.emplace_back(Identity(shard), Round4(shard));
    return leases;
  }
  // It resolved, and may have died before emitting all its batches.
  if (auto rebuild = RebuildLease(shard, epoch_)) leases.emplace_back(Identity(shard), *rebuild);
  if (resend != nullptr) AddOutputIds(shard, resolutions_->Counts(shard).out(), resend);
  return leases;
}

DedupShards::Leases DedupShards::MemberRoundAgain(uint32_t except) const {
  Leases leases;
  if (epoch_ != 0 && preround_ && WantsIn() && !PreRoundDone()) {
    // They may be waiting for rows at its old endpoint.
    for (uint32_t s = 0; s < count_; ++s) {
      if (s != except && !took_rows_.count(s)) leases.emplace_back(Identity(s), RowsLease());
    }
    return leases;
  }
  if (epoch_ == 0 || !edges_sent_) return leases;
  for (uint32_t s = 0; s < count_; ++s) {
    if (s != except && !Resolved(s)) leases.emplace_back(Identity(s), Round4(s));
  }
  return leases;
}

void DedupShards::FillPeers(const std::vector<std::string>& endpoints, v1::Lease* lease) {
  lease->clear_dedup_peers();
  for (const std::string& e : endpoints) lease->add_dedup_peers(e);
}

void DedupShards::AddOutputIds(uint32_t shard, uint64_t out, std::vector<v1::BatchId>* ids) const {
  const uint64_t batches = (out + batch_size_ - 1) / batch_size_;
  for (uint64_t seq = 0; seq < batches; ++seq) {
    v1::BatchId id = id_;
    id.set_source("dedup/" + std::to_string(shard));
    id.set_sequence(seq);
    ids->push_back(id);
  }
}

std::optional<v1::Lease> DedupShards::RebuildLease(uint32_t shard, uint64_t epoch) const {
  if (!edges_sent_ || shard >= count_) return std::nullopt;
  v1::Lease lease = Round4(shard);
  lease.set_epoch(epoch);
  lease.set_dedup_rebuild(true);
  return lease;
}

}  // namespace sluice::coordination
