#include "deduper/guardrails.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>

#include "deduper/dedup_internal.h"

namespace sluice::dedup_internal {
namespace {

// Union-find whose groups remember the records they must never join.
class Groups {
 public:
  explicit Groups(size_t n) : parent_(n), apart_(n) {
    std::iota(parent_.begin(), parent_.end(), 0u);
  }
  uint32_t Find(uint32_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  // Records a and b (distinct edge e) must stay apart.
  void KeepApart(uint32_t a, uint32_t b, size_t e) {
    apart_[a].push_back({b, e});
    apart_[b].push_back({a, e});
  }
  // Whether joining the groups of a and b would put two records kept apart
  // together; *edge: the distinct edge that keeps them apart.
  bool Conflict(uint32_t a, uint32_t b, size_t* edge) {
    const uint32_t ra = Find(a), rb = Find(b);
    const bool swap = apart_[ra].size() > apart_[rb].size();
    const uint32_t from = swap ? rb : ra, into = swap ? ra : rb;
    for (auto [other, e] : apart_[from]) {
      if (Find(other) == into) {
        *edge = e;
        return true;
      }
    }
    return false;
  }
  void Union(uint32_t a, uint32_t b) {
    a = Find(a);
    b = Find(b);
    if (a == b) return;
    if (apart_[a].size() < apart_[b].size()) std::swap(a, b);
    parent_[b] = a;
    apart_[a].insert(apart_[a].end(), apart_[b].begin(), apart_[b].end());
    apart_[b].clear();
  }

 private:
  std::vector<uint32_t> parent_;
  // By group root: the records its members are kept apart from, and the
  // distinct edge of each.
  std::vector<std::vector<std::pair<uint32_t, size_t>>> apart_;
};

std::string Name(const Record& r) { return r.source + ":" + r.key; }

}  // namespace

ChainCuts CutChains(const std::vector<Record>& records, const std::vector<MatchEdge>& edges,
                    const std::vector<uint8_t>& ignore) {
  const size_t n = records.size();
  ChainCuts out;
  out.cut.assign(edges.size(), {});
  out.binding.assign(edges.size(), 0);
  std::vector<size_t> links, apart;
  for (size_t e = 0; e < edges.size(); ++e) {
    const MatchEdge& edge = edges[e];
    if (edge.a >= n || edge.b >= n || edge.a == edge.b) continue;
    if (!ignore.empty() && (ignore[edge.a] || ignore[edge.b])) continue;
    (edge.band == Band::kDistinct ? apart : links).push_back(e);
  }
  if (apart.empty()) return out;
  // Which distinct edges the links would break: only their clusters are
  // taken apart.
  Groups all(n);
  for (size_t e : links) all.Union(edges[e].a, edges[e].b);
  Groups groups(n);
  bool any = false;
  for (size_t e : apart) {
    const uint32_t a = static_cast<uint32_t>(edges[e].a), b = static_cast<uint32_t>(edges[e].b);
    if (all.Find(a) != all.Find(b)) continue;
    out.binding[e] = 1;
    groups.KeepApart(a, b, e);
    any = true;
  }
  if (!any) return out;
  // Ties by the records' names, so that every shard orders alike.
  auto names = [&](const MatchEdge& e) {
    const Record &a = records[e.a], &b = records[e.b];
    const bool swap = std::tie(b.source, b.key) < std::tie(a.source, a.key);
    const Record &x = swap ? b : a, &y = swap ? a : b;
    return std::tie(x.source, x.key, y.source, y.key);
  };
  std::sort(links.begin(), links.end(), [&](size_t x, size_t y) {
    const MatchEdge &p = edges[x], &q = edges[y];
    const double sp = p.scored ? -p.score : -1e300, sq = q.scored ? -q.score : -1e300;
    if (p.band != q.band) return p.band < q.band;
    if (sp != sq) return sp < sq;
    if (names(p) != names(q)) return names(p) < names(q);
    return x < y;
  });
  for (size_t e : links) {
    const uint32_t a = static_cast<uint32_t>(edges[e].a), b = static_cast<uint32_t>(edges[e].b);
    size_t d = 0;
    if (groups.Conflict(a, b, &d)) {
      const MatchEdge& why = edges[d];
      out.cut[e] = "split: the weakest link of a chain between " + Name(records[why.a]) + " and " +
                   Name(records[why.b]) + ", kept apart by " + why.rule +
                   (why.Detail().empty() ? "" : " (" + why.Detail() + ")");
      continue;
    }
    groups.Union(a, b);
  }
  return out;
}

ChainCuts CutChainsByName(const std::vector<NamedEdge>& edges) {
  std::map<std::pair<std::string, std::string>, size_t> index;
  std::vector<Record> records;
  auto intern = [&](const SourceKey& k) {
    auto [it, added] = index.emplace(std::pair{k.source, k.key}, records.size());
    if (added) {
      Record& r = records.emplace_back();
      r.source = k.source;
      r.key = k.key;
    }
    return it->second;
  };
  std::vector<MatchEdge> local;
  local.reserve(edges.size());
  for (const NamedEdge& e : edges) {
    MatchEdge& m = local.emplace_back(e.edge);
    m.a = intern(e.a);
    m.b = intern(e.b);
  }
  return CutChains(records, local);
}

std::vector<NamedEdge> WithoutCutLinks(const std::vector<NamedEdge>& edges,
                                       bool review_on_conflict) {
  if (review_on_conflict) return edges;
  const ChainCuts cuts = CutChainsByName(edges);
  std::vector<NamedEdge> out;
  out.reserve(edges.size());
  for (size_t e = 0; e < edges.size(); ++e) {
    if (cuts.cut[e].empty()) out.push_back(edges[e]);
  }
  return out;
}

std::vector<v1::MatchDecision> SplitDecisions(
    const std::vector<NamedEdge>& edges,
    const std::function<bool(const SourceKey&)>& records_here) {
  return SplitDecisions(edges, CutChainsByName(edges), records_here);
}

std::vector<v1::MatchDecision> SplitDecisions(
    const std::vector<NamedEdge>& edges, const ChainCuts& cuts,
    const std::function<bool(const SourceKey&)>& records_here) {
  std::vector<v1::MatchDecision> out;
  for (size_t e = 0; e < edges.size(); ++e) {
    const NamedEdge& n = edges[e];
    const bool cut = !cuts.cut[e].empty();
    if (!cut && !(cuts.binding[e] && n.edge.rule != "steward")) continue;
    const bool swap = std::tie(n.b.source, n.b.key) < std::tie(n.a.source, n.a.key);
    const SourceKey& a = swap ? n.b : n.a;
    const SourceKey& b = swap ? n.a : n.b;
    if (!records_here(a)) continue;
    v1::MatchDecision& d = out.emplace_back(DistinctDecision(n.edge, a, b));
    if (cut) d.set_outcome(cuts.cut[e]);
  }
  return out;
}

std::string ConflictReason(const Record& a, const Record& b, const MatchEdge& distinct) {
  return "a decisive disagreement inside the cluster (guardrails.on_conflict: review): " + Name(a) +
         " and " + Name(b) + " are kept apart by " + distinct.rule +
         (distinct.Detail().empty() ? "" : " (" + distinct.Detail() + ")");
}

}  // namespace sluice::dedup_internal
