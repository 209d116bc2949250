// Round 4 on N dedup shards: every shard counts every shard's output
// batches (Resolution::stream_batches), which the loader needs to know when
// an entity that references itself is loaded (docs/dedup.md#scale-out).
// The data has merged clusters, clusters held for review (a review-band
// pair, a cluster above max_cluster_size), singletons and repeated keys.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "deduper/dedup.h"
#include "deduper/edge_routes.h"
#include "deduper/shard_route.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBatchSize = 3;

class ShardCountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice-shard-counts-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    schema_.fields = {
        {"grp", FieldType::kString}, {"tag", FieldType::kString}, {"kind", FieldType::kString}};
    DedupSpec spec;
    spec.entity = "item";
    spec.yaml_path = "dedup.item";
    spec.source_priority = {"crm", "erp"};
    BlockingRule by_group;
    by_group.name = "grp";
    by_group.parts = {{"grp", "value", 0}};
    by_group.yaml_path = "dedup.item.blocking.grp";
    spec.blocking = {by_group};
    MatchRuleSpec same_tag;
    same_tag.name = "same_tag";
    same_tag.terms = {{"exact", "tag", "", 0, false}};
    same_tag.text = "tag exact";
    MatchRuleSpec same_kind = same_tag;
    same_kind.name = "same_kind";
    same_kind.terms = {{"exact", "kind", "", 0, false}};
    same_kind.text = "kind exact";
    same_kind.decide = "review";
    spec.rules = {same_tag, same_kind};
    spec.max_cluster_size = 4;
    spec.u_sample_pairs = 100;
    plan_.dedup["item"] = spec;

    // Per group g (the blocking key): 0 a merged cluster of 3 across both
    // sources, 1 a review-band pair (held), 2 a cluster of 6 (above
    // max_cluster_size: held), 3 singletons.
    std::vector<Record> records;
    int unique = 0;
    auto add = [&](const std::string& source, int g, int i, const std::string& tag,
                   const std::string& kind) {
      Record r;
      r.source = source;
      r.key = "g" + std::to_string(g) + "-" + std::to_string(i);
      r.values = {Value::Str("G" + std::to_string(g)), Value::Str(tag), Value::Str(kind)};
      records.push_back(std::move(r));
    };
    for (int g = 0; g < 120; ++g) {
      const std::string u = "u" + std::to_string(g);
      auto fresh = [&] { return "x" + std::to_string(unique++); };
      switch (g % 4) {
        case 0:
          for (int i = 0; i < 3; ++i) add(i == 1 ? "erp" : "crm", g, i, u, fresh());
          break;
        case 1:
          add("crm", g, 0, fresh(), u);
          add("erp", g, 1, fresh(), u);
          break;
        case 2:
          for (int i = 0; i < 6; ++i) add("crm", g, i, u, fresh());
          break;
        default:
          for (int i = 0; i < 4; ++i) add(i % 2 ? "erp" : "crm", g, i, fresh(), fresh());
      }
    }
    // Repeated keys, in a later batch: a singleton's and a cluster member's.
    std::vector<Record> again = {records[0], records.back()};
    again[1].values[1] = Value::Str("changed");
    for (size_t i = 0; i < records.size(); i += 50) {
      const size_t end = std::min(records.size(), i + 50);
      batches_.push_back(Batch(i / 50, {records.begin() + i, records.begin() + end}));
    }
    batches_.push_back(Batch(batches_.size(), again));
  }
  void TearDown() override { fs::remove_all(dir_); }

  RecordBatch Batch(uint64_t sequence, std::vector<Record> records) const {
    RecordBatch b;
    b.id.set_run_id("run-1");
    b.id.set_entity("item");
    b.id.set_source("items");
    b.id.set_sequence(sequence);
    b.schema = schema_;
    b.records = std::move(records);
    b.RehashAll();
    return b;
  }

  static v1::BatchId OutputId(uint32_t shard) {
    v1::BatchId id;
    id.set_run_id("run-1");
    id.set_entity("item");
    id.set_source("dedup/" + std::to_string(shard));
    return id;
  }

  // N shards, each ingesting what the router sends it, through rounds 1-3.
  struct Rounds {
    std::vector<ShardMap> maps;
    std::vector<std::unique_ptr<DedupShard>> shards;
    std::vector<v1::DedupBlocks> blocks;
    v1::DedupEdges edges;
    std::vector<v1::DedupEdges> views;  // each shard's, as relayed (edge_routes.h)
    std::vector<std::map<uint32_t, RecordBatch>> serve;
  };
  Rounds RunRounds(uint32_t n) {
    Rounds r;
    for (uint32_t s = 0; s < n; ++s) {
      r.maps.emplace_back(n, s);
      auto shard = DedupShard::Create(
          plan_, "item", (dir_ / ("n" + std::to_string(n) + "-" + std::to_string(s))).string());
      EXPECT_TRUE(shard.ok()) << shard.status().ToString();
      auto router = ShardRouter::Create(plan_, "item", schema_, r.maps[s]);
      EXPECT_TRUE(router.ok()) << router.status().ToString();
      for (const RecordBatch& b : batches_) {
        RecordBatch part = std::move(router->Split(b)[s]);
        part.RehashAll();
        if (part.records.empty() && part.guest_rows.empty()) continue;
        EXPECT_TRUE((*shard)->Ingest(part).ok());
      }
      r.shards.push_back(std::move(*shard));
    }
    for (uint32_t s = 0; s < n; ++s) {
      auto b = r.shards[s]->SummarizeBlocks(r.maps[s]);
      EXPECT_TRUE(b.ok()) << b.status().ToString();
      r.blocks.push_back(*b);
    }
    std::vector<v1::DedupPatterns> patterns;
    for (uint32_t s = 0; s < n; ++s) {
      auto p = r.shards[s]->ComparePairs(r.maps[s], r.blocks);
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      patterns.push_back(*p);
    }
    for (uint32_t s = 0; s < n; ++s) {
      auto e = r.shards[s]->DecidePairs(r.maps[s], r.blocks, patterns);
      EXPECT_TRUE(e.ok()) << e.status().ToString();
      r.edges.mutable_edges()->MergeFrom(e->edges());
    }
    r.views = RouteEdges(ShardMap(n, 0), r.edges);
    for (uint32_t s = 0; s < n; ++s) {
      auto m = r.shards[s]->MembersFor(r.maps[s], r.views[s]);
      EXPECT_TRUE(m.ok()) << m.status().ToString();
      r.serve.push_back(*m);
    }
    return r;
  }

  Result<Resolution> Resolve(Rounds& r, uint32_t s, const std::vector<v1::DedupBlocks>& blocks) {
    auto fetch = [&](uint32_t p) -> Result<std::vector<Record>> {
      auto it = r.serve[p].find(s);
      return it == r.serve[p].end() ? std::vector<Record>{} : it->second.records;
    };
    return r.shards[s]->ResolveWith(r.maps[s], blocks, r.views[s], fetch, OutputId(s), kBatchSize);
  }

  fs::path dir_;
  Plan plan_;
  Schema schema_;
  std::vector<RecordBatch> batches_;
};

TEST_F(ShardCountsTest, EveryShardCountsEveryShardsOutputBatches) {
  // One shard: its own count, and what the N-shard runs must add up to.
  auto single = DedupShard::Create(plan_, "item", (dir_ / "single").string());
  ASSERT_TRUE(single.ok());
  for (const RecordBatch& b : batches_) ASSERT_TRUE((*single)->Ingest(b).ok());
  auto one = (*single)->Resolve(OutputId(0), kBatchSize);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->stream_batches, std::vector<uint64_t>{one->batches.size()});
  std::map<std::string, int> fates;
  for (const v1::Fate& f : one->fates) ++fates[f.rule().substr(0, f.rule().find(';'))];
  EXPECT_EQ(fates["duplicate_source_key"], 2);
  EXPECT_EQ(fates["dedup_review"], 30 * 2 + 30 * 6) << "review pairs and large clusters held";
  EXPECT_EQ(fates["same_tag"], 30 * 2) << "clusters of 3 merged";
  size_t one_out = 0;
  for (const RecordBatch& b : one->batches) one_out += b.records.size();

  for (uint32_t n : {2u, 3u, 4u}) {
    SCOPED_TRACE(std::to_string(n) + " shards");
    Rounds r = RunRounds(n);
    std::vector<std::vector<uint64_t>> counted(n);
    std::vector<uint64_t> actual(n);
    size_t out = 0;
    for (uint32_t s = 0; s < n; ++s) {
      auto res = Resolve(r, s, r.blocks);
      ASSERT_TRUE(res.ok()) << res.status().ToString();
      counted[s] = res->stream_batches;
      actual[s] = res->batches.size();
      for (const RecordBatch& b : res->batches) out += b.records.size();
    }
    EXPECT_EQ(out, one_out);
    for (uint32_t s = 0; s < n; ++s) EXPECT_EQ(counted[s], actual) << "as counted by " << s;
  }
}

TEST_F(ShardCountsTest, AWrongCountFailsInsteadOfReachingTheLoader) {
  Rounds r = RunRounds(2);
  // Shard 0's summary claims a record more: shard 0 finds its own count
  // wrong; shard 1 cannot tell and counts shard 0 one record more.
  std::vector<v1::DedupBlocks> blocks = r.blocks;
  blocks[0].set_records(blocks[0].records() + 1);
  auto res = Resolve(r, 0, blocks);
  ASSERT_EQ(res.status().code(), StatusCode::kInternal);
  EXPECT_NE(res.status().message().find("output records"), std::string::npos)
      << res.status().ToString();
  // A summary missing: no count rather than a wrong one.
  blocks.pop_back();
  EXPECT_EQ(Resolve(r, 1, blocks).status().code(), StatusCode::kInternal);
  // No summaries at all (not given): resolves, counts nothing.
  auto none = Resolve(r, 1, {});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->stream_batches.empty());
}

}  // namespace
}  // namespace sluice
