// The codes of a comparison pass's candidate pairs, in pair order (the rule
// that decided a pair, or its comparison pattern: compare_pass.h), held
// between the pass that compares them and the one that decides them.
//
// A run has far fewer distinct codes (its rules, and the patterns that
// occur) than pairs, so each pair holds
// the index of its code among the distinct ones: 2 bytes while there are at
// most 65,536 of them, 4 bytes beyond (the indexes are widened once), where
// the code itself took 8 (docs/dedup.md#one-shards-memory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace sluice::compare {

class PairCodes {
 public:
  void Add(uint64_t code) {
    if (size() == 0 || code != last_code_) {
      auto [it, fresh] = ids_.try_emplace(code, static_cast<uint32_t>(distinct_.size()));
      if (fresh) {
        distinct_.push_back(code);
        if (!wide_ && distinct_.size() > kNarrow) Widen();
      }
      last_code_ = code;
      last_id_ = it->second;
    }
    if (wide_) {
      wide_ids_.push_back(last_id_);
    } else {
      narrow_ids_.push_back(static_cast<uint16_t>(last_id_));
    }
  }

  // The code of pair i (in the order they were added).
  uint64_t operator[](size_t i) const { return distinct_[wide_ ? wide_ids_[i] : narrow_ids_[i]]; }
  size_t size() const { return wide_ ? wide_ids_.size() : narrow_ids_.size(); }
  size_t distinct() const { return distinct_.size(); }
  // Bytes held per pair: 2, or 4 once widened.
  size_t bytes_per_pair() const { return wide_ ? 4 : 2; }

  // Lets go of everything, buffers included.
  void Release() { *this = PairCodes(); }

 private:
  static constexpr size_t kNarrow = size_t{1} << 16;

  void Widen() {
    wide_ids_.reserve(narrow_ids_.capacity());
    wide_ids_.assign(narrow_ids_.begin(), narrow_ids_.end());
    std::vector<uint16_t>().swap(narrow_ids_);
    wide_ = true;
  }

  bool wide_ = false;
  std::vector<uint16_t> narrow_ids_;
  std::vector<uint32_t> wide_ids_;
  std::vector<uint64_t> distinct_;
  std::unordered_map<uint64_t, uint32_t> ids_;
  uint64_t last_code_ = 0;
  uint32_t last_id_ = 0;
};

}  // namespace sluice::compare
