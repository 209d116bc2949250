// The detail of a scored edge ("first_name=exact, term frequency
// -1.20:+4.81; last_name=jw>=0.92:+6.10; ..."): each comparison's level and
// weight. The fuzzy matcher keeps a scored edge's comparison pattern and
// term-frequency adjustments, not its text (a heap string per edge, and a
// run at 8M records holds millions of edges through clustering): the text
// is written from them when a decision, a review item or a round-4 edge
// asks for it (MatchEdge::Detail), by the writer the matcher leaves behind
// with the estimated weights (docs/dedup.md#one-shards-memory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice {

class EdgeDetailWriter {
 public:
  // What the text needs of one comparison (compare::Comparison).
  struct Comparison {
    std::string name;
    std::vector<std::string> labels;  // per level
    std::vector<double> weight;       // per level
    int levels = 0;
    uint64_t radix = 1;  // of its level in a pattern
    int crosswise_level = -1;
    int crosswise_partner = -1;
  };

  EdgeDetailWriter(std::vector<Comparison> comparisons, std::vector<size_t> marked)
      : comparisons_(std::move(comparisons)), marked_(std::move(marked)) {}

  // The comparisons with term frequencies, whose adjustments an edge keeps
  // (in this order).
  const std::vector<size_t>& marked() const { return marked_; }

  // The text of a pair with `pattern` and, per comparison, its term-frequency
  // adjustment (0: none).
  std::string Write(uint64_t pattern, const std::vector<double>& adjust) const;
  // The same with the adjustments of the marked comparisons only.
  std::string WriteMarked(uint64_t pattern, const double* marked_adjust) const;

 private:
  int LevelOf(uint64_t pattern, size_t c) const {
    return static_cast<int>((pattern / comparisons_[c].radix) % (comparisons_[c].levels + 1));
  }
  // compare::PairComparer::CountedWithPartner.
  bool CountedWithPartner(uint64_t pattern, size_t c) const;

  std::vector<Comparison> comparisons_;
  std::vector<size_t> marked_;
};

}  // namespace sluice
