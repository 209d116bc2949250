// Term-frequency adjustment (docs/dedup.md, "Term frequencies"): an exact
// agreement on a comparison the plan marks `term_frequency: true` weighs
// log2(m / tf(v)) instead of log2(m / u), tf(v) being the share of the
// entity's records (NULLs left out) whose value is v. "garcia = garcia"
// then counts less than "zbigniewski = zbigniewski".
//
// Shard-independent: each shard counts the values of its home records only
// (every record has exactly one home shard), and the counts travel with the
// comparison patterns, which the coordinator sums over the shards before the
// deciding round. The sum is the count over all the records of the entity,
// whatever the number of shards and wherever the pairs are compared.
// Internal to the deduper.
#pragma once

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "deduper/compare_pass.h"
#include "deduper/dedup.h"

namespace sluice::tf {

// The value counts of one comparison: (value hash, records), ascending, and
// the records with a value under hash 0 (ValueHash never gives 0).
using Counts = std::vector<std::pair<uint64_t, uint64_t>>;

// The indexes of the comparisons the plan marks `term_frequency: true`.
std::vector<size_t> Marked(const std::vector<compare::Comparison>& comparisons);

// Counts, for each marked comparison, the values of the records for which
// home(i) holds.
template <typename Home>
std::vector<Counts> CountValues(const compare::PairComparer& comparer,
                                const std::vector<compare::Comparison>& comparisons,
                                const std::vector<size_t>& marked, size_t records, Home home) {
  std::vector<Counts> out;
  for (size_t c : marked) {
    std::unordered_map<uint64_t, uint64_t> counts;
    for (size_t i = 0; i < records; ++i) {
      if (!home(i)) continue;
      const uint64_t h = comparer.ValueHash(i, comparisons[c].column);
      if (h != 0) {
        ++counts[h];
        ++counts[0];
      }
    }
    out.emplace_back(counts.begin(), counts.end());
    std::sort(out.back().begin(), out.back().end());
  }
  return out;
}

// The adjustment of the exact level's weight for every marked comparison,
// from the counts summed over the shards.
class Adjustment {
 public:
  Adjustment() = default;
  Adjustment(std::vector<size_t> marked, const std::vector<Counts>& summed);

  bool empty() const { return marked_.empty(); }
  // log2(u / tf(v)) summed over the marked comparisons on which the pair
  // (a, b) agrees exactly in `pattern`; `detail`, when given, receives the
  // adjustment per comparison (0 where none applies), indexed like the
  // comparisons.
  double Of(const compare::PairComparer& comparer,
            const std::vector<compare::Comparison>& comparisons, uint64_t pattern, size_t a,
            std::vector<double>* detail = nullptr) const;

 private:
  std::vector<size_t> marked_;
  std::vector<std::unordered_map<uint64_t, uint64_t>> counts_;
  std::vector<uint64_t> total_;
};

}  // namespace sluice::tf
