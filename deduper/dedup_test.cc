// The shard log (replay, idempotent ingest, torn tails, corruption), batch
// cutting, refusals and arrival-order independence on generated data. The
// matching and survivorship cases are data-driven: see dedup_cases_test.cc.
#include "deduper/dedup.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/runtime/codec.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

Schema HcpSchema() {
  Schema s;
  s.fields = {{"national_id", FieldType::kString},
              {"name", FieldType::kString},
              {"updated_at", FieldType::kDate}};
  return s;
}

Plan HcpPlan() {
  Plan plan;
  DedupSpec spec;
  spec.entity = "hcp";
  spec.key_fields = {"national_id"};
  spec.source_priority = {"crm_a", "crm_b"};
  spec.most_recent_field = "updated_at";
  plan.dedup["hcp"] = spec;
  return plan;
}

Record Rec(const std::string& source, const std::string& key, std::optional<std::string> nid,
           uint64_t line = 0, int64_t updated = 0) {
  Record r;
  r.source = source;
  r.key = key;
  r.line = line;
  r.values = {nid ? Value::Str(*nid) : Value::Null(), Value::Str("name of " + key),
              Value::Int(updated)};
  return r;
}

RecordBatch Batch(const std::string& source, uint64_t sequence, std::vector<Record> records) {
  RecordBatch b;
  b.id.set_run_id("run-1");
  b.id.set_wave(1);
  b.id.set_entity("hcp");
  b.id.set_source(source);
  b.id.set_sequence(sequence);
  b.schema = HcpSchema();
  b.records = std::move(records);
  b.RehashAll();
  return b;
}

v1::BatchId OutputId() {
  v1::BatchId id;
  id.set_run_id("run-1");
  id.set_wave(1);
  id.set_entity("hcp");
  id.set_source("dedup/3");
  return id;
}

std::string Fingerprint(const Resolution& res) {
  std::string out;
  for (const auto& b : res.batches) {
    v1::RecordBatch wire;
    EncodeBatch(b, &wire);
    out += wire.SerializeAsString();
  }
  for (const auto& f : res.fates) out += f.SerializeAsString();
  return out;
}

class DedupShardTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) /
           ("dedup_" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<DedupShard> Open(const std::string& name = "shard.log", Plan plan = HcpPlan()) {
    auto shard = DedupShard::Create(plan, "hcp", (dir_ / "nested" / name).string());
    EXPECT_TRUE(shard.ok()) << shard.status().ToString();
    return shard.ok() ? std::move(shard).value() : nullptr;
  }
  std::string LogPath(const std::string& name = "shard.log") const {
    return (dir_ / "nested" / name).string();
  }
  static Resolution Resolve(DedupShard* shard, size_t batch_size = 100) {
    auto res = shard->Resolve(OutputId(), batch_size);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? std::move(res).value() : Resolution{};
  }

  std::vector<RecordBatch> SampleBatches() const {
    return {Batch("crm_a", 0, {Rec("crm_a", "a1", "N1", 2), Rec("crm_a", "a2", "N2", 3)}),
            Batch("crm_b", 0, {Rec("crm_b", "b1", "N1", 2), Rec("crm_b", "b2", "N3", 3)}),
            Batch("crm_b", 1, {Rec("crm_b", "b3", "N3", 4, 9), Rec("crm_b", "b2", "N2", 5)})};
  }

  fs::path dir_;
};

TEST_F(DedupShardTest, ReplayedBatchIsKeptOnce) {
  auto shard = Open();
  RecordBatch batch = SampleBatches()[0];
  EXPECT_TRUE(*shard->Ingest(batch));
  batch.epoch = 7;  // a re-lease of the same batch carries a new epoch
  EXPECT_FALSE(*shard->Ingest(batch));
  EXPECT_EQ(shard->record_count(), 2u);
  const auto size = fs::file_size(LogPath());
  shard.reset();

  shard = Open();
  EXPECT_EQ(shard->replay().batches, 1u);
  EXPECT_EQ(shard->replay().records, 2u);
  EXPECT_FALSE(*shard->Ingest(batch));
  EXPECT_EQ(fs::file_size(LogPath()), size);
  EXPECT_EQ(Resolve(shard.get()).batches[0].records.size(), 2u);
}

TEST_F(DedupShardTest, RecreatedShardResolvesTheSame) {
  auto shard = Open();
  for (const auto& b : SampleBatches()) ASSERT_TRUE(*shard->Ingest(b));
  const Resolution before = Resolve(shard.get());
  ASSERT_EQ(before.fates.size(), 3u);  // b1 and b3 merged, the second b2 rejected
  shard.reset();                       // as if the process had been killed after the last sync

  shard = Open();
  EXPECT_EQ(shard->replay().batches, 3u);
  EXPECT_EQ(shard->replay().truncated_bytes, 0u);
  EXPECT_EQ(shard->replay().ToString(), "replayed 3 batches (6 records)");
  EXPECT_EQ(shard->record_count(), 6u);
  EXPECT_EQ(Fingerprint(Resolve(shard.get())), Fingerprint(before));
  EXPECT_EQ(Fingerprint(Resolve(shard.get())), Fingerprint(before));  // Resolve is repeatable
}

// The worker ingests a batch as it arrived (its wire form appended as it
// is): the same log, resolution and replay as a batch encoded again.
TEST_F(DedupShardTest, BatchIngestedAsReceivedLogsAndResolvesAlike) {
  auto encoded = Open("encoded.log");
  auto received = Open("received.log");
  for (const auto& b : SampleBatches()) {
    ASSERT_TRUE(*encoded->Ingest(b));
    v1::RecordBatch wire;
    EncodeBatch(b, &wire);
    ASSERT_TRUE(*received->IngestReceived(b, wire));
    EXPECT_FALSE(*received->IngestReceived(b, wire));  // a replay is kept once
  }
  EXPECT_EQ(received->record_count(), 6u);
  const std::string want = Fingerprint(Resolve(encoded.get()));
  EXPECT_EQ(Fingerprint(Resolve(received.get())), want);
  encoded.reset();
  received.reset();
  EXPECT_EQ(fs::file_size(LogPath("received.log")), fs::file_size(LogPath("encoded.log")));
  received = Open("received.log");
  EXPECT_EQ(received->replay().records, 6u);
  EXPECT_EQ(Fingerprint(Resolve(received.get())), want);
}

TEST_F(DedupShardTest, BatchIngestedAfterResolveJoinsTheNextResolve) {
  const auto batches = SampleBatches();
  auto reference = Open("reference.log");
  for (const auto& b : batches) ASSERT_TRUE(*reference->Ingest(b));
  const std::string all = Fingerprint(Resolve(reference.get()));

  auto shard = Open();
  ASSERT_TRUE(*shard->Ingest(batches[0]));
  ASSERT_TRUE(*shard->Ingest(batches[1]));
  EXPECT_NE(Fingerprint(Resolve(shard.get())), all);
  EXPECT_FALSE(*shard->Ingest(batches[1]));  // still known after the records moved out
  EXPECT_TRUE(*shard->Ingest(batches[2]));
  EXPECT_EQ(shard->record_count(), 6u);
  EXPECT_EQ(Fingerprint(Resolve(shard.get())), all);
}

TEST_F(DedupShardTest, TornTailIsTruncatedAndCanBeIngestedAgain) {
  const auto batches = SampleBatches();
  auto reference = Open("reference.log");
  ASSERT_TRUE(*reference->Ingest(batches[0]));
  ASSERT_TRUE(*reference->Ingest(batches[1]));
  const std::string two = Fingerprint(Resolve(reference.get()));

  auto shard = Open();
  for (const auto& b : batches) ASSERT_TRUE(*shard->Ingest(b));
  shard.reset();
  // A crash in the middle of the third append: its frame is cut short.
  const auto full = fs::file_size(LogPath());
  fs::resize_file(LogPath(), full - 9);

  shard = Open();
  EXPECT_EQ(shard->replay().batches, 2u);
  EXPECT_GT(shard->replay().truncated_bytes, 0u);
  EXPECT_NE(shard->replay().ToString().find("truncated a torn tail of"), std::string::npos);
  EXPECT_EQ(Fingerprint(Resolve(shard.get())), two);
  EXPECT_TRUE(*shard->Ingest(batches[2]));  // the lost batch is redelivered
  EXPECT_EQ(fs::file_size(LogPath()), full);
  shard.reset();

  shard = Open();
  EXPECT_EQ(shard->replay().batches, 3u);
  EXPECT_EQ(shard->replay().truncated_bytes, 0u);
}

TEST_F(DedupShardTest, ZeroFilledTailIsTruncated) {
  auto shard = Open();
  ASSERT_TRUE(*shard->Ingest(SampleBatches()[0]));
  shard.reset();
  const auto size = fs::file_size(LogPath());
  fs::resize_file(LogPath(), size + 4096);  // space allocated, data never written

  shard = Open();
  EXPECT_EQ(shard->replay().batches, 1u);
  EXPECT_EQ(shard->replay().truncated_bytes, 4096u);
  EXPECT_EQ(fs::file_size(LogPath()), size);
}

TEST_F(DedupShardTest, DamagedMiddleFrameIsCorruption) {
  auto shard = Open();
  for (const auto& b : SampleBatches()) ASSERT_TRUE(*shard->Ingest(b));
  shard.reset();
  {
    std::fstream f(LogPath(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);  // inside the first frame's payload
    f.put('\x7f');
  }
  auto reopened = DedupShard::Create(HcpPlan(), "hcp", LogPath());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(reopened.status().message().find("offset 0"), std::string::npos);
}

TEST_F(DedupShardTest, CutsOutputIntoNumberedBatches) {
  auto shard = Open();
  std::vector<Record> records;
  for (int i = 0; i < 10; ++i) records.push_back(Rec("crm_a", "k" + std::to_string(i), {}, i + 2));
  const RecordBatch input = Batch("crm_a", 0, records);
  ASSERT_TRUE(*shard->Ingest(input));
  const Resolution res = Resolve(shard.get(), 4);
  ASSERT_EQ(res.batches.size(), 3u);
  std::vector<size_t> sizes;
  for (size_t i = 0; i < res.batches.size(); ++i) {
    const RecordBatch& b = res.batches[i];
    sizes.push_back(b.records.size());
    EXPECT_EQ(b.id.sequence(), i);
    EXPECT_EQ(b.id.source(), "dedup/3");
    EXPECT_EQ(b.id.run_id(), "run-1");
    EXPECT_EQ(b.id.entity(), "hcp");
    EXPECT_EQ(b.epoch, 0u);
    EXPECT_EQ(b.schema, HcpSchema());
    for (const Record& r : b.records) {
      auto it = std::find_if(input.records.begin(), input.records.end(),
                             [&](const Record& x) { return x.key == r.key; });
      ASSERT_NE(it, input.records.end());
      EXPECT_EQ(r.content_hash, it->content_hash);
      EXPECT_EQ(r.line, it->line);
    }
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4, 2}));
  EXPECT_EQ(res.batches[0].records[0].key, "k0");
  EXPECT_EQ(res.batches[2].records[1].key, "k9");
  EXPECT_TRUE(res.fates.empty());
}

TEST_F(DedupShardTest, MergedFateNamesSurvivorRuleAndLine) {
  auto shard = Open();
  ASSERT_TRUE(*shard->Ingest(Batch("crm_b", 0, {Rec("crm_b", "b1", "N1", 17, 99)})));
  ASSERT_TRUE(*shard->Ingest(Batch("crm_a", 0, {Rec("crm_a", "a1", "N1", 5, 1)})));
  const Resolution res = Resolve(shard.get());
  ASSERT_EQ(res.fates.size(), 1u);
  const v1::Fate& f = res.fates[0];
  EXPECT_EQ(f.kind(), v1::FATE_MERGED);
  EXPECT_EQ(f.stage(), "dedup");
  EXPECT_EQ(f.source(), "crm_b");
  EXPECT_EQ(f.key(), "b1");
  EXPECT_EQ(f.line(), 17u);
  EXPECT_EQ(f.survivor_source(), "crm_a");
  EXPECT_EQ(f.survivor_key(), "a1");
  EXPECT_EQ(f.rule(), "exact:national_id; survivor by source_priority");
  ASSERT_EQ(res.batches.size(), 1u);
  ASSERT_EQ(res.batches[0].records.size(), 1u);
  const RecordBatch out = res.batches[0];  // decoded by value (packed_batches.h)
  const Record& survivor = out.records[0];
  EXPECT_EQ(survivor.key, "a1");
  EXPECT_EQ(survivor.values[2].i, 1);  // keeps its own values
  ASSERT_EQ(survivor.merged.size(), 1u);
  EXPECT_EQ(survivor.merged[0], (SourceKey{"crm_b", "b1"}));
}

TEST_F(DedupShardTest, DuplicateKeyWithoutLineNamesTheFirstBatch) {
  auto shard = Open();
  ASSERT_TRUE(*shard->Ingest(Batch("crm_a", 1, {Rec("crm_a", "a1", "N1")})));
  ASSERT_TRUE(*shard->Ingest(Batch("crm_a", 0, {Rec("crm_a", "a1", "N2")})));
  const Resolution res = Resolve(shard.get());
  ASSERT_EQ(res.fates.size(), 1u);
  EXPECT_EQ(res.fates[0].kind(), v1::FATE_REJECTED);
  EXPECT_EQ(res.fates[0].rule(), "duplicate_source_key");
  EXPECT_EQ(res.fates[0].reason(),
            "key a1 appears more than once in source crm_a (first at batch run-1/1/hcp/crm_a/0)");
  EXPECT_FALSE(res.fates[0].suggestion().empty());
  // The occurrence from sequence 0 goes on, although it arrived second.
  EXPECT_EQ(res.batches[0].records[0].values[0].s, "N2");
}

TEST_F(DedupShardTest, RefusesAnotherSchemaOrEntity) {
  auto shard = Open();
  ASSERT_TRUE(*shard->Ingest(SampleBatches()[0]));
  RecordBatch other = Batch("crm_c", 0, {Rec("crm_c", "c1", "N1")});
  other.schema.fields[2].type = FieldType::kTimestamp;
  auto st = shard->Ingest(other);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::kCorruption);

  RecordBatch wrong_entity = Batch("crm_c", 0, {Rec("crm_c", "c1", "N1")});
  wrong_entity.id.set_entity("account");
  st = shard->Ingest(wrong_entity);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument);

  RecordBatch ragged = Batch("crm_c", 0, {Rec("crm_c", "c1", "N1")});
  ragged.records[0].values.pop_back();
  EXPECT_FALSE(shard->Ingest(ragged).ok());
  EXPECT_EQ(shard->record_count(), 2u);
  shard.reset();
  EXPECT_EQ(Open()->replay().batches, 1u);  // nothing refused reached the log
}

TEST_F(DedupShardTest, UnknownKeyFieldIsReported) {
  Plan plan = HcpPlan();
  plan.dedup["hcp"].key_fields = {"npi"};
  auto shard = Open("shard.log", plan);
  ASSERT_TRUE(*shard->Ingest(SampleBatches()[0]));
  auto res = shard->Resolve(OutputId(), 10);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().message(), "dedup.hcp.key: no field npi in entity hcp");
}

TEST_F(DedupShardTest, EmptyShardResolvesToNothing) {
  auto shard = Open();
  const Resolution res = Resolve(shard.get());
  EXPECT_TRUE(res.batches.empty());
  EXPECT_TRUE(res.fates.empty());
  EXPECT_FALSE(shard->Resolve(OutputId(), 0).ok());
}

// Generated data with clusters spanning sources and batches, NULL and empty
// keys and repeated source keys: every arrival order gives the same bytes.
TEST_F(DedupShardTest, ArrivalOrderDoesNotMatter) {
  std::mt19937 rng(7);
  const std::vector<std::string> sources = {"crm_a", "crm_b", "sheet", "legacy", "erp"};
  std::vector<RecordBatch> batches;
  size_t total = 0;
  for (const auto& source : sources) {
    for (uint64_t seq = 0; seq < 6; ++seq) {
      std::vector<Record> records;
      for (int i = 0; i < 150; ++i) {
        const int k = static_cast<int>(rng() % 700);  // repeats: duplicate source keys
        const int nid = static_cast<int>(rng() % 900);
        std::optional<std::string> id = "N" + std::to_string(nid);
        if (nid % 37 == 0) id.reset();
        if (nid % 41 == 0) id = "";
        records.push_back(
            Rec(source, std::to_string(k), id, seq * 150 + i + 2, static_cast<int64_t>(rng() % 5)));
      }
      total += records.size();
      batches.push_back(Batch(source, seq, std::move(records)));
    }
  }
  std::string expected;
  for (int round = 0; round < 4; ++round) {
    auto shard = Open("round" + std::to_string(round) + ".log");
    for (const auto& b : batches) ASSERT_TRUE(*shard->Ingest(b));
    ASSERT_EQ(shard->record_count(), total);
    const Resolution res = Resolve(shard.get(), 256);
    // Every record is accounted for exactly once.
    size_t out = 0;
    for (const auto& b : res.batches) out += b.records.size();
    EXPECT_EQ(out + res.fates.size(), total);
    const std::string got = Fingerprint(res);
    if (round == 0) {
      expected = got;
      EXPECT_GT(res.fates.size(), 100u);
    } else {
      EXPECT_EQ(got, expected) << "round " << round;
    }
    std::shuffle(batches.begin(), batches.end(), rng);
  }
}

}  // namespace
}  // namespace sluice
