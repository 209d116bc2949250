// Protocol messages of one kind held serialized, back to back, for a
// resolution's fates, decisions, review items and golden records until they
// are sent (docs/dedup.md#sizing). A parsed v1::MatchDecision with its
// comparisons takes about 1.5 KB of heap in many small allocations, its
// serialized form about 0.5 KB; a golden record 2.2 KB against 0.45 KB.
// Items are read back by value (parsed); the order can be changed without
// moving the bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice {

template <typename T>
class PackedMessages {
 public:
  size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }

  // Appends `m` serialized.
  void push_back(const T& m) {
    const size_t n = m.ByteSizeLong();
    if (chunks_.empty() || chunks_.back().capacity() - chunks_.back().size() < n) {
      chunks_.emplace_back().reserve(std::max(n, kChunk));
    }
    std::string& c = chunks_.back();
    const size_t at = c.size();
    c.resize(at + n);
    m.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(c.data() + at));
    index_.push_back({static_cast<uint32_t>(chunks_.size() - 1), static_cast<uint32_t>(at),
                      static_cast<uint32_t>(n)});
  }

  // Item i serialized, and parsed.
  std::string_view bytes(size_t i) const {
    const Item& it = index_[i];
    return std::string_view(chunks_[it.chunk]).substr(it.offset, it.size);
  }
  T operator[](size_t i) const {
    T m;
    const std::string_view b = bytes(i);
    m.ParseFromArray(b.data(), static_cast<int>(b.size()));
    return m;
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
    std::vector<Item>().swap(index_);
  }

  class const_iterator {
   public:
    const_iterator(const PackedMessages* p, size_t i) : p_(p), i_(i) {}
    T operator*() const { return (*p_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const const_iterator& o) const { return i_ != o.i_; }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    const PackedMessages* p_;
    size_t i_;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }

 private:
  static constexpr size_t kChunk = size_t{1} << 20;
  struct Item {
    uint32_t chunk, offset, size;
  };
  std::vector<std::string> chunks_;
  std::vector<Item> index_;
};

}  // namespace sluice
