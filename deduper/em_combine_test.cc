// Combining the blocking rules' m estimates (em_combine.h).
#include "deduper/em_combine.h"

#include <gtest/gtest.h>

#include "common/plan/plan.h"

namespace sluice::em {
namespace {

using compare::Comparison;

TEST(EmCombineTest, WeightedMedian) {
  EXPECT_DOUBLE_EQ(WeightedMedian({0.3}, {5}), 0.3);
  EXPECT_DOUBLE_EQ(WeightedMedian({0.0, 0.0, 0.13}, {8000, 12000, 12700}), 0.0);
  EXPECT_DOUBLE_EQ(WeightedMedian({0.9, 0.1, 0.5}, {1, 1, 1}), 0.5);
  EXPECT_DOUBLE_EQ(WeightedMedian({0.2, 0.4}, {1, 1}), 0.3);  // exactly between: the mean
  EXPECT_DOUBLE_EQ(WeightedMedian({0.2, 0.4}, {1, 3}), 0.4);
}

DedupComparison Spec(const std::string& name) {
  DedupComparison spec;
  spec.name = name;
  spec.field = name;
  return spec;
}

Comparison TwoLevels(const DedupComparison* spec, double u_exact) {
  Comparison cmp{};
  cmp.spec = spec;
  cmp.levels = 2;
  cmp.labels = {"exact", "else"};
  cmp.m = {0.9, 0.1};
  cmp.u = {u_exact, 1 - u_exact};
  return cmp;
}

RuleFit Fit(const std::string& rule, double matches, std::vector<std::vector<double>> m) {
  RuleFit fit;
  fit.rule = rule;
  fit.matches = matches;
  fit.m = std::move(m);
  return fit;
}

// Namesakes sharing a generic e-mail: the e-mail rule's "matches" disagree
// on the birth date 13% of the time, the other rules' never. The median
// keeps the birth date's disagreement rare, and the e-mail rule is named.
TEST(EmCombineTest, OneContaminatedRuleIsOutvotedAndNamed) {
  const DedupComparison birth = Spec("birth_date"), email = Spec("email");
  std::vector<Comparison> cmps = {TwoLevels(&birth, 0.001), TwoLevels(&email, 0.0001)};
  const std::vector<Comparison> start = cmps;
  const std::vector<RuleFit> fits = {
      Fit("national_id", 8433, {{0.999, 0.001}, {0.91, 0.09}}),
      Fit("phone", 11972, {{0.998, 0.002}, {0.91, 0.09}}),
      Fit("email", 12741, {{0.866, 0.134}, {}}),  // blocks on email
  };
  CombineRuleEstimates(fits, start, &cmps);
  EXPECT_NEAR(cmps[0].m[1], 0.002, 1e-9);
  EXPECT_NEAR(cmps[0].m[0] + cmps[0].m[1], 1.0, 1e-12);
  EXPECT_NEAR(cmps[1].m[0], 0.91, 1e-9);  // two rules, equal: as they say
  const std::vector<std::string> notes = OutvotedRules(fits, cmps);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("blocking rule email: "), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("birth_date (0.1340 against 0.0020)"), std::string::npos) << notes[0];
}

TEST(EmCombineTest, GivenOrUnestimatedMKeepsItsStart) {
  const DedupComparison a = Spec("a"), b = Spec("b");
  std::vector<Comparison> cmps = {TwoLevels(&a, 0.01), TwoLevels(&b, 0.01)};
  cmps[0].fixed_m = true;
  cmps[0].m = {0.8, 0.2};
  const std::vector<Comparison> start = cmps;
  CombineRuleEstimates({Fit("r", 100, {{0.5, 0.5}, {}})}, start, &cmps);
  EXPECT_EQ(cmps[0].m, (std::vector<double>{0.8, 0.2}));
  EXPECT_EQ(cmps[1].m, (std::vector<double>{0.9, 0.1}));
}

TEST(EmCombineTest, APartialAgreementBelowItsUIsNoted) {
  const DedupComparison birth = Spec("birth_date");
  Comparison cmp{};
  cmp.spec = &birth;
  cmp.levels = 4;
  cmp.labels = {"exact", "days<=31", "days<=366", "else"};
  cmp.m = {0.9, 0.05, 0.011, 0.039};
  cmp.u = {0.0001, 0.0026, 0.0307, 0.9666};
  const std::vector<std::string> notes = AgreeingLevelsAgainst({cmp});
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("comparison birth_date, level days<=366: m=0.0110 below u=0.0307"),
            std::string::npos)
      << notes[0];
}

}  // namespace
}  // namespace sluice::em
