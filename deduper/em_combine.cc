#include "deduper/em_combine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace sluice::em {
namespace {

using compare::Comparison;

// A rule's estimate is outvoted when the mass it gives to the levels that
// weigh against a match is above the combined one by this much ...
constexpr double kOutvotedExcess = 0.05;
// ... and this many times over.
constexpr double kOutvotedRatio = 2.0;

std::string Figures(const char* fmt, double a, double b, double c = 0) {
  char buf[200];
  std::snprintf(buf, sizeof buf, fmt, a, b, c);
  return buf;
}

// AgreeingLevelsAgainst notes a level only when random pairs fall in it at
// least this often.
constexpr double kNotedU = 1e-3;

}  // namespace

double WeightedMedian(std::vector<double> values, std::vector<double> weights) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  double below = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    below += weights[order[i]];
    // Relative tolerance: weights are expected match counts, sums of doubles.
    if (std::abs(below - total / 2) <= 1e-9 * total && i + 1 < order.size()) {
      return (values[order[i]] + values[order[i + 1]]) / 2;
    }
    if (below > total / 2) return values[order[i]];
  }
  return values[order.back()];
}

void CombineRuleEstimates(const std::vector<RuleFit>& fits, const std::vector<Comparison>& start,
                          std::vector<Comparison>* comparisons) {
  for (size_t c = 0; c < comparisons->size(); ++c) {
    Comparison& cmp = (*comparisons)[c];
    cmp.m = start[c].m;
    if (cmp.fixed_m) continue;
    std::vector<const RuleFit*> by;
    for (const RuleFit& fit : fits) {
      if (c < fit.m.size() && !fit.m[c].empty() && fit.matches > 0) by.push_back(&fit);
    }
    if (by.empty()) continue;
    std::vector<double> weights;
    for (const RuleFit* fit : by) weights.push_back(fit->matches);
    double sum = 0;
    for (int l = 0; l < cmp.levels; ++l) {
      std::vector<double> values;
      for (const RuleFit* fit : by) values.push_back(fit->m[c][l]);
      cmp.m[l] = WeightedMedian(values, weights);
      sum += cmp.m[l];
    }
    for (int l = 0; l < cmp.levels; ++l) cmp.m[l] = std::max(sum > 0 ? cmp.m[l] / sum : 0.0, 1e-6);
  }
}

std::vector<std::string> OutvotedRules(const std::vector<RuleFit>& fits,
                                       const std::vector<Comparison>& comparisons) {
  std::vector<std::string> notes;
  for (const RuleFit& fit : fits) {
    std::string found;
    for (size_t c = 0; c < comparisons.size() && c < fit.m.size(); ++c) {
      const Comparison& cmp = comparisons[c];
      if (fit.m[c].empty() || cmp.fixed_m || cmp.u.size() != cmp.m.size()) continue;
      double rule = 0, combined = 0;
      for (int l = 0; l < cmp.levels; ++l) {
        if (cmp.m[l] >= cmp.u[l]) continue;
        rule += fit.m[c][l];
        combined += cmp.m[l];
      }
      if (rule - combined > kOutvotedExcess && rule > kOutvotedRatio * combined) {
        found += (found.empty() ? "" : ", ") + cmp.spec->name +
                 Figures(" (%.4f against %.4f)", rule, combined);
      }
    }
    if (found.empty()) continue;
    notes.push_back("blocking rule " + fit.rule +
                    ": the pairs its EM takes for matches disagree far more often than the other "
                    "rules' on " +
                    found +
                    " (m of the levels that weigh against a match); its blocks hold different "
                    "people who share its value (a generic e-mail, a practice's phone?) and the "
                    "fields that go with it, so its estimate is outvoted by the median of the "
                    "rules");
  }
  return notes;
}

std::vector<std::string> AgreeingLevelsAgainst(const std::vector<Comparison>& comparisons) {
  std::vector<std::string> notes;
  for (const Comparison& cmp : comparisons) {
    if (cmp.fixed_m || cmp.fixed_u || cmp.u.size() != cmp.m.size()) continue;
    for (int l = 1; l + 1 < cmp.levels; ++l) {
      // A level hardly seen among random pairs either is not worth a note.
      if (l == cmp.decisive || cmp.m[l] >= cmp.u[l] || cmp.u[l] < kNotedU) continue;
      notes.push_back("comparison " + cmp.spec->name + ", level " + cmp.labels[l] +
                      Figures(": m=%.4f below u=%.4f (weight %+.2f): this partial agreement "
                              "counts against a match",
                              cmp.m[l], cmp.u[l], std::log2(cmp.m[l] / cmp.u[l])));
    }
  }
  return notes;
}

}  // namespace sluice::em
