// The cluster guardrails (guardrails.h): a chain through a decisive
// disagreement is cut at its weakest link; other clusters are untouched.
#include "deduper/guardrails.h"

#include <gtest/gtest.h>

namespace sluice::dedup_internal {
namespace {

std::vector<Record> Records(size_t n) {
  std::vector<Record> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i].source = "crm";
    out[i].key = std::to_string(i);
  }
  return out;
}

MatchEdge Link(size_t a, size_t b, double score, Band band = Band::kMerge) {
  MatchEdge e;
  e.a = a;
  e.b = b;
  e.band = band;
  e.scored = true;
  e.score = score;
  e.rule = "fellegi_sunter";
  return e;
}

MatchEdge Apart(size_t a, size_t b, const std::string& rule) {
  MatchEdge e;
  e.a = a;
  e.b = b;
  e.band = Band::kDistinct;
  e.rule = rule;
  e.detail = "national_id=different luhn:-4.75";
  return e;
}

TEST(CutChains, SplitsAChainAtItsWeakestLink) {
  // 0 - 1 (40) - 2 (15) - 3 (30); 0 and 3 have two valid, different ids.
  const std::vector<MatchEdge> edges = {Link(0, 1, 40), Link(1, 2, 15), Link(2, 3, 30),
                                        Apart(0, 3, "decisive:national_id")};
  const ChainCuts cuts = CutChains(Records(4), edges);
  EXPECT_EQ(cuts.cut[0], "");
  EXPECT_EQ(cuts.cut[1],
            "split: the weakest link of a chain between crm:0 and crm:3, kept apart by "
            "decisive:national_id (national_id=different luhn:-4.75)");
  EXPECT_EQ(cuts.cut[2], "");
  EXPECT_EQ(cuts.binding[3], 1);
}

TEST(CutChains, CutsReviewLinksBeforeMergeLinksAndLeavesOtherClustersAlone) {
  const std::vector<MatchEdge> edges = {Link(0, 1, 9, Band::kReview), Link(1, 2, 20),
                                        Apart(0, 2, "born_apart"), Link(3, 4, 50),
                                        Apart(5, 6, "born_apart")};  // 5 and 6 never linked
  const ChainCuts cuts = CutChains(Records(7), edges);
  EXPECT_NE(cuts.cut[0], "");
  EXPECT_EQ(cuts.cut[1], "");
  EXPECT_EQ(cuts.cut[3], "");
  EXPECT_EQ(cuts.binding[2], 1);
  EXPECT_EQ(cuts.binding[4], 0);  // nothing to keep apart: not recorded
}

TEST(CutChains, ADirectLinkBetweenRecordsKeptApartIsCut) {
  const std::vector<MatchEdge> edges = {Link(0, 1, 30), Apart(0, 1, "steward")};
  const ChainCuts cuts = CutChains(Records(2), edges);
  EXPECT_NE(cuts.cut[0].find("kept apart by steward"), std::string::npos);
}

}  // namespace
}  // namespace sluice::dedup_internal
