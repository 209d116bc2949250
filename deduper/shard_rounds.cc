#include "deduper/shard_rounds.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace sluice {

namespace {

// Adds up equal patterns (or values) of `total`, leaving it ascending.
void AddUp(std::vector<std::pair<uint64_t, uint64_t>>* total) {
  std::sort(total->begin(), total->end());
  size_t out = 0;
  for (size_t i = 0; i < total->size(); ++i) {
    if (out > 0 && (*total)[out - 1].first == (*total)[i].first) {
      (*total)[out - 1].second += (*total)[i].second;
    } else {
      (*total)[out++] = (*total)[i];
    }
  }
  total->resize(out);
  total->shrink_to_fit();
}

// The values of entry e that `keep` names; null: the entry is kept whole.
const std::vector<uint64_t>* NeededOf(const TermValuesNeeded& keep, size_t e) {
  static const std::vector<uint64_t> kNone;
  if (e < keep.first) return nullptr;
  return e - keep.first < keep.hashes.size() ? &keep.hashes[e - keep.first] : &kNone;
}

bool Needed(const std::vector<uint64_t>* needed, uint64_t hash) {
  // Hash 0 holds the total of records with a value.
  return needed == nullptr || hash == 0 || std::binary_search(needed->begin(), needed->end(), hash);
}

}  // namespace

PatternCounts SumPatterns(const std::vector<v1::DedupPatterns>& all, const TermValuesNeeded& keep) {
  size_t entries = 0;
  for (const v1::DedupPatterns& p : all) {
    entries = std::max(entries, static_cast<size_t>(p.rules_size()));
  }
  PatternCounts sum(entries);
  for (size_t e = 0; e < entries; ++e) {
    const std::vector<uint64_t>* needed = NeededOf(keep, e);
    std::vector<std::pair<uint64_t, uint64_t>>& total = sum[e];
    for (const v1::DedupPatterns& p : all) {
      if (e >= static_cast<size_t>(p.rules_size())) continue;
      const v1::DedupRulePatterns& rule = p.rules(static_cast<int>(e));
      for (int i = 0; i < rule.patterns_size() && i < rule.counts_size(); ++i) {
        if (Needed(needed, rule.patterns(i))) total.emplace_back(rule.patterns(i), rule.counts(i));
      }
    }
    AddUp(&total);
  }
  return sum;
}

void KeepNeededTermValues(const TermValuesNeeded& keep, PatternCounts* counts) {
  for (size_t e = 0; e < counts->size(); ++e) {
    const std::vector<uint64_t>* needed = NeededOf(keep, e);
    if (needed == nullptr) continue;
    std::vector<std::pair<uint64_t, uint64_t>>& entry = (*counts)[e];
    entry.erase(std::remove_if(entry.begin(), entry.end(),
                               [&](const auto& c) { return !Needed(needed, c.first); }),
                entry.end());
    entry.shrink_to_fit();
  }
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

void LevelCountsToProto(const LevelCounts& counts, v1::DedupPatterns* out) {
  out->clear_u_counts();
  for (const std::vector<uint64_t>& c : counts) {
    out->add_u_counts()->mutable_counts()->Assign(c.begin(), c.end());
  }
}

LevelCounts SumLevelCounts(const std::vector<v1::DedupPatterns>& all) {
  LevelCounts sum;
  for (const v1::DedupPatterns& p : all) {
    if (sum.size() < static_cast<size_t>(p.u_counts_size())) sum.resize(p.u_counts_size());
    for (int c = 0; c < p.u_counts_size(); ++c) {
      const auto& levels = p.u_counts(c).counts();
      if (sum[c].size() < static_cast<size_t>(levels.size())) sum[c].resize(levels.size(), 0);
      for (int l = 0; l < levels.size(); ++l) sum[c][l] += levels[l];
    }
  }
  return sum;
}

void EdgesToProto(const std::vector<MatchEdge>& edges, const std::vector<Record>& records,
                  v1::DedupEdges* out) {
  out->mutable_edges()->Reserve(static_cast<int>(edges.size()));
  for (const MatchEdge& e : edges) {
    v1::DedupEdge* p = out->add_edges();
    const bool a_named = e.a == MatchEdge::kAbsent && e.names;
    p->set_a_source(a_named ? e.names->first.source : records[e.a].source);
    p->set_a_key(a_named ? e.names->first.key : records[e.a].key);
    const bool named = e.b == MatchEdge::kAbsent && e.names;
    p->set_b_source(named ? e.names->second.source : records[e.b].source);
    p->set_b_key(named ? e.names->second.key : records[e.b].key);
    p->set_rule(e.rule);
    p->set_band(static_cast<uint32_t>(e.band));
    p->set_scored(e.scored);
    p->set_score(e.score);
    p->set_detail(e.Detail());
  }
}

Result<std::vector<NamedEdge>> EdgesFromProto(const v1::DedupEdges& in) {
  std::vector<NamedEdge> edges;
  edges.reserve(in.edges_size());
  for (const v1::DedupEdge& p : in.edges()) {
    if (p.band() > static_cast<uint32_t>(Band::kDistinct) || p.a_key().empty() ||
        p.b_key().empty()) {
      return Status::Corruption("dedup edge (" + p.a_source() + ":" + p.a_key() + ", " +
                                p.b_source() + ":" + p.b_key() + ") is malformed");
    }
    NamedEdge& n = edges.emplace_back();
    n.a = {p.a_source(), p.a_key()};
    n.b = {p.b_source(), p.b_key()};
    MatchEdge& e = n.edge;
    e.rule = p.rule();
    e.band = static_cast<Band>(p.band());
    e.scored = p.scored();
    e.score = p.score();
    e.detail = p.detail();
  }
  std::sort(edges.begin(), edges.end(), [](const NamedEdge& x, const NamedEdge& y) {
    return std::tie(x.a, x.b, x.edge.rule) < std::tie(y.a, y.b, y.edge.rule);
  });
  return edges;
}

void KeepStewardEdges(const ShardMap& shards, std::vector<NamedEdge>* edges) {
  std::vector<NamedEdge> kept;
  kept.reserve(edges->size());
  // Sorted by names: the copies of one pair are adjacent.
  for (size_t i = 0; i < edges->size();) {
    NamedEdge& e = (*edges)[i];
    size_t end = i + 1;
    if (e.edge.rule != "steward") {
      kept.push_back(std::move(e));
      i = end;
      continue;
    }
    while (end < edges->size() && (*edges)[end].edge.rule == "steward" && (*edges)[end].a == e.a &&
           (*edges)[end].b == e.b) {
      ++end;
    }
    const size_t need =
        shards.HomeOf(e.a.source, e.a.key) == shards.HomeOf(e.b.source, e.b.key) ? 1 : 2;
    if (end - i >= need) kept.push_back(std::move(e));
    i = end;
  }
  *edges = std::move(kept);
}

// One shard: every phase here, no oversize block known beforehand.
std::vector<MatchEdge> Matcher::Match(const Schema& schema, const std::vector<Record>& records,
                                      const std::vector<uint8_t>& skip,
                                      std::function<void()> values_read) {
  const ShardMap one;
  MatchInput in{schema, records, skip, one, 0};
  in.values_read = std::move(values_read);
  if (!Compare(in, {}).ok()) return {};
  PatternCounts patterns = Patterns();
  KeepNeededTermValues(TermValues(), &patterns);
  return Decide(patterns, UCounts());
}

}  // namespace sluice
