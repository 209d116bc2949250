// Where a resolution's packed messages (packed_messages.h) go once a chunk
// is full, so that a resolution of millions of records does not hold its
// fates, decisions, review items and golden records in memory until they
// are sent (docs/dedup.md#one-shards-memory): an unnamed file in the
// shard's own state folder, gone when the last list using it lets go.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sluice {

class PackedSpill {
 public:
  // A spill into `dir` (the shard log's folder). No file is made until the
  // first Append.
  explicit PackedSpill(std::string dir) : dir_(std::move(dir)) {}
  ~PackedSpill();
  PackedSpill(const PackedSpill&) = delete;
  PackedSpill& operator=(const PackedSpill&) = delete;

  // Appends `bytes`; returns the offset they start at, or UINT64_MAX when
  // the file cannot be made or written (the caller keeps them in memory).
  uint64_t Append(std::string_view bytes);
  // Reads up to `max` bytes at `at` into `out` (at least `min` of them);
  // false when the file cannot be read.
  bool Read(uint64_t at, size_t min, size_t max, std::string* out) const;
  // Bytes written so far.
  uint64_t size() const { return size_; }

 private:
  std::string dir_;
  int fd_ = -1;
  bool failed_ = false;  // no file could be made: nothing spills
  uint64_t size_ = 0;
};

}  // namespace sluice
