// A set of target ids (the rows of an entity's table), small at any scale:
// a bit per id for the dense ids the targets hand out (SQLite's rowids,
// PostgreSQL's bigserial), a hash set for any id beyond them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <unordered_set>
#include <vector>

namespace sluice {

// Not thread-safe.
class TargetIdSet {
 public:
  // Ids below this take a bit (32 MiB of them at most); others a hash entry.
  static constexpr int64_t kMaxDenseId = int64_t{1} << 28;

  // Adds `id`; false when it was in already.
  bool Insert(int64_t id) {
    if (id < 0 || id >= kMaxDenseId) {
      const bool added = sparse_.insert(id).second;
      size_ += added ? 1 : 0;
      return added;
    }
    const size_t word = static_cast<size_t>(id >> 6);
    if (word >= bits_.size()) {
      bits_.resize(std::min<size_t>(kMaxDenseId >> 6, std::max(word + 1, bits_.size() * 2)));
    }
    const uint64_t bit = uint64_t{1} << (id & 63);
    if ((bits_[word] & bit) != 0) return false;
    bits_[word] |= bit;
    ++size_;
    return true;
  }
  bool Contains(int64_t id) const {
    if (id < 0 || id >= kMaxDenseId) return sparse_.count(id) != 0;
    const size_t word = static_cast<size_t>(id >> 6);
    return word < bits_.size() && (bits_[word] & (uint64_t{1} << (id & 63))) != 0;
  }
  uint64_t size() const { return size_; }  // distinct ids

 private:
  std::vector<uint64_t> bits_;
  std::unordered_set<int64_t> sparse_;
  uint64_t size_ = 0;
};

}  // namespace sluice
