// Dedup scale-out (docs/dedup.md#scale-out): the shard map, the ownership of
// candidate pairs (each compared by exactly one of N shards), the routing of
// records, and the four resolve rounds on N shards (each holding only what
// the router sends it) giving what one shard gives.
#include "deduper/shard_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "common/runtime/codec.h"
#include "deduper/blocking.h"
#include "deduper/dedup.h"
#include "deduper/fuzzy_matcher.h"
#include "deduper/shard_route.h"
#include "deduper/shard_testing.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using shard_testing::People;
using shard_testing::PersonSchema;
using shard_testing::PersonSpec;
using shard_testing::Rule;

TEST(ShardMapTest, ModuloMapAndHomes) {
  ShardMap one;
  EXPECT_TRUE(one.single());
  EXPECT_EQ(one.HomeOf("crm", "k1"), 0u);
  EXPECT_TRUE(one.OwnsBlock(12345));

  ShardMap map(4, 2);
  ASSERT_EQ(map.owners().size(), ShardMap::kVirtualShards);
  for (uint32_t v = 0; v < ShardMap::kVirtualShards; ++v) EXPECT_EQ(map.owners()[v], v % 4);
  EXPECT_EQ(ShardMap::VShardOfBlock(256 * 7 + 6), 6u);
  EXPECT_EQ(map.OwnerOfBlock(256 * 7 + 6), 2u);
  EXPECT_TRUE(map.OwnsBlock(6));
  EXPECT_FALSE(map.OwnsBlock(5));
  // A record's home is the same whichever shard asks.
  std::map<uint32_t, int> homes;
  for (int k = 0; k < 400; ++k) {
    const std::string key = "k" + std::to_string(k);
    const uint32_t h = map.HomeOf("crm", key);
    EXPECT_EQ(ShardMap(4, 0).HomeOf("crm", key), h);
    ++homes[h];
  }
  EXPECT_EQ(homes.size(), 4u);  // spread over every shard
}

TEST(ShardMapTest, MapFromTheCoordinatorOrModulo) {
  std::vector<uint32_t> owners(ShardMap::kVirtualShards, 1);
  owners[3] = 0;
  ShardMap given(owners, 2, 0);
  EXPECT_TRUE(given.OwnsBlock(3));
  EXPECT_FALSE(given.OwnsBlock(4));
  // An owner beyond the shard count, or a short map: the modulo map.
  owners[5] = 7;
  EXPECT_EQ(ShardMap(owners, 2, 0).owners()[5], 1u);
  EXPECT_EQ(ShardMap(owners, 2, 0).owners()[4], 0u);
  EXPECT_EQ(ShardMap(std::vector<uint32_t>{0, 1}, 2, 1).owners()[9], 1u);
}

// Every candidate pair of the single-shard blocking is compared by exactly
// one of N shards, and no shard compares a pair blocking does not give.
TEST(ShardMapTest, EveryCandidatePairIsOwnedByExactlyOneShard) {
  const Schema schema = PersonSchema();
  const DedupSpec spec = PersonSpec();
  const std::vector<Record> records = People(600, 7);
  auto pairs_of = [&](const ShardMap* shards, uint64_t* oversize) {
    std::vector<std::vector<uint64_t>> keys;
    std::vector<blocking::Blocks> blocks;
    for (const BlockingRule& rule : spec.blocking) {
      auto k = BlockingKeys(rule, spec.placeholders, schema, records);
      EXPECT_TRUE(k.ok());
      keys.push_back(std::move(*k));
      MatchStats::Rule stats;
      uint64_t largest = 0;
      blocks.push_back(
          blocking::GroupBlocks(&keys.back(), spec.max_block_size, &stats, &largest, shards));
      *oversize += stats.oversize_blocks;
    }
    std::vector<std::pair<uint32_t, uint32_t>> pairs;
    blocking::ForEachPair(keys, blocks,
                          [&](size_t, uint32_t a, uint32_t b) { pairs.emplace_back(a, b); });
    return pairs;
  };
  uint64_t oversize = 0;
  auto all = pairs_of(nullptr, &oversize);
  EXPECT_GT(oversize, 0u) << "the data should make an oversize block";
  std::set<std::pair<uint32_t, uint32_t>> expected(all.begin(), all.end());
  ASSERT_EQ(expected.size(), all.size()) << "a pair given twice on one shard";
  ASSERT_GT(expected.size(), 200u);
  for (uint32_t n : {1u, 2u, 4u}) {
    std::map<std::pair<uint32_t, uint32_t>, int> owners;
    for (uint32_t s = 0; s < n; ++s) {
      ShardMap map(n, s);
      uint64_t ignored = 0;
      auto mine = pairs_of(&map, &ignored);
      if (n > 1) {
        EXPECT_LT(mine.size(), expected.size()) << "shard " << s << " of " << n;
      }
      for (const auto& p : mine) ++owners[p];
    }
    EXPECT_EQ(owners.size(), expected.size()) << n << " shards";
    for (const auto& [pair, count] : owners) {
      EXPECT_TRUE(expected.count(pair)) << n << " shards";
      EXPECT_EQ(count, 1) << "pair (" << pair.first << ", " << pair.second << ") on " << n
                          << " shards";
    }
  }
}

// Every record goes to its home shard, and both records of every candidate
// pair of the single-shard blocking meet on the shard that compares it.
TEST(ShardRouterTest, HomesAndComparingShardsHoldTheirRecords) {
  const Schema schema = PersonSchema();
  Plan plan;
  plan.dedup["person"] = PersonSpec();
  plan.dedup["person"].key_fields = {"national_id"};  // the key blocks first
  const DedupSpec& spec = plan.dedup["person"];
  const std::vector<Record> records = People(600, 7);
  std::vector<BlockingRule> rules = {Rule("key", {{"national_id", "value", 0}})};
  rules.insert(rules.end(), spec.blocking.begin(), spec.blocking.end());
  std::vector<std::vector<uint64_t>> keys;
  std::vector<blocking::Blocks> blocks;
  for (const BlockingRule& rule : rules) {
    auto k = BlockingKeys(rule, spec.placeholders, schema, records);
    ASSERT_TRUE(k.ok());
    keys.push_back(*k);
    MatchStats::Rule stats;
    uint64_t largest = 0;
    blocks.push_back(blocking::GroupBlocks(&keys.back(), spec.max_block_size, &stats, &largest));
  }
  std::vector<std::tuple<size_t, uint32_t, uint32_t>> pairs;
  blocking::ForEachPair(keys, blocks,
                        [&](size_t r, uint32_t a, uint32_t b) { pairs.emplace_back(r, a, b); });
  ASSERT_GT(pairs.size(), 200u);
  for (uint32_t n : {1u, 2u, 4u}) {
    SCOPED_TRACE(std::to_string(n) + " shards");
    ShardMap map(n, 0);
    auto router = ShardRouter::Create(plan, "person", schema, map);
    ASSERT_TRUE(router.ok()) << router.status().ToString();
    const auto routes = router->Route(records);
    ASSERT_EQ(routes.size(), n);
    auto holds = [&](uint32_t s, uint32_t i) {
      return std::binary_search(routes[s].begin(), routes[s].end(), i);
    };
    size_t routed = 0;
    for (uint32_t s = 0; s < n; ++s) {
      EXPECT_TRUE(std::is_sorted(routes[s].begin(), routes[s].end()));
      routed += routes[s].size();
    }
    for (uint32_t i = 0; i < records.size(); ++i) {
      EXPECT_TRUE(holds(map.HomeOf(records[i].source, records[i].key), i)) << i;
    }
    for (const auto& [r, a, b] : pairs) {
      const uint32_t s = map.OwnerOfBlock(keys[r][a]);
      EXPECT_TRUE(holds(s, a) && holds(s, b)) << "pair " << a << ", " << b << " rule " << r;
    }
    if (n == 1) {
      EXPECT_EQ(routed, records.size());
    } else {
      EXPECT_LT(routed, records.size() * n) << "routing sends a record to only some shards";
    }
  }
  // A spec naming a field the entity lacks fails with its YAML path.
  plan.dedup["person"].blocking.push_back(Rule("bad", {{"no_such_field", "value", 0}}));
  auto bad = ShardRouter::Create(plan, "person", schema, ShardMap(2, 0));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("dedup.person.blocking.bad"), std::string::npos)
      << bad.status().ToString();
  // The exact-key matcher: equal keys go to one shard, the key's owner.
  Plan exact;
  exact.dedup["person"].key_fields = {"national_id"};
  exact.dedup["person"].yaml_path = "dedup.person";
  auto by_key = ShardRouter::Create(exact, "person", schema, ShardMap(4, 0));
  ASSERT_TRUE(by_key.ok()) << by_key.status().ToString();
  std::vector<Record> twins = {records[0], records[0]};
  twins[1].source = "erp";
  twins[1].key = "twin";
  const auto twin_routes = by_key->Route(twins);
  bool met = false;
  for (const auto& r : twin_routes) met = met || r.size() == 2;
  EXPECT_TRUE(met);
  exact.dedup["person"].key_fields = {"nope"};
  EXPECT_EQ(ShardRouter::Create(exact, "person", schema, ShardMap(2, 0)).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice
