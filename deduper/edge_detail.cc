#include "deduper/edge_detail.h"

#include <cstdio>

#include "deduper/dedup.h"

namespace sluice {

bool EdgeDetailWriter::CountedWithPartner(uint64_t pattern, size_t c) const {
  const Comparison& cmp = comparisons_[c];
  if (cmp.crosswise_partner < 0) return false;
  const Comparison& partner = comparisons_[cmp.crosswise_partner];
  return LevelOf(pattern, c) == cmp.crosswise_level &&
         LevelOf(pattern, cmp.crosswise_partner) == partner.crosswise_level;
}

std::string EdgeDetailWriter::Write(uint64_t pattern, const std::vector<double>& adjust) const {
  std::string out;
  for (size_t c = 0; c < comparisons_.size(); ++c) {
    const Comparison& cmp = comparisons_[c];
    const int l = LevelOf(pattern, c);
    const bool null = l == cmp.levels;
    const bool shared = !null && CountedWithPartner(pattern, c);
    const double w = null || shared ? 0.0 : cmp.weight[l];
    const double a = c < adjust.size() ? adjust[c] : 0.0;
    char buf[200];
    if (a != 0) {
      // The label carries the adjustment (trace and review show it), the
      // weight is the adjusted one.
      std::snprintf(buf, sizeof buf, "%s%s=%s, term frequency %+.2f:%+.2f", c > 0 ? "; " : "",
                    cmp.name.c_str(), cmp.labels[l].c_str(), a, w + a);
    } else {
      const std::string label =
          null ? "null"
               : cmp.labels[l] +
                     (shared ? " (counted with " + comparisons_[cmp.crosswise_partner].name + ")"
                             : "");
      std::snprintf(buf, sizeof buf, "%s%s=%s:%+.2f", c > 0 ? "; " : "", cmp.name.c_str(),
                    label.c_str(), w);
    }
    out += buf;
  }
  return out;
}

std::string EdgeDetailWriter::WriteMarked(uint64_t pattern, const double* marked_adjust) const {
  std::vector<double> adjust(comparisons_.size(), 0.0);
  for (size_t k = 0; k < marked_.size(); ++k) adjust[marked_[k]] = marked_adjust[k];
  return Write(pattern, adjust);
}

std::string MatchEdge::Detail() const {
  return writer ? writer->WriteMarked(pattern, adjust.data()) : detail;
}

}  // namespace sluice
