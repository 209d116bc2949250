// The ledger: the coordinator's accounting of every batch at every stage.
//
// Each accepted commit is checked on arrival: inside the stage,
// in = out + terminal fates (merged, rejected, review, loaded) with matching
// key checksums; across stages, a stage's input equals its upstream's output
// for the same batch. The first violation is returned as a Corruption status
// naming the batch, the stages and, when the key lists allow, the keys.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/core/hash.h"
#include "common/core/stage.h"
#include "common/core/status.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// Terminal fates of one source within one commit (or a total).
struct FateTally {
  uint64_t merged = 0, rejected = 0, review = 0, loaded = 0;
  uint64_t inserted = 0, updated = 0, unchanged = 0;
  KeyChecksum checksum;
  void Add(const FateTally& o);
};

// Totals of one (entity, source) in one wave.
struct SourceTotals {
  uint64_t extracted = 0;
  KeyChecksum extracted_checksum;
  FateTally fates;
  bool Balanced() const;
  uint64_t Accounted() const;
};

// What the ledger keeps of a dedup resolution: its counts and, by source,
// the tallies of its fates; never the decisions themselves (a resolution of
// 8M records holds gigabytes of them, recorded in the audit store).
struct ResolutionDigest {
  v1::StageCounts counts;                  // as the deduper reported them
  std::map<std::string, FateTally> fates;  // merged, rejected, review by source
  KeyChecksum checksum;                    // of every fate of the resolution
  // Adds the fates of `commit`: a whole resolution or one part of it.
  void AddFates(const v1::Commit& commit);
  // The digest of a whole resolution commit.
  static ResolutionDigest Of(const v1::Commit& resolution);
};

class Ledger {
 public:
  // Starts tracking `batch` at `epoch`, forgetting earlier commits of it from
  // `from_stage` on, within its phase (a batch leased again is accounted
  // afresh); from the dedup ingest, every shard's.
  void Lease(const std::string& batch, uint64_t epoch,
             std::optional<Stage> from_stage = std::nullopt);
  // The epoch a commit for `batch` must carry; 0 when untracked.
  uint64_t Epoch(const std::string& batch) const;
  // Whether `batch` has an accepted commit at `stage`. On N dedup shards
  // Stage::kDedupIngest means every shard's (each checked against the
  // transform).
  bool Has(const std::string& batch, Stage stage) const;
  // Whether dedup shard `shard` has an accepted ingest commit of `batch`.
  bool HasIngest(const std::string& batch, uint32_t shard) const;
  // Whether `commit` (its stage, and its dedup shard for an ingest) is
  // accepted already: a duplicate.
  bool Has(const v1::Commit& commit) const;
  // The run's number of dedup shards (default 1).
  void set_dedup_shards(uint32_t n) { dedup_shards_ = n == 0 ? 1 : n; }
  // Checks and stores a commit. Refuses (FailedPrecondition) a stale epoch,
  // and (InvalidArgument) a stage not in the pipeline (stage.h); returns
  // Corruption when conservation breaks.
  Status Apply(const v1::Commit& commit);
  Status Apply(std::shared_ptr<const v1::Commit> commit);
  // Checks and keeps the digest of the dedup resolution `name` (a
  // dedup_resolve commit's batch name): Corruption when its counts do not
  // add up (in = out + merged + rejected + review, with the key checksums).
  Status ApplyResolution(const std::string& name, ResolutionDigest digest);
  // The extraction range recorded for a batch.
  const v1::BatchRange* Range(const std::string& batch) const;

  // Entity-level check of a deduper: everything ingested came out of
  // resolution (as survivors or decisions) and the emitted output batches
  // add up to what resolution reported.
  Status CheckResolution(const std::string& entity_prefix, const std::vector<std::string>& ingest,
                         const std::vector<std::string>& output) const;

  // Totals per source over the given batches (ingest and output batches of
  // one entity): extraction from the ingest batches, fates from every stage.
  // `resolutions` names the deduper resolutions whose decisions count.
  std::map<std::string, SourceTotals> Totals(const std::vector<std::string>& batches,
                                             const std::vector<std::string>& resolutions) const;
  std::map<std::string, int64_t> DecimalSums(const std::vector<std::string>& batches) const;

 private:
  // A stage's commit within a batch: the stage, and for a dedup ingest the
  // shard that made it (0 for every other stage).
  using StageKey = std::pair<Stage, uint32_t>;
  struct StageEntry {
    uint64_t in = 0, out = 0;
    uint64_t in_checksum = 0, out_checksum = 0;
    std::map<std::string, FateTally> fates;  // by source
    // The commit itself, kept (shared, not copied) until both neighbouring
    // stages have been checked: its key lists name missing keys on a mismatch.
    std::shared_ptr<const v1::Commit> commit;
    std::map<std::string, int64_t> decimal_sums;
    std::string source;  // the batch's source (extraction)
    // A transform on N > 1 dedup shards: what it sent to each shard
    // (records, key checksum); each shard's ingest is checked against it.
    std::map<uint32_t, std::pair<uint64_t, uint64_t>> routes;
  };
  struct BatchEntry {
    uint64_t epoch = 0;
    v1::BatchRange range;
    bool has_range = false;
    std::map<StageKey, StageEntry> stages;
  };
  Status CheckPair(const std::string& batch, StageKey up_stage, const StageEntry& up,
                   StageKey stage, const StageEntry& current) const;
  // `home_shard`: only the upstream keys whose home is that dedup shard
  // must reach it (the others may go elsewhere).
  std::string NameMissing(const StageEntry& upstream, const StageEntry& current,
                          std::optional<uint32_t> home_shard = std::nullopt) const;

  // The stage that feeds `key` within a batch, if any.
  static std::optional<StageKey> UpstreamOf(StageKey key);
  // The stages fed by `key` within a batch: one per dedup shard after the
  // transform.
  std::vector<StageKey> DownstreamsOf(StageKey key) const;
  static std::string Label(StageKey key) { return StageLabel(key.first, key.second); }

  uint32_t dedup_shards_ = 1;
  std::map<std::string, BatchEntry> batches_;
  std::map<std::string, ResolutionDigest> resolutions_;  // by resolve batch name
};

}  // namespace sluice
