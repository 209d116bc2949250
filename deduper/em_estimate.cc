#include "deduper/em_estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "deduper/em_combine.h"

namespace sluice::em {
namespace {

using compare::Comparison;

// EM has converged when no probability (the match proportion, an m) moves
// by more than this in an iteration: Splink's default.
constexpr double kConvergence = 1e-4;

// Below this many expected matches a rule's estimate is too thin to judge.
constexpr double kMinMatches = 20;

std::string Format(const char* fmt, double a, double b = 0, double c = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, fmt, a, b, c);
  return buf;
}

// EM over one rule's patterns with the comparisons in `active`, starting
// from the m in `comparisons`, which it updates.
RuleFit FitRule(const DedupSpec& spec, const compare::PairComparer& comparer,
                const std::vector<std::pair<uint64_t, uint64_t>>& patterns,
                const std::vector<bool>& active, std::vector<Comparison>* comparisons) {
  std::vector<Comparison>& cmps = *comparisons;
  RuleFit fit;
  fit.m.resize(cmps.size());
  double p = spec.prior_match > 0 ? spec.prior_match : 0.1;
  std::vector<std::vector<double>> acc(cmps.size());
  for (const auto& [pattern, count] : patterns) fit.pairs += static_cast<double>(count);
  if (fit.pairs == 0) return fit;
  for (int64_t it = 0; it < spec.em_iterations; ++it) {
    for (size_t c = 0; c < cmps.size(); ++c) acc[c].assign(cmps[c].levels, 0);
    double matched = 0;
    for (const auto& [pattern, count] : patterns) {
      double lm = std::log(p), lu = std::log(1 - p);
      for (size_t c = 0; c < cmps.size(); ++c) {
        const int l = comparer.LevelOf(pattern, c);
        if (!active[c] || l == cmps[c].levels) continue;
        lm += std::log(cmps[c].m[l]);
        lu += std::log(cmps[c].u[l]);
      }
      const double w = static_cast<double>(count) / (1.0 + std::exp(lu - lm));
      matched += w;
      for (size_t c = 0; c < cmps.size(); ++c) {
        const int l = comparer.LevelOf(pattern, c);
        if (active[c] && l < cmps[c].levels) acc[c][l] += w;
      }
    }
    const double next_p = std::clamp(matched / fit.pairs, 1e-9, 1 - 1e-9);
    double moved = std::abs(next_p - p);
    p = next_p;
    for (size_t c = 0; c < cmps.size(); ++c) {
      Comparison& cmp = cmps[c];
      if (cmp.fixed_m || !active[c]) continue;
      const double s = std::accumulate(acc[c].begin(), acc[c].end(), 0.0);
      if (s <= 0) continue;
      for (int l = 0; l < cmp.levels; ++l) {
        const double m = std::max(acc[c][l] / s, 1e-6);
        moved = std::max(moved, std::abs(m - cmp.m[l]));
        cmp.m[l] = m;
      }
    }
    fit.matches = matched;
    fit.iterations = static_cast<int>(it + 1);
    if (moved < kConvergence) {
      fit.converged = true;
      break;
    }
  }
  fit.proportion = p;
  for (size_t c = 0; c < cmps.size(); ++c) {
    if (active[c] && !cmps[c].fixed_m) fit.m[c] = cmps[c].m;
  }
  return fit;
}

}  // namespace

bool Blocks(const BlockingRule& rule, const std::string& field) {
  for (const BlockingPart& part : rule.parts) {
    if (part.field == field) return true;
  }
  return false;
}

std::string Problem::ToString() const {
  std::string out;
  if (!rule.empty()) out += "blocking rule " + rule;
  if (!comparison.empty()) out += (out.empty() ? "" : ", ") + ("comparison " + comparison);
  out += (out.empty() ? "" : ": ") + finding;
  if (!suggestion.empty()) out += "; " + suggestion;
  return out;
}

void EstimateU(const LevelCounts& counts, std::vector<Comparison>* comparisons) {
  for (size_t c = 0; c < comparisons->size(); ++c) {
    Comparison& cmp = (*comparisons)[c];
    if (cmp.fixed_u) continue;
    std::vector<uint64_t> seen(cmp.levels, 0);
    if (c < counts.size()) {
      for (int l = 0; l < cmp.levels && l < static_cast<int>(counts[c].size()); ++l) {
        seen[l] = counts[c][l];
      }
    }
    const uint64_t total = std::accumulate(seen.begin(), seen.end(), uint64_t{0});
    cmp.u.assign(cmp.levels, 0);
    for (int l = 0; l < cmp.levels; ++l) {
      cmp.u[l] = (static_cast<double>(seen[l]) + 1.0) / (static_cast<double>(total) + cmp.levels);
    }
  }
}

std::vector<RuleFit> EstimateM(const DedupSpec& spec, const compare::PairComparer& comparer,
                               const PatternCounts& patterns,
                               std::vector<Comparison>* comparisons) {
  std::vector<Comparison>& cmps = *comparisons;
  for (Comparison& cmp : cmps) {
    if (cmp.fixed_m) continue;
    cmp.m.assign(cmp.levels, 0);
    if (cmp.levels == 2) {
      cmp.m = {0.9, 0.1};
    } else {
      cmp.m[0] = 0.7;
      for (int l = 1; l + 1 < cmp.levels; ++l) cmp.m[l] = 0.2 / (cmp.levels - 2);
      cmp.m[cmp.levels - 1] = 0.1;
    }
  }
  const std::vector<Comparison> start = cmps;
  std::vector<RuleFit> fits;
  for (size_t r = 0; r < patterns.size() && r < spec.blocking.size(); ++r) {
    std::vector<bool> active(cmps.size(), true);
    for (size_t c = 0; c < cmps.size(); ++c) {
      active[c] = !Blocks(spec.blocking[r], cmps[c].spec->field);
      cmps[c].m = start[c].m;
    }
    RuleFit fit = FitRule(spec, comparer, patterns[r], active, comparisons);
    fit.rule = spec.blocking[r].name;
    fits.push_back(std::move(fit));
  }
  CombineRuleEstimates(fits, start, comparisons);
  return fits;
}

std::vector<Problem> Diagnose(const DedupSpec& spec, const compare::PairComparer& comparer,
                              const std::vector<Comparison>& comparisons,
                              const PatternCounts& patterns, const std::vector<RuleFit>& fits) {
  std::vector<Problem> problems;
  for (size_t r = 0; r < fits.size(); ++r) {
    const RuleFit& fit = fits[r];
    if (fit.pairs == 0) continue;
    if (fit.proportion > 0.5 && fit.matches >= kMinMatches) {
      double merged = 0;
      for (const auto& [pattern, count] : patterns[r]) {
        if (comparer.Score(pattern) >= spec.merge_threshold) merged += static_cast<double>(count);
      }
      if (merged < 0.5 * fit.matches) {
        problems.push_back(
            {fit.rule, "",
             Format("EM takes %.1f%% of its %.0f candidate pairs for matches, but only %.1f%% "
                    "of them reach the merge threshold",
                    100 * fit.proportion, fit.pairs, 100 * merged / fit.matches),
             "the comparisons cannot tell its pairs apart: make the rule stricter (add a field "
             "that differs between people), add a comparison on a field that separates people "
             "(a birth date, an identifier), or give m for the comparisons by hand"});
      }
    }
  }
  for (size_t c = 0; c < comparisons.size(); ++c) {
    const Comparison& cmp = comparisons[c];
    if (cmp.fixed_m) continue;
    bool estimated = false;
    for (const RuleFit& fit : fits) estimated = estimated || !fit.m[c].empty();
    if (!estimated) {
      problems.push_back(
          {"", cmp.spec->name,
           "no blocking rule can estimate its m: every rule blocks on " + cmp.spec->field,
           "add a blocking rule that does not use " + cmp.spec->field +
               ", or give m for this comparison"});
      continue;
    }
    if (cmp.fixed_u || cmp.m[0] >= 0.5 * cmp.u[0]) continue;
    // The rule whose pairs gave the exact level the lowest m.
    const RuleFit* worst = nullptr;
    for (const RuleFit& fit : fits) {
      if (fit.m[c].empty() || fit.matches < 1) continue;
      if (worst == nullptr || fit.m[c][0] < worst->m[c][0]) {
        worst = &fit;
      }
    }
    problems.push_back(
        {worst ? worst->rule : "", cmp.spec->name,
         Format("an exact agreement weighs against a match (m=%.4f below u=%.4f, weight %+.2f)",
                cmp.m[0], cmp.u[0], std::log2(cmp.m[0] / cmp.u[0])),
         "the value is shared by different people among these pairs (a generic or placeholder "
         "value? list it in dedup.placeholders), or the rule's pairs hold few true matches: make "
         "the rule stricter, or give m for " +
             cmp.spec->name});
  }
  return problems;
}

Status Verdict(const DedupSpec& spec, const std::vector<std::string>& problems) {
  if (problems.empty() || !spec.halt_on_degenerate_estimate) return Status::Ok();
  std::string message = "dedup of " + spec.entity +
                        ": the estimated m/u cannot be trusted, nothing of it is loaded (" +
                        spec.yaml_path + ".estimation.on_degenerate: warn accepts it)";
  for (const std::string& p : problems) message += "\n  " + p;
  return Status::FailedPrecondition(message);
}

}  // namespace sluice::em
