// MakeFuzzyMatcher: blocking rules, ordered deterministic rules and
// Fellegi-Sunter scoring (docs/dedup.md).
//
// The work is in two passes over the candidate pairs, both in the same
// deterministic order (rule by rule, block by block, by record index). The
// first compares each pair once and keeps an 8-byte code: the rule that
// decided it, or its comparison pattern (one level per comparison). The
// m probabilities are then estimated by EM over the pattern counts, and the
// second pass turns codes into bands without comparing again.
#include "deduper/fuzzy_matcher.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/core/hash.h"
#include "deduper/blocking.h"
#include "deduper/comparators.h"
#include "deduper/compare_pass.h"
#include "deduper/dedup.h"
#include "deduper/dedup_internal.h"
#include "deduper/edge_detail.h"
#include "deduper/em_combine.h"
#include "deduper/em_estimate.h"
#include "deduper/guest_rows.h"
#include "deduper/shard_map.h"
#include "deduper/term_frequency.h"

namespace sluice {

const char* BandName(Band band) {
  switch (band) {
    case Band::kMerge:
      return "merge";
    case Band::kReview:
      return "review";
    default:
      return "distinct";
  }
}

namespace {

// The compiled rules and comparisons and the comparison pass live in
// compare_pass.{h,cc}.
using compare::Comparison;
using compare::kRuleFlag;
using compare::Rule;

class FuzzyMatcher : public Matcher {
 public:
  FuzzyMatcher(const DedupSpec& spec, std::vector<ForcedPair> forced)
      : spec_(spec), forced_(std::move(forced)) {}

  Status Init(const Schema& schema) {
    // The plan's exact key, when given, blocks and decides first.
    spec_ = dedup_internal::FuzzyMatcherSpec(spec_);
    schema_ = schema;
    SLUICE_RETURN_IF_ERROR(comparer_.Init(spec_, schema_));
    for (const BlockingRule& b : spec_.blocking) {
      for (const BlockingPart& p : b.parts) {
        if (schema.IndexOf(p.field) < 0) {
          return Status::InvalidArgument(b.yaml_path + ": no field " + p.field + " in the entity");
        }
      }
    }
    return Status::Ok();
  }

  // The phases of Match on one shard of N (docs/dedup.md#scale-out).
  BlockKeys Oversize(const MatchInput& in) override;
  Status Compare(const MatchInput& in, const BlockKeys& oversize) override;
  PatternCounts Patterns() const override { return patterns_; }
  LevelCounts UCounts() const override { return u_counts_; }
  TermValuesNeeded TermValues() const override;
  std::vector<MatchEdge> Decide(const PatternCounts& all, const LevelCounts& u) override;
  const MatchStats& stats() const override { return stats_; }

 private:
  int Level(const Comparison& cmp, size_t a, size_t b) const { return comparer_.Level(cmp, a, b); }
  int LevelOf(uint64_t pattern, size_t c) const { return comparer_.LevelOf(pattern, c); }
  double Score(uint64_t pattern) const { return comparer_.Score(pattern); }

  // u level counts of random pairs within each home virtual shard it owns.
  void SampleU(const MatchInput& in);
  // The decision's detail: each comparison's level and weight (with its
  // term-frequency adjustment) for the pair of record `a` scored `score`.
  void FillScoredEdge(uint64_t pattern, size_t a, double score, MatchEdge* edge) const;
  double ScorePair(uint64_t pattern, size_t a) const {
    return Score(pattern) + (tf_.empty() ? 0.0 : tf_.Of(comparer_, comparisons_, pattern, a));
  }
  // The log2 odds that the pair of record `a`, scored `score` with
  // `pattern`, is a match under the EM model of blocking rule r, the rule
  // that found it: the prior odds of r's match proportion times the weights
  // of the comparisons r's EM keeps (those on the fields r blocks on are
  // left out: the prior already holds that agreement). NaN when r's EM saw
  // no pair.
  double RuleLogOdds(size_t r, uint64_t pattern, size_t a, double score) const;

  DedupSpec spec_;
  std::vector<ForcedPair> forced_;
  Schema schema_;
  compare::PairComparer comparer_;
  std::vector<Rule>& rules_ = comparer_.rules();
  std::vector<Comparison>& comparisons_ = comparer_.comparisons();
  MatchStats stats_;
  // Between Compare and Decide: the pairs of this shard, in pair order.
  ShardMap shards_;
  size_t n_ = 0;
  blocking::KeyRows keys_;                          // per record, per blocking rule
  std::vector<blocking::Blocks> blocks_;            // this shard's blocks
  compare::PairCodes codes_;                        // per compared pair: rule or pattern
  PatternCounts patterns_;                          // per rule, sorted
  LevelCounts u_counts_;                            // per comparison, per level
  std::vector<size_t> tf_marked_;                   // comparisons with term frequencies
  tf::Adjustment tf_;                               // from every shard's value counts
  std::shared_ptr<const EdgeDetailWriter> writer_;  // the weights, for the edges' detail
  // Per blocking rule, from its EM: the log2 odds of its match proportion
  // (NaN: no pair) and the comparisons it leaves out.
  std::vector<double> rule_prior_;
  std::vector<std::vector<bool>> rule_leaves_out_;
  // Round 1's blocking keys, for round 2 on the same records.
  std::vector<std::vector<uint64_t>> round1_keys_;
  uint64_t round1_generation_ = 0;
  std::unordered_set<uint64_t> forced_pairs_;  // (a << 32 | b): left to the steward edges
  std::vector<MatchEdge> forced_edges_;        // steward pairs emitted as home of the first record
  std::vector<MatchEdge> forced_echoes_;       // ... as home of the second only
};

// u: how often each level occurs between records that are, almost all,
// not the same entity: random pairs within each home virtual shard (the
// records whose KeyHash falls in it, in canonical order), from a seed per
// virtual shard. Each shard samples the virtual shards it owns, which hold
// its home records, so the counts summed over the shards do not depend on N.
void FuzzyMatcher::SampleU(const MatchInput& in) {
  u_counts_.assign(comparisons_.size(), {});
  for (size_t c = 0; c < comparisons_.size(); ++c) u_counts_[c].assign(comparisons_[c].levels, 0);
  bool any = false;
  for (const Comparison& cmp : comparisons_) any = any || !cmp.fixed_u;
  if (!any) return;
  constexpr uint32_t kV = ShardMap::kVirtualShards;
  std::vector<std::vector<uint32_t>> members(kV);
  const std::vector<Record>& records = in.records;
  for (uint32_t i = 0; i < records.size(); ++i) {
    if (!in.skip.empty() && in.skip[i]) continue;
    const uint32_t v = static_cast<uint32_t>(KeyHash(records[i].source, records[i].key) % kV);
    if (in.shards.single() || in.shards.owners()[v] == in.shards.self()) members[v].push_back(i);
  }
  const uint64_t per_vshard =
      (static_cast<uint64_t>(std::max<int64_t>(spec_.u_sample_pairs, 0)) + kV - 1) / kV;
  for (uint32_t v = 0; v < kV; ++v) {
    const std::vector<uint32_t>& m = members[v];
    if (m.size() < 2) continue;
    uint64_t state = 0x9E3779B97F4A7C15ULL * (v + 1);
    auto next = [&state]() {  // splitmix64
      uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      return z ^ (z >> 31);
    };
    for (uint64_t s = 0; s < per_vshard; ++s) {
      const size_t x = next() % m.size();
      size_t y = next() % (m.size() - 1);
      if (y >= x) ++y;
      for (size_t c = 0; c < comparisons_.size(); ++c) {
        if (comparisons_[c].fixed_u) continue;
        const int l = Level(comparisons_[c], m[x], m[y]);
        if (l < comparisons_[c].levels) ++u_counts_[c][l];
      }
    }
  }
}

void FuzzyMatcher::FillScoredEdge(uint64_t pattern, size_t a, double score, MatchEdge* edge) const {
  edge->scored = true;
  edge->score = score;
  edge->rule = "fellegi_sunter";
  std::vector<double> adjust(comparisons_.size(), 0.0);
  if (!tf_.empty()) tf_.Of(comparer_, comparisons_, pattern, a, &adjust);
  // The pattern and adjustments, written as text when asked (edge_detail.h).
  const std::vector<size_t>& marked = writer_->marked();
  bool kept = marked.size() <= MatchEdge::kAdjusted;
  for (size_t c = 0, k = 0; c < adjust.size() && kept; ++c) {
    if (k < marked.size() && marked[k] == c) {
      edge->adjust[k++] = adjust[c];
    } else {
      kept = adjust[c] == 0;
    }
  }
  if (kept) {
    edge->writer = writer_;
    edge->pattern = pattern;
  } else {
    edge->adjust = {};
    edge->detail = writer_->Write(pattern, adjust);
  }
}

double FuzzyMatcher::RuleLogOdds(size_t r, uint64_t pattern, size_t a, double score) const {
  if (r >= rule_prior_.size()) return std::nan("");
  std::vector<double> adjust(comparisons_.size(), 0.0);
  if (!tf_.empty()) tf_.Of(comparer_, comparisons_, pattern, a, &adjust);
  double odds = rule_prior_[r] + score;
  for (size_t c = 0; c < comparisons_.size(); ++c) {
    if (!rule_leaves_out_[r][c]) continue;
    const int l = LevelOf(pattern, c);
    if (l == comparisons_[c].levels || comparer_.CountedWithPartner(pattern, c)) continue;
    odds -= comparisons_[c].weight[l] + adjust[c];
  }
  return odds;
}

BlockKeys FuzzyMatcher::Oversize(const MatchInput& in) {
  BlockKeys out;
  round1_keys_.clear();
  for (const BlockingRule& rule : spec_.blocking) {
    // Given by the router where it folded the record (guest_rows.h).
    auto k = guest::Keys(in, rule, out.size(), spec_.placeholders);
    if (!k.ok()) k = std::vector<uint64_t>(in.records.size(), 0);  // checked in Init
    out.push_back(blocking::OversizeKeys(*k, spec_.max_block_size, in.shards));
    round1_keys_.push_back(std::move(*k));
  }
  round1_generation_ = in.generation;
  if (in.generation == 0) round1_keys_.clear();
  return out;
}

Status FuzzyMatcher::Compare(const MatchInput& in, const BlockKeys& oversize) {
  const std::vector<Record>& records = in.records;
  stats_ = {};
  stats_.merge_threshold = spec_.merge_threshold;
  stats_.review_threshold = spec_.review_threshold;
  shards_ = in.shards;
  const size_t n = records.size();
  n_ = n;
  codes_.Release();
  forced_pairs_.clear();
  forced_edges_.clear();
  forced_echoes_.clear();
  SLUICE_RETURN_IF_ERROR(guest::PrepareRows(in, &comparer_));  // guests come folded

  // Blocking: keys per rule, blocks, oversize blocks left out.
  std::vector<std::vector<uint64_t>> keys;  // per rule until the blocks are made
  std::vector<blocking::Blocks>& blocks = blocks_;
  keys_ = {};
  blocks.clear();
  for (size_t r = 0; r < spec_.blocking.size(); ++r) {
    const BlockingRule& rule = spec_.blocking[r];
    Result<std::vector<uint64_t>> k = std::vector<uint64_t>{};
    if (in.generation != 0 && in.generation == round1_generation_ && r < round1_keys_.size()) {
      k = std::move(round1_keys_[r]);  // computed in round 1 on these very records
    } else {
      k = guest::Keys(in, rule, r, spec_.placeholders);
    }
    if (!k.ok()) continue;  // checked in Init
    keys.push_back(std::move(*k));
    MatchStats::Rule& rs = stats_.blocking.emplace_back();
    rs.name = rule.name;
    uint64_t largest = 0;
    blocks.push_back(blocking::GroupBlocks(&keys.back(), spec_.max_block_size, &rs, &largest,
                                           &shards_, &in.skip,
                                           r < oversize.size() ? &oversize[r] : nullptr));
    if (rs.oversize_blocks > 0) {
      stats_.notes.push_back(
          "blocking rule " + rule.name + ": " + std::to_string(rs.oversize_blocks) +
          " block(s) above max_block_size " + std::to_string(spec_.max_block_size) + " (" +
          std::to_string(rs.oversize_records) + " records, largest " + std::to_string(largest) +
          ") not compared under this rule");
    }
  }

  round1_keys_.clear();
  round1_generation_ = 0;

  // Steward decisions: each is emitted by the home shard of each of its
  // records that holds it, which may not hold the other (KeepStewardEdges
  // keeps it when both did); the shard that compares such a pair leaves it
  // to that edge.
  if (!forced_.empty()) {
    std::unordered_map<std::string, uint32_t> index_of;
    for (uint32_t i = 0; i < n; ++i) {
      if (!in.skip.empty() && in.skip[i]) continue;
      index_of.emplace(records[i].source + '\x1f' + records[i].key, i);
    }
    auto find = [&](const SourceKey& k) {
      auto it = index_of.find(k.source + '\x1f' + k.key);
      return it == index_of.end() ? MatchEdge::kAbsent : static_cast<size_t>(it->second);
    };
    std::set<std::pair<SourceKey, SourceKey>> done;
    for (const ForcedPair& f : forced_) {
      if (f.a == f.b) continue;
      const bool swap = f.b < f.a;
      const SourceKey& first = swap ? f.b : f.a;
      const SourceKey& second = swap ? f.a : f.b;
      if (!done.insert({first, second}).second) continue;  // listed twice
      const size_t a = find(first), b = find(second);
      if (a != MatchEdge::kAbsent && b != MatchEdge::kAbsent) {
        forced_pairs_.insert(static_cast<uint64_t>(std::min(a, b)) << 32 | std::max(a, b));
      }
      const uint32_t home_a = shards_.HomeOf(first.source, first.key);
      const uint32_t home_b = shards_.HomeOf(second.source, second.key);
      const bool by_a = home_a == shards_.self() && a != MatchEdge::kAbsent;
      const bool by_b = home_b == shards_.self() && b != MatchEdge::kAbsent;
      // A shard home to both holds both: it emits only a pair it has.
      if (home_a == home_b ? !(by_a && by_b) : !(by_a || by_b)) continue;
      MatchEdge& edge = (by_a ? forced_edges_ : forced_echoes_).emplace_back();
      edge.a = a;
      edge.b = b;
      edge.names = std::make_shared<const std::pair<SourceKey, SourceKey>>(first, second);
      edge.band = f.link ? Band::kMerge : Band::kDistinct;
      edge.rule = "steward";
      edge.detail = std::string(f.link ? "match" : "distinct") + " decided by " +
                    (f.decided_by.empty() ? "a steward" : f.decided_by);
    }
  }

  // The keys and rows are laid out: nothing below reads a record's values
  // (the u sample, term frequencies and pairs read the rows, the names).
  if (in.values_read) in.values_read();

  // Pass 1: compare every candidate pair once.
  compare::PairCodes& codes = codes_;
  // Pattern counts per blocking rule: a comparison on a field a rule blocks
  // on always agrees inside that rule's blocks, so its m is learnt only
  // from the other rules' pairs.
  std::vector<std::unordered_map<uint64_t, uint64_t>> pattern_counts(blocks.size());
  keys_ = blocking::KeyRows::Of(&keys);
  comparer_.CompareAll(keys_, blocks, &stats_, &codes, &pattern_counts);

  patterns_.clear();
  for (const auto& counts : pattern_counts) {
    patterns_.emplace_back(counts.begin(), counts.end());
    std::sort(patterns_.back().begin(), patterns_.back().end());  // the same sums in any run
  }
  SampleU(in);
  // Term frequencies: the values of this shard's home records, sent with
  // the patterns (after the blocking rules' entries) and summed over the
  // shards by the coordinator.
  tf_marked_ = tf::Marked(comparisons_);
  if (!tf_marked_.empty()) {
    for (tf::Counts& counts :
         tf::CountValues(comparer_, comparisons_, tf_marked_, n, [&](size_t i) {
           if (!in.skip.empty() && in.skip[i]) return false;
           if (in.shards.single()) return true;
           const uint32_t v = static_cast<uint32_t>(KeyHash(records[i].source, records[i].key) %
                                                    ShardMap::kVirtualShards);
           return in.shards.owners()[v] == in.shards.self();
         })) {
      patterns_.resize(std::max(patterns_.size(), spec_.blocking.size()));
      patterns_.push_back(std::move(counts));
    }
  }
  return Status::Ok();
}

// A pair's term-frequency adjustment reads the count of its first record's
// value on each marked comparison where it agrees exactly (tf::Adjustment),
// and only when it is scored: those values are all Decide needs.
TermValuesNeeded FuzzyMatcher::TermValues() const {
  TermValuesNeeded out;
  if (tf_marked_.empty()) return out;
  out.first = spec_.blocking.size();  // where Compare puts the counts
  out.hashes.resize(tf_marked_.size());
  // Sorted and made unique whenever a list doubles its distinct values:
  // held whole, they were 8 bytes per agreeing pair and comparison (more
  // than the pair codes), not per value.
  std::vector<size_t> distinct(tf_marked_.size(), 0);
  auto settle = [](std::vector<uint64_t>& h) {
    std::sort(h.begin(), h.end());
    h.erase(std::unique(h.begin(), h.end()), h.end());
  };
  size_t next = 0;
  blocking::ForEachPair(keys_, blocks_, [&](size_t, uint32_t a, uint32_t) {
    const uint64_t code = codes_[next++];
    if (code & kRuleFlag) return;
    for (size_t k = 0; k < tf_marked_.size(); ++k) {
      if (LevelOf(code, tf_marked_[k]) != 0) continue;
      std::vector<uint64_t>& h = out.hashes[k];
      h.push_back(comparer_.ValueHash(a, comparisons_[tf_marked_[k]].column));
      if (h.size() >= 2 * distinct[k] + 65536) {
        settle(h);
        distinct[k] = h.size();
      }
    }
  });
  for (std::vector<uint64_t>& h : out.hashes) {
    settle(h);
    h.shrink_to_fit();
  }
  return out;
}

// Given every shard's pattern counts summed (or this shard's own when it is
// the only one): m by EM, the weights, then the bands of this shard's pairs.
std::vector<MatchEdge> FuzzyMatcher::Decide(const PatternCounts& all, const LevelCounts& u) {
  std::vector<MatchEdge> edges;
  const bool scoring = !comparisons_.empty();
  const blocking::KeyRows& keys = keys_;
  const std::vector<blocking::Blocks>& blocks = blocks_;
  const compare::PairCodes& codes = codes_;
  std::vector<em::RuleFit> fits;
  if (scoring) {
    em::EstimateU(u, &comparisons_);
    fits = em::EstimateM(spec_, comparer_, all, &comparisons_);
    for (const em::RuleFit& fit : fits) {
      char note[200];
      std::snprintf(note, sizeof note,
                    "EM over %.0f candidate pairs of blocking rule %s: match proportion %.4f "
                    "(%.0f expected matches), %s after %d iterations",
                    fit.pairs, fit.rule.c_str(), fit.proportion, fit.matches,
                    fit.converged ? "converged" : "not converged", fit.iterations);
      stats_.notes.push_back(note);
    }
    for (Comparison& cmp : comparisons_) {
      cmp.weight.assign(cmp.levels, 0);
      std::string note = "comparison " + cmp.spec->name + " (m " + (cmp.fixed_m ? "given" : "EM") +
                         ", u " + (cmp.fixed_u ? "given" : "random pairs") + "):";
      for (int l = 0; l < cmp.levels; ++l) {
        cmp.weight[l] = std::log2(cmp.m[l] / cmp.u[l]);
        char buf[96];
        std::snprintf(buf, sizeof buf, " %s m=%.4f u=%.4f w=%+.2f", cmp.labels[l].c_str(), cmp.m[l],
                      cmp.u[l], cmp.weight[l]);
        note += buf;
      }
      stats_.notes.push_back(note);
    }
    if (!tf_marked_.empty()) {
      tf_ = tf::Adjustment(
          tf_marked_, std::vector<tf::Counts>(
                          all.begin() + std::min(all.size(), spec_.blocking.size()), all.end()));
    }
    std::vector<EdgeDetailWriter::Comparison> texts;
    for (size_t c = 0; c < comparisons_.size(); ++c) {
      const Comparison& cmp = comparisons_[c];
      texts.push_back({cmp.spec->name, cmp.labels, cmp.weight, cmp.levels, comparer_.Radix(c),
                       cmp.crosswise_level, cmp.crosswise_partner});
    }
    writer_ = std::make_shared<const EdgeDetailWriter>(std::move(texts), tf_marked_);
    rule_prior_.assign(spec_.blocking.size(), std::nan(""));
    rule_leaves_out_.assign(spec_.blocking.size(), std::vector<bool>(comparisons_.size()));
    for (size_t r = 0; r < fits.size() && r < spec_.blocking.size(); ++r) {
      if (fits[r].pairs == 0) continue;
      const double p = std::clamp(fits[r].proportion, 1e-6, 1 - 1e-6);
      rule_prior_[r] = std::log2(p / (1 - p));
      for (size_t c = 0; c < comparisons_.size(); ++c) {
        rule_leaves_out_[r][c] = em::Blocks(spec_.blocking[r], comparisons_[c].spec->field);
      }
    }
    for (std::string& note : em::OutvotedRules(fits, comparisons_)) {
      stats_.notes.push_back("EM estimate outvoted: " + std::move(note));
    }
    for (std::string& note : em::AgreeingLevelsAgainst(comparisons_)) {
      stats_.notes.push_back("EM estimate: " + std::move(note));
    }
    for (const em::Problem& p : em::Diagnose(spec_, comparer_, comparisons_, all, fits)) {
      stats_.estimate_problems.push_back(p.ToString());
      stats_.notes.push_back("EM estimate not trusted: " + p.ToString());
    }
  }

  // Pass 2: bands, in the same pair order.
  size_t next = 0;
  auto emit = [&](size_t rule, uint32_t a, uint32_t b, uint64_t code) {
    MatchEdge edge;
    edge.a = a;
    edge.b = b;
    if (code & kRuleFlag) {
      const size_t r = code & ~kRuleFlag;
      if (r == rules_.size()) {
        edge.band = Band::kDistinct;
      } else {
        edge.band = rules_[r].band;
        edge.rule = rules_[r].spec->name;
        edge.detail = rules_[r].spec->text;
      }
    } else {
      const double score = ScorePair(code, a);
      edge.band = score >= spec_.merge_threshold    ? Band::kMerge
                  : score >= spec_.review_threshold ? Band::kReview
                                                    : Band::kDistinct;
      const int d = comparer_.Decisive(code);
      if (d >= 0) edge.band = Band::kDistinct;  // handed on: the guardrails keep the two apart
      // A score in the merge or review band that the EM of the rule that
      // found the pair, prior included, still gives less than even odds:
      // the fixed thresholds leave out how many non-matches that rule's
      // blocks hold, which grows with the data (docs/dedup.md, "The odds
      // of the blocking rule").
      if (edge.band != Band::kDistinct && RuleLogOdds(rule, code, a, score) < 0) {
        edge.band = Band::kDistinct;
      }
      if (edge.band != Band::kDistinct || d >= 0) FillScoredEdge(code, a, score, &edge);
      if (d >= 0) edge.rule = "decisive:" + comparisons_[d].spec->name;
      edge.score = score;
      edge.scored = true;
      ++stats_.weight_bins[static_cast<int>(std::floor(score))];
    }
    switch (edge.band) {
      case Band::kMerge:
        ++stats_.merge;
        break;
      case Band::kReview:
        ++stats_.review;
        break;
      default:
        ++stats_.distinct;
    }
    // A distinct edge with a rule (a distinct rule, a decisive level) is a
    // constraint for the cluster guardrails.
    if (edge.band != Band::kDistinct || !edge.rule.empty()) edges.push_back(std::move(edge));
  };
  blocking::ForEachPair(keys, blocks, [&](size_t r, uint32_t a, uint32_t b) {
    const uint64_t code = codes[next++];
    if (!forced_pairs_.empty() && forced_pairs_.count(static_cast<uint64_t>(a) << 32 | b)) return;
    emit(r, a, b, code);
  });
  // The steward pairs this shard emits, blocked together or not (counted
  // by the home of the first record only).
  for (MatchEdge& edge : forced_edges_) {
    ++(edge.band == Band::kMerge ? stats_.merge : stats_.distinct);
    edges.push_back(std::move(edge));
  }
  for (MatchEdge& edge : forced_echoes_) edges.push_back(std::move(edge));
  forced_edges_.clear();
  forced_echoes_.clear();
  const std::string shard =
      shards_.single() ? "" : "shard " + std::to_string(shards_.self()) + ": ";
  for (const MatchStats::Rule& r : stats_.blocking) {
    stats_.notes.push_back(shard + "blocking rule " + r.name + ": " + std::to_string(r.blocked) +
                           " records blocked, " + std::to_string(r.blocks) + " blocks, " +
                           std::to_string(r.pairs) + " new candidate pairs");
  }
  // What only this resolution needed.
  codes_.Release();
  keys_ = {};
  std::vector<blocking::Blocks>().swap(blocks_);
  return edges;
}

}  // namespace

namespace dedup_internal {

DedupSpec FuzzyMatcherSpec(const DedupSpec& spec) {
  DedupSpec out = spec;
  if (!out.key_fields.empty()) {
    BlockingRule key_block;
    key_block.name = "key";
    key_block.yaml_path = out.yaml_path + ".key";
    MatchRuleSpec key_rule;
    key_rule.yaml_path = key_block.yaml_path;
    key_rule.name = "exact:";
    for (size_t i = 0; i < out.key_fields.size(); ++i) {
      key_block.parts.push_back({out.key_fields[i], "value", 0});
      key_rule.name += (i > 0 ? "+" : "") + out.key_fields[i];
      key_rule.terms.push_back({"exact", out.key_fields[i], "", 0, false});
      key_rule.text += (i > 0 ? " and " : "") + out.key_fields[i] + " exact";
    }
    out.blocking.insert(out.blocking.begin(), std::move(key_block));
    out.rules.insert(out.rules.begin(), std::move(key_rule));
  }
  return out;
}

std::vector<BlockingRule> FuzzyBlockingRules(const DedupSpec& spec) {
  return FuzzyMatcherSpec(spec).blocking;
}

}  // namespace dedup_internal

Result<std::unique_ptr<Matcher>> MakeFuzzyMatcher(const DedupSpec& spec, const Schema& schema,
                                                  std::vector<ForcedPair> forced) {
  auto m = std::make_unique<FuzzyMatcher>(spec, std::move(forced));
  SLUICE_RETURN_IF_ERROR(m->Init(schema));
  return std::unique_ptr<Matcher>(std::move(m));
}

}  // namespace sluice
