// The values of the records a single dedup shard holds by name
// (docs/dedup.md#one-shards-memory): each record's values encoded once in
// their canonical form (EncodeCanonical: about 0.12 KB a record for the
// consolidation plan's ten fields, against about 0.5 KB held as a vector of
// Values), back to back in 1 MiB chunks, and decoded where a resolution
// needs them whole (the members of clusters, the output). Given a spill,
// full chunks are written there and read back by pread. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/core/status.h"
#include "common/core/value.h"
#include "deduper/packed_messages.h"

namespace sluice {

class PackedValues {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;  // a record whose values are not here

  // Appends `values` (one per field of `schema`); returns their index.
  uint32_t Add(const Schema& schema, const std::vector<Value>& values) {
    buf_.clear();
    EncodeCanonical(schema, values, &buf_);
    bytes_.push_bytes(buf_);
    return static_cast<uint32_t>(bytes_.size() - 1);
  }
  // The values at `i`, decoded through `schema`.
  Result<std::vector<Value>> Get(const Schema& schema, uint32_t i) const {
    if (i >= bytes_.size()) return Status::Internal("packed values: no item " + std::to_string(i));
    return DecodeCanonical(schema, bytes_.bytes(i));
  }
  size_t size() const { return bytes_.size(); }
  // From now on, full chunks go to `spill`; null: held in memory.
  void SpillTo(std::shared_ptr<PackedSpill> spill) { bytes_.SpillTo(std::move(spill)); }
  // Lets go of every item and its memory.
  void Clear() {
    bytes_.clear();
    std::string().swap(buf_);
  }

 private:
  PackedBytes bytes_;
  std::string buf_;  // one record's encoding, reused
};

}  // namespace sluice
