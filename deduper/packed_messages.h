// Protocol messages of one kind held serialized, back to back, for a
// resolution's fates, decisions, review items and golden records until they
// are sent (docs/dedup.md#sizing). A parsed v1::MatchDecision with its
// comparisons takes about 1.5 KB of heap in many small allocations, its
// serialized form about 0.5 KB; a golden record 2.2 KB against 0.45 KB.
// Items are read back by value (parsed); the order can be changed without
// moving the bytes. Given a PackedSpill (SpillTo), every full chunk is
// written there and let go of, and items are read back from the file: the
// memory then holds one chunk and an index entry (12 bytes) per item. Not
// thread-safe, reads included (they share a read buffer).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "deduper/packed_spill.h"

namespace sluice {

// Items of bytes held back to back in 1 MiB chunks (PackedMessages' store,
// and PackedValues' in packed_values.h).
class PackedBytes {
 public:
  size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }

  // From now on, full chunks go to `spill` (shared by the lists of one
  // resolution); null: everything stays in memory.
  void SpillTo(std::shared_ptr<PackedSpill> spill) { spill_ = std::move(spill); }

  // Appends an item of `n` bytes, written by fill(char* at).
  template <typename Fill>
  void Append(size_t n, Fill fill) {
    if (chunks_.empty() || chunks_.back().capacity() - chunks_.back().size() < n) {
      if (!chunks_.empty()) Spill(chunks_.size() - 1);
      chunks_.emplace_back().reserve(std::max(n, kChunk));
      spilled_at_.push_back(kInMemory);
    }
    std::string& c = chunks_.back();
    const size_t at = c.size();
    c.resize(at + n);
    fill(c.data() + at);
    index_.push_back({static_cast<uint32_t>(chunks_.size() - 1), static_cast<uint32_t>(at),
                      static_cast<uint32_t>(n)});
  }
  void push_bytes(std::string_view b) {
    Append(b.size(), [&](char* at) { std::copy(b.begin(), b.end(), at); });
  }

  // Item i's bytes.
  // A spilled item's view is valid until the next read.
  std::string_view bytes(size_t i) const {
    const Item& it = index_[i];
    if (spilled_at_[it.chunk] == kInMemory) {
      return std::string_view(chunks_[it.chunk]).substr(it.offset, it.size);
    }
    const uint64_t at = spilled_at_[it.chunk] + it.offset;
    if (at < read_at_ || at + it.size > read_at_ + read_.size()) {
      // Read in order (as fates are), an item follows the last read: read
      // ahead a window; so does one a little past it (packed values read
      // in canonical order skip other sources' records); out of order, the
      // item alone.
      const uint64_t end = read_at_ + read_.size();
      const bool in_order = at >= end && at - end < kReadAhead;
      if (!spill_->Read(at, it.size, in_order ? std::max<size_t>(it.size, kReadAhead) : it.size,
                        &read_)) {
        std::fprintf(stderr, "packed messages: cannot read back %u bytes at %llu of the spill\n",
                     it.size, static_cast<unsigned long long>(at));
        std::abort();
      }
      read_at_ = at;
    }
    return std::string_view(read_).substr(at - read_at_, it.size);
  }

  // Reorders the items: item j is then the item `order[j]` was.
  void Permute(const std::vector<uint32_t>& order) {
    std::vector<Item> next;
    next.reserve(order.size());
    for (uint32_t i : order) next.push_back(index_[i]);
    index_ = std::move(next);
  }
  // Stable sort of the items [from, size()) by less(i, j) on item positions.
  template <typename Less>
  void StableSortFrom(size_t from, Less less) {
    std::vector<uint32_t> order(size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin() + from, order.end(), less);
    Permute(order);
  }

  // Lets go of every item and its memory.
  void clear() {
    std::vector<std::string>().swap(chunks_);
    std::vector<uint64_t>().swap(spilled_at_);
    std::vector<Item>().swap(index_);
    std::string().swap(read_);
    read_at_ = 0;
    spill_.reset();
  }

 private:
  static constexpr size_t kChunk = size_t{1} << 20;
  static constexpr size_t kReadAhead = size_t{256} << 10;
  static constexpr uint64_t kInMemory = UINT64_MAX;
  struct Item {
    uint32_t chunk, offset, size;
  };
  // Writes chunk c to the spill, if any, and lets go of its memory; it
  // stays in memory when the spill cannot take it.
  void Spill(size_t c) {
    if (!spill_ || spilled_at_[c] != kInMemory) return;
    const uint64_t at = spill_->Append(chunks_[c]);
    if (at == kInMemory) return;
    spilled_at_[c] = at;
    std::string().swap(chunks_[c]);
  }
  std::vector<std::string> chunks_;
  std::vector<uint64_t> spilled_at_;  // per chunk: its offset in the spill, or kInMemory
  std::vector<Item> index_;
  std::shared_ptr<PackedSpill> spill_;
  mutable std::string read_;  // spilled bytes read back, from read_at_
  mutable uint64_t read_at_ = 0;
};

// Reads a list's items by value (its operator[]), in order.
template <typename List, typename T>
class ByValueIterator {
 public:
  ByValueIterator(const List* p, size_t i) : p_(p), i_(i) {}
  T operator*() const { return (*p_)[i_]; }
  ByValueIterator& operator++() {
    ++i_;
    return *this;
  }
  bool operator!=(const ByValueIterator& o) const { return i_ != o.i_; }
  bool operator==(const ByValueIterator& o) const { return i_ == o.i_; }

 private:
  const List* p_;
  size_t i_;
};

template <typename T>
class PackedMessages : public PackedBytes {
 public:
  // Appends `m` serialized.
  void push_back(const T& m) {
    Append(m.ByteSizeLong(),
           [&](char* at) { m.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(at)); });
  }
  // Item i parsed.
  T operator[](size_t i) const {
    T m;
    const std::string_view b = bytes(i);
    m.ParseFromArray(b.data(), static_cast<int>(b.size()));
    return m;
  }

  using const_iterator = ByValueIterator<PackedMessages, T>;
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }
};

}  // namespace sluice
