#include "deduper/edge_routes.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <unordered_map>

namespace sluice {
namespace {

constexpr uint32_t kWhole = UINT32_MAX;

}  // namespace

EdgeRoutes::EdgeRoutes(const ShardMap& shards, const v1::DedupEdges& all)
    : all_(all), count_(shards.count()) {
  // Names interned in edge order; every edge joins its two (a distinct
  // edge too: the chain cuts it decides are recorded by the owner of a
  // cluster of the same component).
  std::unordered_map<std::string, uint32_t> index;
  std::vector<uint32_t> parent, home;
  auto intern = [&](const std::string& source, const std::string& key) {
    std::string name;
    name.reserve(source.size() + key.size() + 1);
    name.append(source).push_back('\x1f');
    name.append(key);
    auto [it, added] = index.emplace(std::move(name), static_cast<uint32_t>(parent.size()));
    if (added) {
      parent.push_back(it->second);
      home.push_back(shards.HomeOf(source, key));
    }
    return it->second;
  };
  auto find = [&](uint32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  component_.assign(all.edges_size(), kWhole);
  for (int e = 0; e < all.edges_size(); ++e) {
    const v1::DedupEdge& edge = all.edges(e);
    if (edge.a_key().empty() || edge.b_key().empty()) continue;
    const uint32_t a = find(intern(edge.a_source(), edge.a_key()));
    const uint32_t b = find(intern(edge.b_source(), edge.b_key()));
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
    component_[e] = a;  // a name for now; its root below
  }
  std::unordered_map<std::string, uint32_t>().swap(index);
  // Component ids are the roots; their homes gathered once per name.
  std::vector<uint32_t> id(parent.size(), kWhole);
  for (uint32_t n = 0; n < parent.size(); ++n) {
    const uint32_t r = find(n);
    if (id[r] == kWhole) {
      id[r] = static_cast<uint32_t>(homes_.size());
      homes_.emplace_back();
    }
    homes_[id[r]].push_back(home[n]);
  }
  for (std::vector<uint32_t>& h : homes_) {
    std::sort(h.begin(), h.end());
    h.erase(std::unique(h.begin(), h.end()), h.end());
  }
  for (uint32_t& c : component_) {
    if (c != kWhole) c = id[find(c)];
  }
}

bool EdgeRoutes::Whole(int e, uint32_t shard) const {
  const uint32_t c = component_.at(static_cast<size_t>(e));
  if (c == kWhole || count_ <= 1) return true;
  return std::binary_search(homes_[c].begin(), homes_[c].end(), shard);
}

void EdgeRoutes::CopyWithoutDetail(int e, v1::DedupEdge* out) const {
  // Field by field: the detail is never copied.
  const v1::DedupEdge& edge = all_.edges(e);
  out->set_a(edge.a());
  out->set_b(edge.b());
  out->set_rule(edge.rule());
  out->set_band(edge.band());
  out->set_scored(edge.scored());
  out->set_score(edge.score());
  out->set_a_source(edge.a_source());
  out->set_a_key(edge.a_key());
  out->set_b_source(edge.b_source());
  out->set_b_key(edge.b_key());
}

v1::DedupEdges EdgeRoutes::For(uint32_t shard) const {
  v1::DedupEdges out;
  out.set_shard(all_.shard());
  out.mutable_edges()->Reserve(all_.edges_size());
  for (int e = 0; e < all_.edges_size(); ++e) {
    if (Whole(e, shard)) {
      *out.add_edges() = all_.edges(e);
    } else {
      CopyWithoutDetail(e, out.add_edges());
    }
  }
  return out;
}

std::vector<v1::DedupEdges> RouteEdges(const ShardMap& shards, const v1::DedupEdges& all) {
  const EdgeRoutes routes(shards, all);
  std::vector<v1::DedupEdges> out;
  out.reserve(shards.count());
  for (uint32_t s = 0; s < shards.count(); ++s) out.push_back(routes.For(s));
  return out;
}

std::vector<v1::DedupEdges> RouteEdges(const ShardMap& shards, v1::DedupEdges&& all) {
  const uint32_t n = shards.count();
  std::vector<v1::DedupEdges> out(n);
  const EdgeRoutes routes(shards, all);
  for (v1::DedupEdges& view : out) {
    view.set_shard(all.shard());
    view.mutable_edges()->Reserve(all.edges_size());
  }
  for (int e = 0; e < all.edges_size(); ++e) {
    uint32_t last = 0;  // the last view that takes it whole (there is one)
    for (uint32_t s = 0; s < n; ++s) {
      if (routes.Whole(e, s)) last = s;
    }
    for (uint32_t s = 0; s < n; ++s) {
      if (s == last) continue;
      if (routes.Whole(e, s)) {
        *out[s].add_edges() = all.edges(e);
      } else {
        routes.CopyWithoutDetail(e, out[s].add_edges());
      }
    }
    // Read no more: every view has edge e in `all`'s order.
    *out[last].add_edges() = std::move(*all.mutable_edges(e));
  }
  all.Clear();
  return out;
}

}  // namespace sluice
