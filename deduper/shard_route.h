// Routing of records to dedup shards (docs/dedup.md#scale-out): a record
// goes to its home shard and to the owner of the block of each of its
// blocking keys, so that a shard holds its home records and every member of
// the blocks it owns, and nothing else.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/core/record.h"
#include "common/core/status.h"
#include "common/plan/plan.h"
#include "deduper/shard_map.h"

namespace sluice {

// Which dedup shards must hold a record: its home, and the owner of the
// block of each of its blocking keys. The keys are exactly those the
// matcher blocks on (fuzzy: the plan's key, then the blocking rules; exact:
// the key hash), oversize blocks included: their owner must count them.
class ShardRouter {
 public:
  // No dedup spec for `entity`, or one shard: home only. Fails with
  // InvalidArgument (YAML path) when the spec names fields `schema` lacks.
  static Result<ShardRouter> Create(const Plan& plan, const std::string& entity,
                                    const Schema& schema, const ShardMap& shards);
  // The same for a dedup spec (none: home only).
  static Result<ShardRouter> ForSpec(const DedupSpec* spec, const Schema& schema,
                                     const ShardMap& shards);

  // Per shard (index = shard ordinal, size shards.count()): the indexes of
  // `records` it must receive, ascending.
  std::vector<std::vector<uint32_t>> Route(const std::vector<Record>& records) const;

  // The batch each shard receives of `batch` (index = shard ordinal): with
  // a fuzzy spec on N > 1 shards (docs/dedup.md#guest-rows), its home
  // records whole and, in `guest_rows`, the guest row of every record whose
  // home is elsewhere and one of whose blocks it owns; otherwise every
  // record Route gives it, whole. `positions` are set, ids copied; a shard
  // may receive an empty batch.
  std::vector<RecordBatch> Split(const RecordBatch& batch) const;

  // Guests by request (docs/dedup.md#guests-by-request): Split gives each
  // shard its home records only, whole and unfolded (the shard folds its
  // home rows as one shard does); the rows a block owner
  // needs travel in the pre-round (DedupShard::ClaimBlocks .. TakeGuests),
  // only for blocks that hold two records or more. Off by default (the
  // in-process tests and `bench/dedup_scale --guests ingest` route guests
  // at ingest); the transformer turns it on, and the coordinator relays the
  // pre-round of a fuzzy spec on N > 1 shards.
  void set_guests_by_request(bool on) { guests_by_request_ = on; }

 private:
  struct Folder;  // the comparer that folds guest rows (shard_route.cc)
  ShardMap shards_;
  Schema schema_;
  bool blocked_ = false;  // a spec: blocking keys route too
  bool fuzzy_ = false;
  bool guests_by_request_ = false;
  DedupSpec spec_;
  std::vector<BlockingRule> rules_;       // fuzzy: the rules the matcher blocks on
  std::shared_ptr<const Folder> folder_;  // fuzzy on N > 1 shards
  // Per rule, per record of `records`: the blocking keys (fuzzy or exact).
  std::vector<std::vector<uint64_t>> Keys(const std::vector<Record>& records) const;
};

}  // namespace sluice
