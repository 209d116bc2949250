#include "deduper/shard_rounds.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace sluice {

PatternCounts SumPatterns(const std::vector<PatternCounts>& shards) {
  size_t rules = 0;
  for (const PatternCounts& s : shards) rules = std::max(rules, s.size());
  PatternCounts sum(rules);
  for (size_t r = 0; r < rules; ++r) {
    std::map<uint64_t, uint64_t> total;  // ordered: the same sums in any shard order
    for (const PatternCounts& s : shards) {
      if (r >= s.size()) continue;
      for (const auto& [pattern, count] : s[r]) total[pattern] += count;
    }
    sum[r].assign(total.begin(), total.end());
  }
  return sum;
}

void PatternsToProto(const PatternCounts& counts, v1::DedupPatterns* out) {
  out->clear_rules();
  for (const auto& rule : counts) {
    v1::DedupRulePatterns* r = out->add_rules();
    for (const auto& [pattern, count] : rule) {
      r->add_patterns(pattern);
      r->add_counts(count);
    }
  }
}

PatternCounts PatternsFromProto(const v1::DedupPatterns& in) {
  PatternCounts counts(in.rules_size());
  for (int r = 0; r < in.rules_size(); ++r) {
    const v1::DedupRulePatterns& rule = in.rules(r);
    for (int i = 0; i < rule.patterns_size() && i < rule.counts_size(); ++i) {
      counts[r].emplace_back(rule.patterns(i), rule.counts(i));
    }
  }
  return counts;
}

void EdgesToProto(const std::vector<MatchEdge>& edges, v1::DedupEdges* out) {
  out->mutable_edges()->Reserve(static_cast<int>(edges.size()));
  for (const MatchEdge& e : edges) {
    v1::DedupEdge* p = out->add_edges();
    p->set_a(static_cast<uint32_t>(e.a));
    p->set_b(static_cast<uint32_t>(e.b));
    p->set_rule(e.rule);
    p->set_band(static_cast<uint32_t>(e.band));
    p->set_scored(e.scored);
    p->set_score(e.score);
    p->set_detail(e.detail);
  }
}

Result<std::vector<MatchEdge>> EdgesFromProto(const v1::DedupEdges& in, size_t records) {
  std::vector<MatchEdge> edges;
  edges.reserve(in.edges_size());
  for (const v1::DedupEdge& p : in.edges()) {
    if (p.a() >= records || p.b() >= records || p.band() > static_cast<uint32_t>(Band::kDistinct)) {
      return Status::Corruption("dedup edge (" + std::to_string(p.a()) + ", " +
                                std::to_string(p.b()) + ") does not fit the shard's " +
                                std::to_string(records) + " records");
    }
    MatchEdge& e = edges.emplace_back();
    e.a = p.a();
    e.b = p.b();
    e.rule = p.rule();
    e.band = static_cast<Band>(p.band());
    e.scored = p.scored();
    e.score = p.score();
    e.detail = p.detail();
  }
  std::sort(edges.begin(), edges.end(), [](const MatchEdge& x, const MatchEdge& y) {
    return std::tie(x.a, x.b, x.rule) < std::tie(y.a, y.b, y.rule);
  });
  return edges;
}

// The default phases: no estimation, so Compare does all the work and each
// shard keeps the edges whose first record's home it is.
Status Matcher::Compare(const Schema& schema, const std::vector<Record>& records,
                        const ShardMap& shards) {
  compared_ = Match(schema, records);
  if (!shards.single()) {
    std::erase_if(compared_, [&](const MatchEdge& e) {
      return shards.HomeOf(records[e.a].source, records[e.a].key) != shards.self();
    });
  }
  return Status::Ok();
}

std::vector<MatchEdge> Matcher::Decide(const PatternCounts&) { return std::move(compared_); }

}  // namespace sluice
