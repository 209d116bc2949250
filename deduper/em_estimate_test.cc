// The m/u estimate and its diagnosis (em_estimate.h), and term frequencies
// (term_frequency.h), on the generated people of shard_testing.h.
#include "deduper/em_estimate.h"

#include <gtest/gtest.h>

#include <cmath>

#include "deduper/dedup.h"
#include "deduper/shard_testing.h"

namespace sluice {
namespace {

using shard_testing::People;
using shard_testing::PersonSchema;
using shard_testing::PersonSpec;

MatchStats MatchPeople(const DedupSpec& spec, std::vector<MatchEdge>* edges = nullptr) {
  auto matcher = MakeFuzzyMatcher(spec, PersonSchema());
  EXPECT_TRUE(matcher.ok()) << matcher.status().ToString();
  std::vector<MatchEdge> out = (*matcher)->Match(PersonSchema(), People(700, 11));
  if (edges) *edges = std::move(out);
  return (*matcher)->stats();
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

TEST(EmEstimateTest, APlausiblePlanIsTrusted) {
  const MatchStats stats = MatchPeople(PersonSpec());
  EXPECT_TRUE(stats.estimate_problems.empty()) << Joined(stats.estimate_problems);
  EXPECT_TRUE(em::Verdict(PersonSpec(), stats.estimate_problems).ok());
}

// Every blocking rule blocks on last_name: its m cannot be estimated from
// the data, and the resolve must not go on with the starting guess.
TEST(EmEstimateTest, AComparisonNoRuleCanEstimateStopsTheEntity) {
  DedupSpec spec = PersonSpec();
  spec.blocking = {shard_testing::Rule("last", {{"last_name", "value", 0}})};
  const MatchStats stats = MatchPeople(spec);
  ASSERT_FALSE(stats.estimate_problems.empty());
  const std::string all = Joined(stats.estimate_problems);
  EXPECT_NE(all.find("comparison last_name: no blocking rule can estimate its m: every rule "
                     "blocks on last_name"),
            std::string::npos)
      << all;
  const Status verdict = em::Verdict(spec, stats.estimate_problems);
  EXPECT_EQ(verdict.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(verdict.message().find("dedup of person: the estimated m/u cannot be trusted"),
            std::string::npos)
      << verdict.message();
  EXPECT_NE(verdict.message().find("add a blocking rule that does not use last_name"),
            std::string::npos);
  spec.halt_on_degenerate_estimate = false;  // estimation.on_degenerate: warn
  EXPECT_TRUE(em::Verdict(spec, stats.estimate_problems).ok());
}

// A single EM round cannot converge: noted with the rule, not a halt.
TEST(EmEstimateTest, NoConvergenceIsNotedWithTheRule) {
  DedupSpec spec = PersonSpec();
  spec.em_iterations = 1;
  const MatchStats stats = MatchPeople(spec);
  const std::string all = Joined(stats.notes);
  EXPECT_NE(all.find("blocking rule sound_post: match proportion"), std::string::npos) << all;
  EXPECT_NE(all.find("not converged after 1 iterations"), std::string::npos) << all;
}

// A term-frequency comparison: an exact agreement on a rare value weighs
// more than on a common one, and the decision shows the adjustment.
TEST(EmEstimateTest, TermFrequenciesWeighRareValuesMore) {
  DedupSpec spec = PersonSpec();
  spec.comparisons[1].term_frequency = true;  // last_name
  std::vector<MatchEdge> edges;
  const MatchStats stats = MatchPeople(spec, &edges);
  EXPECT_TRUE(stats.estimate_problems.empty()) << Joined(stats.estimate_problems);
  double lowest = 1e9, highest = -1e9;
  for (const MatchEdge& e : edges) {
    const std::string tag = "last_name=exact, term frequency ";
    const std::string detail = e.Detail();
    const size_t at = detail.find(tag);
    if (at == std::string::npos) {
      EXPECT_EQ(detail.find("last_name=exact:"), std::string::npos) << detail;
      continue;
    }
    const double adjust = std::stod(detail.substr(at + tag.size()));
    lowest = std::min(lowest, adjust);
    highest = std::max(highest, adjust);
  }
  // "martin" and "martine" are not equally common in the generated people.
  EXPECT_LT(lowest, highest);
}

// The histogram of match weights the run report draws: every scored pair
// in the bin of its weight's floor, the merged ones at or above the merge
// threshold's bin, with the thresholds of the plan. (A pair above the merge
// threshold may be distinct: its blocking rule's EM gives it less than even
// odds; in these people, namesakes in one postcode born apart.)
TEST(EmEstimateTest, EveryScoredPairIsInTheWeightHistogram) {
  std::vector<MatchEdge> edges;
  const DedupSpec spec = PersonSpec();
  const MatchStats stats = MatchPeople(spec, &edges);
  EXPECT_EQ(stats.merge_threshold, spec.merge_threshold);
  EXPECT_EQ(stats.review_threshold, spec.review_threshold);
  uint64_t binned = 0, above_merge_bin = 0, at_or_above_merge_bin = 0;
  const int merge_bin = static_cast<int>(std::floor(spec.merge_threshold));
  for (const auto& [floor, pairs] : stats.weight_bins) {
    binned += pairs;
    if (floor > merge_bin) above_merge_bin += pairs;
    if (floor >= merge_bin) at_or_above_merge_bin += pairs;
  }
  uint64_t scored = 0, scored_merges = 0;
  for (const MatchEdge& e : edges) {
    if (!e.scored) continue;
    ++scored;
    if (e.band == Band::kMerge) ++scored_merges;
  }
  ASSERT_GT(scored_merges, 0u);
  EXPECT_GE(binned, scored) << "the histogram also counts the distinct pairs";
  EXPECT_LE(binned, stats.comparisons);
  EXPECT_GE(at_or_above_merge_bin, scored_merges);
}

}  // namespace
}  // namespace sluice
