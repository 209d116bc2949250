#include "deduper/term_frequency.h"

#include <cmath>

namespace sluice::tf {

std::vector<size_t> Marked(const std::vector<compare::Comparison>& comparisons) {
  std::vector<size_t> out;
  for (size_t c = 0; c < comparisons.size(); ++c) {
    if (comparisons[c].spec->term_frequency) out.push_back(c);
  }
  return out;
}

Adjustment::Adjustment(std::vector<size_t> marked, const std::vector<Counts>& summed)
    : marked_(std::move(marked)) {
  counts_.resize(marked_.size());
  total_.assign(marked_.size(), 0);
  for (size_t k = 0; k < marked_.size() && k < summed.size(); ++k) {
    for (const auto& [hash, count] : summed[k]) {
      if (hash == 0) {
        total_[k] = count;
      } else {
        counts_[k].emplace(hash, count);
      }
    }
  }
}

double Adjustment::Of(const compare::PairComparer& comparer,
                      const std::vector<compare::Comparison>& comparisons, uint64_t pattern,
                      size_t a, std::vector<double>* detail) const {
  double sum = 0;
  for (size_t k = 0; k < marked_.size(); ++k) {
    const compare::Comparison& cmp = comparisons[marked_[k]];
    if (comparer.LevelOf(pattern, marked_[k]) != 0 || total_[k] == 0) continue;
    auto it = counts_[k].find(comparer.ValueHash(a, cmp.column));
    if (it == counts_[k].end()) continue;
    // Two records hold the value: its share is at least 2 / total.
    const double share =
        std::max<double>(it->second, 2) / static_cast<double>(std::max<uint64_t>(total_[k], 2));
    const double adjust = std::log2(cmp.u[0] / share);
    sum += adjust;
    if (detail) (*detail)[marked_[k]] = adjust;
  }
  return sum;
}

}  // namespace sluice::tf
