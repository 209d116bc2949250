// Round 4's edges, routed (edge_routes.h): every shard gets every edge, the
// detail only where a record of the edge's component is home.
#include "deduper/edge_routes.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

// The first key "k<i>" of source "crm" whose home is `shard` of `map`,
// from `from` on.
std::string KeyHomedAt(const ShardMap& map, uint32_t shard, int* from) {
  for (;; ++*from) {
    std::string key = "k" + std::to_string(*from);
    if (map.HomeOf("crm", key) == shard) {
      ++*from;
      return key;
    }
  }
}

v1::DedupEdge Edge(const std::string& a, const std::string& b, uint32_t band,
                   const std::string& detail) {
  v1::DedupEdge e;
  e.set_a_source("crm");
  e.set_a_key(a);
  e.set_b_source("crm");
  e.set_b_key(b);
  e.set_rule("scored");
  e.set_band(band);
  e.set_scored(true);
  e.set_score(band == 0 ? 14.5 : -3.0);
  e.set_detail(detail);
  return e;
}

TEST(EdgeRoutesTest, DetailGoesOnlyToTheHomesOfTheComponentsRecords) {
  const ShardMap map(4, 0);
  int from = 0;
  const std::string a0 = KeyHomedAt(map, 0, &from), b1 = KeyHomedAt(map, 1, &from);
  const std::string c1 = KeyHomedAt(map, 1, &from), d1 = KeyHomedAt(map, 1, &from);
  const std::string e2 = KeyHomedAt(map, 2, &from), f2 = KeyHomedAt(map, 2, &from);
  const std::string g3 = KeyHomedAt(map, 3, &from);
  v1::DedupEdges all;
  *all.add_edges() = Edge(a0, b1, 0, "ab");  // component {a, b, c}: shards 0, 1
  *all.add_edges() = Edge(c1, b1, 0, "cb");
  *all.add_edges() = Edge(d1, d1, 0, "dd");  // a record with itself: shard 1
  *all.add_edges() = Edge(e2, f2, 0, "ef");  // component {e, f, g}: shards 2, 3,
  *all.add_edges() = Edge(g3, f2, 2, "gf");  // joined by a distinct edge
  v1::DedupEdge malformed = Edge(a0, "", 0, "bad");
  *all.add_edges() = malformed;
  const std::vector<std::vector<std::string>> expected = {
      {"ab", "cb", "", "", "", "bad"},
      {"ab", "cb", "dd", "", "", "bad"},
      {"", "", "", "ef", "gf", "bad"},
      {"", "", "", "ef", "gf", "bad"},
  };
  const std::vector<v1::DedupEdges> views = RouteEdges(map, all);
  ASSERT_EQ(views.size(), 4u);
  // Taking `all` apart gives the same views.
  std::vector<v1::DedupEdges> moved = RouteEdges(map, v1::DedupEdges(all));
  ASSERT_EQ(moved.size(), 4u);
  for (uint32_t s = 0; s < 4; ++s) {
    EXPECT_EQ(moved[s].SerializeAsString(), views[s].SerializeAsString()) << "shard " << s;
  }
  for (uint32_t s = 0; s < 4; ++s) {
    SCOPED_TRACE("shard " + std::to_string(s));
    ASSERT_EQ(views[s].edges_size(), all.edges_size());
    for (int e = 0; e < all.edges_size(); ++e) {
      const v1::DedupEdge& got = views[s].edges(e);
      EXPECT_EQ(got.detail(), expected[s][e]) << "edge " << e;
      // Everything else, on every shard.
      v1::DedupEdge want = all.edges(e);
      want.set_detail(got.detail());
      EXPECT_EQ(got.SerializeAsString(), want.SerializeAsString()) << "edge " << e;
    }
  }
}

TEST(EdgeRoutesTest, OneShardGetsEverythingWhole) {
  v1::DedupEdges all;
  *all.add_edges() = Edge("x", "y", 0, "xy");
  *all.add_edges() = Edge("y", "z", 1, "yz");
  const std::vector<v1::DedupEdges> views = RouteEdges(ShardMap(), all);
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].SerializeAsString(), all.SerializeAsString());
}

}  // namespace
}  // namespace sluice
