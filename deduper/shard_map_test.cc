// Dedup scale-out (docs/dedup.md#scale-out): the shard map, the ownership of
// candidate pairs (each compared by exactly one of N shards), and the three
// resolve rounds on N shards giving what one shard gives.
#include "deduper/shard_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "common/codec.h"
#include "deduper/blocking.h"
#include "deduper/dedup.h"
#include "deduper/fuzzy_matcher.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

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

Schema PersonSchema() {
  Schema s;
  s.fields = {{"national_id", FieldType::kString},
              {"first_name", FieldType::kString},
              {"last_name", FieldType::kString},
              {"postcode", FieldType::kString},
              {"birth_date", FieldType::kDate}};
  return s;
}

BlockingRule Rule(const std::string& name, std::vector<BlockingPart> parts) {
  BlockingRule r;
  r.name = name;
  r.parts = std::move(parts);
  r.yaml_path = "dedup.person.blocking." + name;
  return r;
}

// People with duplicates carrying typos, missing ids and placeholders, in
// two sources; one postcode crowded enough to make an oversize block.
std::vector<Record> People(int n, uint32_t seed) {
  static const char* kFirst[] = {"anna", "jean", "paul", "marie", "louis", "claire", "hugo"};
  static const char* kLast[] = {"martin",  "dupont", "durand", "bernard",  "petit", "moreau",
                                "laurent", "simon",  "michel", "lefebvre", "leroy", "roux"};
  std::mt19937 rng(seed);
  std::vector<Record> out;
  auto make = [&](const std::string& source, const std::string& key, const std::string& nid,
                  std::string first, std::string last, const std::string& postcode, int64_t day) {
    Record r;
    r.source = source;
    r.key = key;
    r.values = {nid.empty() ? Value::Null() : Value::Str(nid), Value::Str(std::move(first)),
                Value::Str(std::move(last)), Value::Str(postcode), Value::Int(day)};
    out.push_back(std::move(r));
  };
  for (int i = 0; i < n; ++i) {
    const std::string first = kFirst[rng() % 7];
    const std::string last = std::string(kLast[rng() % 12]) + (rng() % 3 == 0 ? "e" : "");
    const std::string postcode = rng() % 10 == 0 ? "75001" : std::to_string(10000 + rng() % 40);
    const int64_t day = 3000 + static_cast<int64_t>(rng() % 9000);
    std::string nid = rng() % 6 == 0 ? "" : "N" + std::to_string(i);
    if (rng() % 25 == 0) nid = "UNKNOWN";
    make("crm", "c" + std::to_string(i), nid, first, last, postcode, day);
    if (rng() % 4 == 0) {  // a duplicate in the other source, with drift
      std::string typo = last;
      if (typo.size() > 3) std::swap(typo[1], typo[2]);
      make("erp", "e" + std::to_string(i), rng() % 2 ? nid : "", first, rng() % 2 ? typo : last,
           postcode, rng() % 3 ? day : day + 1);
    }
  }
  return out;
}

DedupSpec PersonSpec() {
  DedupSpec spec;
  spec.entity = "person";
  spec.yaml_path = "dedup.person";
  spec.source_priority = {"crm", "erp"};
  spec.placeholders = {"UNKNOWN"};
  spec.max_block_size = 60;
  spec.blocking = {Rule("nid", {{"national_id", "value", 0}}),
                   Rule("sound_post", {{"last_name", "soundex", 0}, {"postcode", "value", 0}}),
                   Rule("last3_year", {{"last_name", "prefix", 3}, {"birth_date", "year", 0}}),
                   Rule("postcode", {{"postcode", "value", 0}})};
  MatchRuleSpec same_id;
  same_id.name = "same_national_id";
  same_id.terms = {{"exact", "national_id", "", 0, false}};
  same_id.text = "national_id exact";
  spec.rules = {same_id};
  DedupComparison first{"first_name", "first_name", "jaro_winkler", {0.9}, {}, {}, ""};
  DedupComparison last{"last_name", "last_name", "jaro_winkler", {0.92, 0.8}, {}, {}, ""};
  DedupComparison birth{"birth_date", "birth_date", "date", {1}, {}, {}, ""};
  DedupComparison post{"postcode", "postcode", "exact", {}, {}, {}, ""};
  spec.comparisons = {first, last, birth, post};
  spec.merge_threshold = 8;
  spec.review_threshold = 3;
  spec.weak_link_threshold = 8;
  spec.u_sample_pairs = 5000;
  spec.max_cluster_size = 4;
  return spec;
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

RecordBatch Batch(const std::string& source, uint64_t sequence, std::vector<Record> records) {
  RecordBatch b;
  b.id.set_run_id("run-1");
  b.id.set_wave(0);
  b.id.set_entity("person");
  b.id.set_source(source);
  b.id.set_sequence(sequence);
  b.schema = PersonSchema();
  b.records = std::move(records);
  b.RehashAll();
  return b;
}

// What a run keeps of a resolution, independent of which shard emitted it.
struct Outcome {
  std::vector<std::string> survivors;  // source:key merged[...] values
  std::vector<std::string> fates;
  std::vector<std::string> decisions;
  std::vector<std::string> review_items;
  uint64_t in = 0, comparisons = 0;
};

void Add(const Resolution& res, Outcome* o) {
  for (const RecordBatch& b : res.batches) {
    for (const Record& r : b.records) {
      std::string s = r.source + ":" + r.key + " <-";
      for (const SourceKey& m : r.merged) s += " " + m.source + ":" + m.key;
      for (size_t f = 0; f < r.values.size(); ++f) {
        s += "|" + FormatValue(b.schema.fields[f], r.values[f]).value_or("NULL");
      }
      o->survivors.push_back(s);
    }
  }
  for (const v1::Fate& f : res.fates) o->fates.push_back(f.SerializeAsString());
  for (const v1::MatchDecision& d : res.decisions) o->decisions.push_back(d.SerializeAsString());
  for (const v1::ReviewItem& i : res.review_items) o->review_items.push_back(i.SerializeAsString());
  o->in += res.in;
  o->comparisons += res.stats.comparisons;
}

void Sort(Outcome* o) {
  for (auto* v : {&o->survivors, &o->fates, &o->decisions, &o->review_items}) {
    std::sort(v->begin(), v->end());
  }
}

class ShardRoundsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice-shard-rounds-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    plan_.dedup["person"] = PersonSpec();
    std::vector<Record> people = People(700, 11);
    for (size_t i = 0; i < people.size(); i += 100) {
      const size_t end = std::min(people.size(), i + 100);
      batches_.push_back(Batch("people", i / 100, {people.begin() + i, people.begin() + end}));
    }
    // A steward's decisions: a link no blocking rule gives, and a non-link.
    forced_ = {{{"crm", "c1"}, {"crm", "c650"}, true, "dora"},
               {{"crm", "c2"}, {"erp", "e2"}, false, "dora"}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<DedupShard> Shard(const std::string& name, bool reversed = false) {
    auto shard = DedupShard::Create(plan_, "person", (dir_ / name).string(), forced_);
    EXPECT_TRUE(shard.ok()) << shard.status().ToString();
    std::vector<RecordBatch> order = batches_;
    if (reversed) std::reverse(order.begin(), order.end());
    for (const RecordBatch& b : order) EXPECT_TRUE((*shard)->Ingest(b).ok());
    return std::move(*shard);
  }

  v1::BatchId OutputId(uint32_t shard) {
    v1::BatchId id;
    id.set_run_id("run-1");
    id.set_entity("person");
    id.set_source("dedup/" + std::to_string(shard));
    return id;
  }

  // The three rounds over N shards, relayed as the coordinator does.
  Outcome Resolve(uint32_t n) {
    std::vector<std::unique_ptr<DedupShard>> shards;
    std::vector<ShardMap> maps;
    for (uint32_t s = 0; s < n; ++s) {
      shards.push_back(Shard("n" + std::to_string(n) + "-" + std::to_string(s), s % 2 == 1));
      maps.emplace_back(n, s);
    }
    std::vector<v1::DedupPatterns> patterns;
    for (uint32_t s = 0; s < n; ++s) {
      auto p = shards[s]->ComparePairs(maps[s]);
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      patterns.push_back(*p);
    }
    v1::DedupEdges edges;
    for (uint32_t s = n; s-- > 0;) {  // relayed in any order
      auto e = shards[s]->DecidePairs(maps[s], patterns);
      EXPECT_TRUE(e.ok()) << e.status().ToString();
      for (const auto& edge : e->edges()) *edges.add_edges() = edge;
    }
    Outcome o;
    for (uint32_t s = 0; s < n; ++s) {
      auto res = shards[s]->ResolveWith(maps[s], edges, OutputId(s), 64);
      EXPECT_TRUE(res.ok()) << res.status().ToString();
      Add(*res, &o);
    }
    Sort(&o);
    return o;
  }

  fs::path dir_;
  Plan plan_;
  std::vector<RecordBatch> batches_;
  std::vector<ForcedPair> forced_;
};

TEST_F(ShardRoundsTest, OneTwoAndFourShardsDecideAsOne) {
  auto single = Shard("single");
  auto res = single->Resolve(OutputId(0), 64);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  Outcome one;
  Add(*res, &one);
  Sort(&one);
  ASSERT_EQ(one.in, single->record_count());
  ASSERT_GT(one.fates.size(), 20u);      // merges, reviews and repeats happened
  ASSERT_GT(one.decisions.size(), 20u);  // ... decided by rule, score and steward
  for (uint32_t n : {1u, 2u, 4u}) {
    SCOPED_TRACE(std::to_string(n) + " shards");
    Outcome o = Resolve(n);
    EXPECT_EQ(o.in, one.in);
    EXPECT_EQ(o.comparisons, one.comparisons);  // each pair compared once in all
    EXPECT_EQ(o.survivors, one.survivors);
    EXPECT_EQ(o.fates, one.fates);
    EXPECT_EQ(o.decisions, one.decisions);
    EXPECT_EQ(o.review_items, one.review_items);
  }
}

TEST_F(ShardRoundsTest, ShardsWithOtherRecordsAreRefused) {
  auto a = Shard("a");
  auto b = DedupShard::Create(plan_, "person", (dir_ / "b").string(), forced_);
  ASSERT_TRUE(b.ok());
  for (size_t i = 1; i < batches_.size(); ++i) ASSERT_TRUE((*b)->Ingest(batches_[i]).ok());
  ShardMap m0(2, 0), m1(2, 1);
  auto pa = a->ComparePairs(m0);
  auto pb = (*b)->ComparePairs(m1);
  ASSERT_TRUE(pa.ok() && pb.ok());
  auto edges = a->DecidePairs(m0, {*pa, *pb});
  EXPECT_EQ(edges.status().code(), StatusCode::kCorruption);
  EXPECT_NE(edges.status().message().find("did not ingest the same batches"), std::string::npos)
      << edges.status().ToString();
}

// A replacement shard rebuilds its part from the relayed edges alone.
TEST_F(ShardRoundsTest, ReplacementRebuildsFromTheEdges) {
  ShardMap m0(2, 0), m1(2, 1);
  auto s0 = Shard("r0");
  auto s1 = Shard("r1");
  auto p0 = s0->ComparePairs(m0);
  auto p1 = s1->ComparePairs(m1);
  ASSERT_TRUE(p0.ok() && p1.ok());
  v1::DedupEdges edges;
  for (auto* s : {s0.get(), s1.get()}) {
    auto e = s->DecidePairs(s == s0.get() ? m0 : m1, {*p0, *p1});
    ASSERT_TRUE(e.ok());
    for (const auto& edge : e->edges()) *edges.add_edges() = edge;
  }
  auto first = s1->ResolveWith(m1, edges, OutputId(1), 64);
  ASSERT_TRUE(first.ok());
  s1.reset();
  auto again = DedupShard::Create(plan_, "person", (dir_ / "r1").string(), forced_);
  ASSERT_TRUE(again.ok());
  auto rebuilt = (*again)->ResolveWith(m1, edges, OutputId(1), 64);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  Outcome x, y;
  Add(*first, &x);
  Add(*rebuilt, &y);
  EXPECT_EQ(x.survivors, y.survivors);
  EXPECT_EQ(x.fates, y.fates);
  EXPECT_EQ(x.decisions, y.decisions);
  EXPECT_GT(x.survivors.size(), 0u);
}

}  // namespace
}  // namespace sluice
