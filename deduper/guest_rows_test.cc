// Guest rows (docs/dedup.md#guest-rows): a record folded by the router
// compares exactly as the same record folded by the shard; the router sends
// each record whole to its home only, and a guest row to the owner of each
// other block it is in; damaged guest rows are refused; a shard lets go of
// the guests no block of its own pairs.
#include "deduper/guest_rows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include "deduper/blocking.h"
#include "deduper/compare_pass.h"
#include "deduper/dedup_internal.h"
#include "deduper/fuzzy_matcher.h"
#include "deduper/shard_route.h"
#include "deduper/shard_testing.h"

namespace sluice {
namespace {

using shard_testing::People;
using shard_testing::PersonSchema;
using shard_testing::PersonSpec;

DedupSpec SpecWithPhonetics() {
  DedupSpec spec = PersonSpec();
  DedupComparison sound{"last_sound", "last_name", "phonetic", {}, {}, {}, ""};
  DedupComparison sx{"first_sound", "first_name", "soundex", {}, {}, {}, ""};
  spec.comparisons.push_back(sound);
  spec.comparisons.push_back(sx);
  return spec;
}

TEST(GuestRowsTest, AFoldedRowComparesAsTheRecord) {
  const Schema schema = PersonSchema();
  const DedupSpec spec = dedup_internal::FuzzyMatcherSpec(SpecWithPhonetics());
  const std::vector<Record> records = People(120, 11);
  compare::PairComparer here, mixed, router;
  ASSERT_TRUE(here.Init(spec, schema).ok());
  ASSERT_TRUE(mixed.Init(spec, schema).ok());
  ASSERT_TRUE(router.Init(spec, schema).ok());
  here.Prepare(schema, records);
  // Every other record a guest: its name only, its row as the router folds it.
  std::vector<Record> held = records;
  std::vector<std::string> rows(records.size());
  for (size_t i = 1; i < records.size(); i += 2) {
    router.FoldRow(records[i], &rows[i]);
    held[i].values.clear();
  }
  auto given = [](const void* ctx, size_t i) -> compare::PairComparer::GivenBytes {
    std::string& row = (*static_cast<std::vector<std::string>*>(const_cast<void*>(ctx)))[i];
    if (row.empty()) return {};
    return {row.data(), row.size()};
  };
  ASSERT_TRUE(mixed.PrepareRows(held, given, &rows).ok());
  for (uint32_t a = 0; a < records.size(); ++a) {
    for (size_t c = 0; c < spec.comparisons.size(); ++c) {
      EXPECT_EQ(here.ValueHash(a, here.comparisons()[c].column),
                mixed.ValueHash(a, mixed.comparisons()[c].column));
    }
    for (uint32_t b = a + 1; b < records.size(); ++b) {
      ASSERT_EQ(here.Code(a, b), mixed.Code(a, b)) << a << ", " << b;
    }
  }
  // A row whose texts lie outside it is refused.
  rows[1].resize(rows[1].size() / 2);
  EXPECT_EQ(mixed.PrepareRows(held, given, &rows).code(), StatusCode::kCorruption);
}

TEST(GuestRowsTest, HomeRecordsWholeGuestRowsToTheOtherBlockOwners) {
  const Schema schema = PersonSchema();
  Plan plan;
  plan.dedup["person"] = PersonSpec();
  const std::vector<BlockingRule> rules = dedup_internal::FuzzyBlockingRules(plan.dedup["person"]);
  RecordBatch batch;
  batch.schema = schema;
  batch.id.set_entity("person");
  batch.records = People(400, 3);
  std::vector<std::vector<uint64_t>> keys;
  for (const BlockingRule& rule : rules) {
    auto k = BlockingKeys(rule, plan.dedup["person"].placeholders, schema, batch.records);
    ASSERT_TRUE(k.ok());
    keys.push_back(*k);
  }
  for (uint32_t n : {1u, 2u, 4u}) {
    SCOPED_TRACE(std::to_string(n) + " shards");
    const ShardMap map(n, 0);
    auto router = ShardRouter::Create(plan, "person", schema, map);
    ASSERT_TRUE(router.ok()) << router.status().ToString();
    const std::vector<RecordBatch> parts = router->Split(batch);
    ASSERT_EQ(parts.size(), n);
    size_t whole = 0, guests = 0;
    for (uint32_t s = 0; s < n; ++s) {
      whole += parts[s].records.size();
      for (size_t j = 0; j < parts[s].records.size(); ++j) {
        const Record& r = parts[s].records[j];
        EXPECT_EQ(map.HomeOf(r.source, r.key), s);
        EXPECT_EQ(r.key, batch.records[parts[s].positions[j]].key);
      }
      size_t home_rows = 0;
      Status st = guest::ForEach(
          parts[s].guest_rows, rules.size(), parts[s].records.size(), [&](const guest::Row& g) {
            if (g.home) {  // the keys of a home record, given to its home
              ++home_rows;
              for (size_t k = 0; k < rules.size(); ++k) {
                EXPECT_EQ(g.Key(k), keys[k][parts[s].positions[g.index]]);
              }
              return;
            }
            ++guests;
            const Record& r = batch.records[g.position];
            EXPECT_EQ(g.key, r.key);
            EXPECT_NE(map.HomeOf(r.source, r.key), s) << "a guest on its home shard";
            bool owns = false;
            for (size_t k = 0; k < rules.size(); ++k) {
              EXPECT_EQ(g.Key(k), keys[k][g.position]);
              owns =
                  owns || (keys[k][g.position] != 0 && map.OwnerOfBlock(keys[k][g.position]) == s);
            }
            EXPECT_TRUE(owns) << "a guest where it has no block";
          });
      EXPECT_TRUE(st.ok()) << st.ToString();
      EXPECT_EQ(home_rows, n == 1 ? 0u : parts[s].records.size());
    }
    EXPECT_EQ(whole, batch.records.size()) << "each record whole on its home only";
    if (n == 1) EXPECT_EQ(guests, 0u);
    if (n > 1) EXPECT_GT(guests, 0u);
  }
}

// Guests by request (the transformer's router): each record goes whole to
// its home shard only, with no row at all: the shard folds its home rows
// itself, as one shard does, and the pre-round moves the guest rows.
TEST(GuestRowsTest, ByRequestEachRecordGoesHomeUnfolded) {
  const Schema schema = PersonSchema();
  Plan plan;
  plan.dedup["person"] = PersonSpec();
  RecordBatch batch;
  batch.schema = schema;
  batch.id.set_entity("person");
  batch.records = People(400, 5);
  for (uint32_t n : {2u, 4u}) {
    SCOPED_TRACE(std::to_string(n) + " shards");
    const ShardMap map(n, 0);
    auto router = ShardRouter::Create(plan, "person", schema, map);
    ASSERT_TRUE(router.ok()) << router.status().ToString();
    router->set_guests_by_request(true);
    const std::vector<RecordBatch> parts = router->Split(batch);
    ASSERT_EQ(parts.size(), n);
    std::vector<bool> seen(batch.records.size(), false);
    for (uint32_t s = 0; s < n; ++s) {
      EXPECT_TRUE(parts[s].guest_rows.empty()) << "shard " << s << " was sent rows";
      ASSERT_EQ(parts[s].positions.size(), parts[s].records.size());
      for (size_t j = 0; j < parts[s].records.size(); ++j) {
        const uint32_t at = parts[s].positions[j];
        const Record& r = parts[s].records[j];
        EXPECT_EQ(map.HomeOf(r.source, r.key), s);
        EXPECT_EQ(r.key, batch.records[at].key);
        EXPECT_EQ(r.values.size(), schema.fields.size()) << "sent whole";
        EXPECT_FALSE(seen[at]) << "sent twice";
        seen[at] = true;
      }
    }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), true),
              static_cast<std::ptrdiff_t>(batch.records.size()));
  }
}

TEST(GuestRowsTest, DamagedGuestRowsAreRefused) {
  std::string data;
  guest::Writer w(&data, 2);
  Record r;
  r.source = "crm";
  r.key = "c1";
  const uint64_t keys[2] = {7, 0};
  w.Add(r, 3, keys, "row");
  size_t seen = 0;
  ASSERT_TRUE(guest::ForEach(data, 2, 0, [&](const guest::Row& g) {
                ++seen;
                EXPECT_EQ(g.source, "crm");
                EXPECT_EQ(g.position, 3u);
                EXPECT_EQ(g.Key(0), 7u);
                EXPECT_EQ(g.folded, "row");
              }).ok());
  EXPECT_EQ(seen, 1u);
  EXPECT_EQ(guest::Count(data), 1u);
  EXPECT_EQ(guest::ForEach(data, 3, 0, [](const guest::Row&) {}).code(), StatusCode::kCorruption);
  EXPECT_EQ(guest::ForEach(data.substr(0, data.size() - 2), 2, 0, [](const guest::Row&) {}).code(),
            StatusCode::kCorruption);
  // A home row names a record of its batch.
  std::string home;
  guest::Writer h(&home, 2);
  h.AddHome(1, keys, "row");
  EXPECT_TRUE(guest::ForEach(home, 2, 2, [](const guest::Row& g) { EXPECT_TRUE(g.home); }).ok());
  EXPECT_EQ(guest::Count(home), 0u);
  EXPECT_EQ(guest::ForEach(home, 2, 1, [](const guest::Row&) {}).code(), StatusCode::kCorruption);
}

TEST(GuestRowsTest, AGuestNoBlockHerePairsIsLetGoInPlace) {
  const ShardMap map(2, 0);
  std::vector<uint64_t> mine, theirs;  // block keys shard 0 owns, shard 1 owns
  for (uint64_t k = 1; mine.size() < 3 || theirs.size() < 1; ++k) {
    (map.OwnsBlock(k) ? mine : theirs).push_back(k);
  }
  auto name = [&](uint32_t home, int from) {
    Record r;
    r.source = "crm";
    for (int i = from;; ++i) {
      r.key = "k" + std::to_string(i);
      if (map.HomeOf(r.source, r.key) == home) return r;
    }
  };
  // Guests A and B share block mine[0]; C is alone in mine[1] (its other
  // block is shard 1's); D shares mine[2] with the home record H; E has no
  // block here.
  const uint64_t none = 0;
  const std::vector<std::array<uint64_t, 2>> keys = {{mine[0], none},      {mine[0], none},
                                                     {mine[1], theirs[0]}, {none, mine[2]},
                                                     {none, theirs[0]},    {none, mine[2]}};
  std::vector<Record> records;
  for (int i = 0; i < 5; ++i) records.push_back(name(1, i * 100));
  records.push_back(name(0, 0));
  std::string bytes;
  guest::Writer writer(&bytes, 2);
  for (uint32_t i = 0; i < 5; ++i) {
    writer.Add(records[i], i, keys[i].data(), "row" + std::to_string(i));
  }
  writer.AddHome(0, keys[5].data(), "row5");
  guest::Store store;
  std::vector<uint32_t> guest_of;
  ASSERT_TRUE(guest::ForEach(bytes, 2, 1, [&](const guest::Row& row) {
                guest_of.push_back(store.Add(row, 2));
              }).ok());
  ASSERT_EQ(store.size(), 6u);

  const std::vector<uint8_t> need = guest::NeededForBlocks(records, guest_of, store, map);
  EXPECT_EQ(need, (std::vector<uint8_t>{1, 1, 0, 1, 0, 1}));
  // One shard, or a record without a row: every record is needed.
  EXPECT_EQ(guest::NeededForBlocks(records, guest_of, store, ShardMap(1, 0)),
            std::vector<uint8_t>(6, 1));
  std::vector<uint32_t> some_whole = guest_of;
  some_whole[5] = guest::kHome;
  EXPECT_EQ(guest::NeededForBlocks(records, some_whole, store, map), std::vector<uint8_t>(6, 1));

  const std::vector<uint32_t> index = store.Keep(need);
  EXPECT_EQ(index, (std::vector<uint32_t>{0, 1, guest::kHome, 2, guest::kHome, 3}));
  ASSERT_EQ(store.size(), 4u);
  for (uint32_t i = 0; i < 6; ++i) {
    if (index[i] == guest::kHome) continue;
    const uint32_t g = index[i];
    EXPECT_EQ(std::string(store.Folded(g), store.FoldedSize(g)), "row" + std::to_string(i));
    EXPECT_EQ(store.Key(g, 0), keys[i][0]);
    EXPECT_EQ(store.Key(g, 1), keys[i][1]);
  }
}

}  // namespace
}  // namespace sluice
