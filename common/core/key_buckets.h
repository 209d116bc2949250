// Key buckets (issue 18, docs/delta.md): the keys of a source cut into
// buckets by their KeyHash, each summarised by the sum of its KeyHashes, so
// that a source's key set and the keys the target holds for it are compared
// bucket by bucket and only the keys of the buckets that differ are sent.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/core/hash.h"

namespace sluice {

// The stage of an extractor's answer to a key scan (extractor/key_scan.h):
// not a ledger stage, it moves no record.
inline constexpr char kScanKeysStage[] = "scan_keys";

// Buckets of a comparison: enough that one deleted key costs the keys of
// 1/1024th of the source, few enough to travel in one lease. The fewest a
// scan uses; KeyBucketsFor gives more to a larger key set.
inline constexpr uint32_t kKeyBuckets = 1024;
// The most a scan uses: 2 MiB of sums in its lease.
inline constexpr uint32_t kMaxKeyBuckets = uint32_t{1} << 18;

// The buckets a scan of `keys` known keys uses: about 8 keys a bucket,
// between kKeyBuckets and kMaxKeyBuckets. With a fixed 1,024, a nightly 1%
// of inserted and deleted keys (5,000 of 1M) touched every bucket, and the
// extractor sent back every key of the source.
inline uint32_t KeyBucketsFor(uint64_t keys) {
  const uint64_t wanted = keys / 8;
  if (wanted <= kKeyBuckets) return kKeyBuckets;
  return wanted >= kMaxKeyBuckets ? kMaxKeyBuckets : static_cast<uint32_t>(wanted);
}

// The bucket of a key's hash, below `buckets`.
inline uint32_t KeyBucketOf(uint64_t key_hash, uint32_t buckets) {
  return static_cast<uint32_t>(key_hash % buckets);
}

// Per bucket, the sum of KeyHash(source, key) of the keys added.
class KeyBuckets {
 public:
  explicit KeyBuckets(uint32_t buckets = kKeyBuckets) : sums_(buckets, 0) {}
  // Adds a key; returns its bucket.
  uint32_t Add(std::string_view source, std::string_view key) {
    const uint64_t h = KeyHash(source, key);
    const uint32_t b = KeyBucketOf(h, static_cast<uint32_t>(sums_.size()));
    sums_[b] += h;
    return b;
  }
  const std::vector<uint64_t>& sums() const { return sums_; }

 private:
  std::vector<uint64_t> sums_;
};

}  // namespace sluice
