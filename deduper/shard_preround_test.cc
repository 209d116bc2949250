// The pre-round (docs/dedup.md#guests-by-request): the router sends each
// shard its home records only; a record's guest row goes only to the owners
// of its blocks that hold two records or more. Decisions stay those of one
// shard, a row that a pair needed and that does not arrive shows, and a
// replacement asks for its guests again.
#include "deduper/shard_preround.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "deduper/blocking.h"
#include "deduper/dedup.h"
#include "deduper/dedup_internal.h"
#include "deduper/fuzzy_matcher.h"
#include "deduper/guest_rows.h"
#include "deduper/shard_map.h"
#include "deduper/shard_rounds_testing.h"
#include "deduper/shard_route.h"
#include "deduper/shard_testing.h"

namespace sluice {
namespace {

using shard_testing::Outcome;
using shard_testing::PersonSchema;

class ShardPreRoundTest : public shard_testing::ShardRoundsTest {
 protected:
  ShardPreRoundTest() { by_request_ = true; }

  // Per shard of n: how many guest rows it needs, from every record's
  // blocking keys: the records whose home is elsewhere and that share the
  // key of a block it owns with another record (every occurrence counted).
  std::vector<uint64_t> NeededRows(uint32_t n) {
    std::vector<Record> all;
    for (const RecordBatch& b : batches_) all.insert(all.end(), b.records.begin(), b.records.end());
    const DedupSpec& spec = plan_.dedup.at("person");
    std::vector<std::vector<uint64_t>> keys;
    std::vector<std::map<uint64_t, uint64_t>> count;
    for (const BlockingRule& rule : dedup_internal::FuzzyBlockingRules(spec)) {
      auto k = BlockingKeys(rule, spec.placeholders, PersonSchema(), all);
      EXPECT_TRUE(k.ok()) << k.status().ToString();
      keys.push_back(*k);
      std::map<uint64_t, uint64_t>& c = count.emplace_back();
      for (uint64_t key : *k) c[key] += key != 0;
    }
    const ShardMap map(n, 0);
    std::vector<uint64_t> out(n, 0);
    for (size_t i = 0; i < all.size(); ++i) {
      const uint32_t home = map.HomeOf(all[i].source, all[i].key);
      std::set<uint32_t> to;
      for (size_t r = 0; r < keys.size(); ++r) {
        const uint64_t k = keys[r][i];
        if (k != 0 && count[r][k] >= 2 && map.OwnerOfBlock(k) != home)
          to.insert(map.OwnerOfBlock(k));
      }
      for (uint32_t t : to) ++out[t];
    }
    return out;
  }

  // Per shard of n: the guest rows the router sends at ingest.
  std::vector<uint64_t> RowsAtIngest(uint32_t n) {
    auto router = ShardRouter::Create(plan_, "person", PersonSchema(), ShardMap(n, 0));
    EXPECT_TRUE(router.ok());
    std::vector<uint64_t> out(n, 0);
    for (const RecordBatch& b : batches_) {
      std::vector<RecordBatch> parts = router->Split(b);
      for (uint32_t s = 0; s < n; ++s) out[s] += guest::Count(parts[s].guest_rows);
    }
    return out;
  }
};

void ExpectSame(const Outcome& o, const Outcome& one) {
  EXPECT_EQ(o.in, one.in);
  EXPECT_EQ(o.comparisons, one.comparisons);
  EXPECT_EQ(o.survivors, one.survivors);
  EXPECT_EQ(o.fates, one.fates);
  EXPECT_EQ(o.decisions, one.decisions);
  EXPECT_EQ(o.review_items, one.review_items);
  EXPECT_EQ(o.estimates, one.estimates);
}

TEST_F(ShardPreRoundTest, GuestsByRequestDecideAsOneOnOneTwoAndFourShards) {
  const Outcome one = Single();
  ASSERT_GT(one.fates.size(), 20u);
  for (uint32_t n : {1u, 2u, 4u}) {
    SCOPED_TRACE(std::to_string(n) + " shards");
    Rounds r = RunRounds(n, "n");
    uint64_t fetched = 0;
    ExpectSame(Round4(r, &fetched), one);
    if (n == 1) continue;
    // Exactly the rows a block pairs, far fewer than the router sent at
    // ingest (a row to every owner of one of the record's blocks).
    EXPECT_EQ(r.guests_taken, NeededRows(n));
    const std::vector<uint64_t> at_ingest = RowsAtIngest(n);
    for (uint32_t s = 0; s < n; ++s) {
      EXPECT_GT(r.guests_taken[s], 0u);
      EXPECT_LT(r.guests_taken[s], at_ingest[s]);
    }
  }
}

// Every row sent is in a block of two records or more: leaving out the
// rows of one batch on their way to shard 1 loses pairs, and the decisions
// are no longer those of one shard.
TEST_F(ShardPreRoundTest, AGuestRowThatAPairNeededAndThatDoesNotArriveShows) {
  const Outcome one = Single();
  Rounds r = RunRounds(2, "d", [](uint32_t owner, std::vector<RecordBatch>* rows) {
    if (owner == 1 && !rows->empty()) rows->erase(rows->begin());
  });
  const Outcome o = Round4(r);
  EXPECT_LT(o.comparisons, one.comparisons);
  EXPECT_NE(o.decisions, one.decisions);
}

// The rows taken are not logged: a replacement (a new object on the same
// log, as after kill -9) has its home records only, and decides otherwise
// until it asks the others for its guests again; asking twice keeps one
// copy.
TEST_F(ShardPreRoundTest, AReplacementAsksForItsGuestsAgain) {
  const Outcome one = Single();
  Rounds r = RunRounds(2, "r");
  r.shards[1].reset();
  auto fresh = DedupShard::Create(plan_, "person", (dir_ / "r2-1").string(), forced_);
  ASSERT_TRUE(fresh.ok());
  auto bare = (*fresh)->DecidePairs(r.maps[1], r.blocks, r.patterns);
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_NE(bare->SerializeAsString(), r.by_shard[1].SerializeAsString());
  for (int twice = 0; twice < 2; ++twice) {
    ASSERT_TRUE(preround::TakeGuests(**fresh, ServedBy(r, 0, 1)).ok());
    auto edges = (*fresh)->DecidePairs(r.maps[1], r.blocks, r.patterns);
    ASSERT_TRUE(edges.ok()) << edges.status().ToString();
    EXPECT_EQ(edges->SerializeAsString(), r.by_shard[1].SerializeAsString());
  }
  r.shards[1] = std::move(*fresh);
  ExpectSame(Round4(r), one);
}

// Guests that came at ingest and a pre-round do not mix; damaged rows are
// refused.
TEST_F(ShardPreRoundTest, ThePreRoundRefusesGuestsAtIngestAndDamagedRows) {
  by_request_ = false;
  auto at_ingest = Shard("ingest", ShardMap(2, 0));
  EXPECT_EQ(preround::ClaimBlocks(*at_ingest, ShardMap(2, 0)).status().code(),
            StatusCode::kFailedPrecondition);
  by_request_ = true;
  auto shard = Shard("damaged", ShardMap(2, 0));
  RecordBatch bad = batches_[0];
  bad.records.clear();
  bad.guest_rows = std::string("\x04\x00\x02", 3);  // four rules, a guest cut short
  EXPECT_FALSE(preround::TakeGuests(*shard, {bad}).ok());
}

}  // namespace
}  // namespace sluice
