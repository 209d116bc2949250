// N dedup shards' resolutions on their way to one (docs/dedup.md#resolution-
// parts). Each shard's parts are checked and digested as they arrive
// (resolve_parts.h) and their items written at once to files, one per shard
// and kind, in the shard's order; once every shard has resolved, the files
// are merged in the order one shard gives and cut again into parts of
// bounded size, which the coordinator records as it records one shard's
// resolution. The coordinator holds one item per shard and kind and one part
// at a time, never a resolution: only the counts are combined in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/status.h"
#include "coordinator/ledger.h"
#include "coordinator/resolve_parts.h"
#include "sluice/v1/control.pb.h"

namespace sluice::coordination {

class ShardResolutions {
 public:
  // The default bound of a combined part, in serialized bytes (a shard's).
  static constexpr size_t kPartBytes = size_t{4} << 20;

  // `dir`: where the shards' items wait (made on demand, removed by
  // RemoveFiles(); empty: a folder of its own under the system's temporary
  // one); `shards`: how many resolutions make the whole.
  ShardResolutions(std::string dir, uint32_t shards);
  ~ShardResolutions();
  ShardResolutions(const ShardResolutions&) = delete;
  ShardResolutions& operator=(const ShardResolutions&) = delete;

  // Takes the next part of shard `shard`'s resolution; a part 0 starts that
  // shard's resolution over (a replacement answers round 4 again) and a
  // part of an already resolved shard is refused. Returns true once `part`
  // was the shard's last. Corruption as ResolveParts::Take; IoError when
  // its items cannot be written.
  Result<bool> Take(uint32_t shard, const v1::Commit& part);
  // Shard `shard`'s digest (for the ledger), once it has resolved; taken once.
  ResolutionDigest TakeDigest(uint32_t shard);
  // Whether shard `shard` has resolved, and its counts once it has.
  bool Resolved(uint32_t shard) const;
  const v1::StageCounts& Counts(uint32_t shard) const;
  // Whether every shard has resolved.
  bool AllResolved() const;

  // Once every shard has resolved: their resolutions as one, under shard
  // 0's batch with source `source` and `epoch`, in parts of at most `part_bytes` (at least one item
  // each) passed to `take` in order. The parts hold the fates by (source,
  // key), the match decisions by their pair, the review items by their keys
  // (pairs before the others) and the golden records by survivor, ties in
  // shard order: what sorting the shards' lists joined in shard order gives,
  // as each shard sends its lists so sorted. The last part carries the
  // summed counts, the match summary and the totals. Stops at the first
  // error of `take`; IoError when the items cannot be read back.
  Status Emit(const std::string& source, uint64_t epoch, size_t part_bytes,
              const std::function<Status(v1::Commit&&)>& take);

  // Removes the files (once emitted: the counts stay).
  void RemoveFiles();
  // Forgets every shard's resolution and removes its files.
  void Clear();

  // The shards' last parts combined: counts summed, key checksums merged,
  // the match summaries summed (weight bins by floor, notes once each).
  static v1::Commit CombineCounts(const std::vector<v1::Commit>& lasts);

 private:
  struct Shard;  // one shard's resolution so far
  std::string dir_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace sluice::coordination
