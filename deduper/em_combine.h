// How the m that each blocking rule's EM gives are combined into one m per
// comparison, and which rules' estimates are outvoted (docs/dedup.md, "Fellegi-Sunter
// scoring"). Internal to the deduper (em_estimate.cc).
#pragma once

#include <string>
#include <vector>

#include "deduper/compare_pass.h"
#include "deduper/em_estimate.h"

namespace sluice::em {

// The median of `values` weighted by `weights` (both the same length, not
// empty, weights > 0): the value at which half the total weight lies on
// either side; when the half falls exactly between two values, their mean.
double WeightedMedian(std::vector<double> values, std::vector<double> weights);

// Each estimated comparison's m, per level, is the median of the rules'
// estimates (the rules whose RuleFit::m holds it) weighted by their
// expected matches, renormalised to sum to 1 (at least 1e-6 a level). A
// median, not a mean: a rule whose blocks hold different people who agree
// on its blocked field and on the fields that go with it (namesakes at one
// practice sharing its generic e-mail and address) has EM take them for
// matches under a u of random pairs, which swells the disagreeing levels of
// its other comparisons (birth date, phone, id); one such rule must not
// move every weight. Comparisons with m given, or that no rule estimates,
// keep `start`'s m.
void CombineRuleEstimates(const std::vector<RuleFit>& fits,
                          const std::vector<compare::Comparison>& start,
                          std::vector<compare::Comparison>* comparisons);

// The rules whose estimate the median outvoted: for a comparison, the m the
// rule's pairs give to the levels that weigh against a match (combined m below
// u) exceeds the combined m of those levels by more than 0.05 and twice over
// (its "matches" disagree on the comparison far more often than the other
// rules' do). One note per such rule, naming each comparison with both figures.
std::vector<std::string> OutvotedRules(const std::vector<RuleFit>& fits,
                                       const std::vector<compare::Comparison>& comparisons);

// Notes for the levels other than the exact one and the last ("else") whose
// estimated m is below their u: a partial agreement that weighs against a
// match (e.g. birth dates a few months apart when true duplicates are never
// more than a month apart). Reported, not refused: such a level can be
// honest. Levels random pairs hardly reach (u below 0.001) are left out;
// the exact level is Diagnose's.
std::vector<std::string> AgreeingLevelsAgainst(const std::vector<compare::Comparison>& comparisons);

}  // namespace sluice::em
