// Estimation of the Fellegi-Sunter m and u probabilities from the data of
// the run, and the diagnosis of an estimate that cannot be trusted
// (docs/dedup.md, "EM diagnosis"). Internal to the deduper (fuzzy_matcher.cc,
// `sluice dedup estimate` through the matcher's stats).
#pragma once

#include <string>
#include <vector>

#include "common/core/status.h"
#include "common/plan/plan.h"
#include "deduper/compare_pass.h"
#include "deduper/dedup.h"

namespace sluice::em {

// What EM found on the pairs of one blocking rule.
struct RuleFit {
  std::string rule;
  double pairs = 0;    // candidate pairs no deterministic rule decided
  double matches = 0;  // expected matches among them
  double proportion = 0;
  int iterations = 0;
  bool converged = false;
  // Per comparison, the m this rule's pairs gave (empty: the rule blocks on
  // the comparison's field, or its m is given).
  std::vector<std::vector<double>> m;
};

// One reason not to trust the estimate, in words for the plan's author.
struct Problem {
  std::string rule;        // the blocking rule, or "" for all of them
  std::string comparison;  // the comparison, or ""
  std::string finding;     // what is wrong, with the figures
  std::string suggestion;  // what to change in the plan
  std::string ToString() const;
};

// Whether `rule` blocks on `field`: its EM leaves out the comparisons on it
// (inside its blocks they agree by construction).
bool Blocks(const BlockingRule& rule, const std::string& field);

// u per level from the level counts of random pairs (add-one smoothing, so
// that a level never seen keeps a finite weight). Comparisons with u given
// keep it.
void EstimateU(const LevelCounts& counts, std::vector<compare::Comparison>* comparisons);

// m by EM, with u held fixed, per blocking rule over the patterns of all the
// pairs that rule blocks together, leaving out the comparisons on the fields
// the rule blocks on (inside its blocks they agree by construction); each
// comparison's m is the median of the rules' estimates weighted by their
// expected matches (em_combine.h), so a field blocked on by one rule is
// estimated from the others (as Splink does), and one rule whose blocks hold
// different people sharing its value cannot move it. EM stops when the proportion and every m move
// by less than 1e-4 (as Splink), or after spec.em_iterations. `patterns` holds one entry per
// blocking rule (later entries are ignored).
std::vector<RuleFit> EstimateM(const DedupSpec& spec, const compare::PairComparer& comparer,
                               const PatternCounts& patterns,
                               std::vector<compare::Comparison>* comparisons);

// The problems of an estimate, once the weights are set (comparer.Score).
// (A rule whose EM did not converge within em_iterations is only noted, in
// RuleFit: slow but sound fits are common with the default 25 iterations.)
// - a rule where EM takes more than half of the pairs for matches while
//   fewer than half of those reach the merge threshold: the "matches" are
//   not a class the weights can separate (EM has split the pairs on
//   something other than identity);
// - a comparison whose exact agreement weighs against a match (m below half
//   of u at the exact level), named with the rule whose pairs gave it;
// - a comparison no rule could estimate (every rule blocks on its field).
// Empty when the estimate can be used.
std::vector<Problem> Diagnose(const DedupSpec& spec, const compare::PairComparer& comparer,
                              const std::vector<compare::Comparison>& comparisons,
                              const PatternCounts& patterns, const std::vector<RuleFit>& fits);

// FailedPrecondition naming the entity and every problem when the plan
// halts on a degenerate estimate (the default) and `problems` is not empty;
// Ok otherwise.
Status Verdict(const DedupSpec& spec, const std::vector<std::string>& problems);

}  // namespace sluice::em
