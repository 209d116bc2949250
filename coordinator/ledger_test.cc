#include "coordinator/ledger.h"

#include <gtest/gtest.h>

#include "common/audit/loaded_pack.h"
#include "common/core/record.h"
#include "common/runtime/worker.h"
#include "deduper/shard_map.h"

namespace sluice {
namespace {

v1::BatchId Id(const std::string& source = "crm", uint64_t seq = 0) {
  v1::BatchId id;
  id.set_run_id("r");
  id.set_wave(0);
  id.set_entity("hcp");
  id.set_source(source);
  id.set_sequence(seq);
  return id;
}

RecordBatch Batch(const std::vector<std::string>& keys, const std::string& source = "crm") {
  RecordBatch b;
  b.id = Id(source);
  b.epoch = 1;
  for (const auto& k : keys) b.records.push_back(Record{source, k, 0, 0, {}, {}});
  return b;
}

v1::Fate Rejected(const std::string& key) {
  v1::Fate f;
  f.set_kind(v1::FATE_REJECTED);
  f.set_source("crm");
  f.set_key(key);
  return f;
}

// A dedup shard's ingest commit of `in`.
v1::Commit Ingest(uint32_t shard, const RecordBatch& in) {
  v1::Commit c = MakeCommit("dedup_ingest", in, in.records, {});
  c.set_dedup_shard(shard);
  return c;
}

std::vector<Record> Keep(const RecordBatch& b, const std::vector<std::string>& keys) {
  std::vector<Record> out;
  for (const auto& r : b.records) {
    if (std::find(keys.begin(), keys.end(), r.key) != keys.end()) out.push_back(r);
  }
  return out;
}

TEST(LedgerTest, BalancedStagesPassAndTotalsAddUp) {
  Ledger ledger;
  RecordBatch in = Batch({"a", "b", "c"});
  ASSERT_TRUE(ledger.Apply(MakeCommit("extract", in, in.records, {})).ok());
  ASSERT_TRUE(
      ledger.Apply(MakeCommit("transform", in, Keep(in, {"a", "b"}), {Rejected("c")})).ok());
  RecordBatch mapped = Batch({"a", "b"});
  ASSERT_TRUE(ledger.Apply(MakeCommit("dedup_ingest", mapped, mapped.records, {})).ok());
  auto totals = ledger.Totals({BatchName(in.id)}, {});
  EXPECT_EQ(totals["crm"].extracted, 3u);
  EXPECT_EQ(totals["crm"].fates.rejected, 1u);
}

TEST(LedgerTest, RecordMissingBetweenStagesIsNamed) {
  Ledger ledger;
  RecordBatch in = Batch({"a", "b", "c"});
  ASSERT_TRUE(ledger.Apply(MakeCommit("extract", in, in.records, {})).ok());
  ASSERT_TRUE(ledger.Apply(MakeCommit("transform", in, in.records, {})).ok());
  RecordBatch arrived = Batch({"a", "c"});  // "b" vanished in transit
  Status st = ledger.Apply(MakeCommit("dedup_ingest", arrived, arrived.records, {}));
  ASSERT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("crm:b"), std::string::npos) << st.message();
}

// A load commit of `in` whose LOADED fates (keys `loaded`, the first
// updated, the others inserted) are packed as the loader sends them.
v1::Commit PackedLoad(const RecordBatch& in, const std::vector<std::string>& loaded,
                      const std::vector<v1::Fate>& rejected = {}) {
  v1::Commit c = MakeCommit("load", in, {}, rejected);
  LoadedWireWriter wire(c.mutable_loaded_fates());
  for (size_t i = 0; i < loaded.size(); ++i) {
    wire.Add("crm", loaded[i], static_cast<int64_t>(i + 1), 7, i == 0 ? "updated" : "inserted", "",
             2, [](std::string* out) { out->append("v"); });
  }
  return c;
}

TEST(LedgerTest, PackedLoadedFatesAreTalliedAndCheckedAsFates) {
  Ledger ledger;
  RecordBatch in = Batch({"a", "b", "c"});
  ASSERT_TRUE(ledger.Apply(MakeCommit("validate", in, in.records, {})).ok());
  ASSERT_TRUE(ledger.Apply(PackedLoad(in, {"a", "b"}, {Rejected("c")})).ok());
  auto totals = ledger.Totals({BatchName(in.id)}, {});
  EXPECT_EQ(totals["crm"].fates.loaded, 2u);
  EXPECT_EQ(totals["crm"].fates.updated, 1u);
  EXPECT_EQ(totals["crm"].fates.inserted, 1u);
  EXPECT_EQ(totals["crm"].fates.rejected, 1u);
  KeyChecksum sum;
  for (const char* k : {"a", "b", "c"}) sum.Add("crm", k);
  EXPECT_EQ(totals["crm"].fates.checksum.value(), sum.value());
}

TEST(LedgerTest, APackedLoadThatLosesARecordOrIsDamagedIsCaught) {
  RecordBatch in = Batch({"a", "b", "c"});
  {
    Ledger ledger;
    ASSERT_TRUE(ledger.Apply(MakeCommit("validate", in, in.records, {})).ok());
    Status st = ledger.Apply(PackedLoad(in, {"a", "c"}));
    ASSERT_EQ(st.code(), StatusCode::kCorruption);
    EXPECT_NE(st.message().find("took in 3 record(s) but accounted for 2"), std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find("missing key(s) 1: crm:b"), std::string::npos) << st.message();
  }
  {
    Ledger ledger;
    ASSERT_TRUE(ledger.Apply(MakeCommit("validate", in, in.records, {})).ok());
    v1::Commit damaged = PackedLoad(in, {"a", "b", "c"});
    damaged.mutable_loaded_fates()->pop_back();
    Status st = ledger.Apply(damaged);
    ASSERT_EQ(st.code(), StatusCode::kCorruption);
    EXPECT_NE(st.message().find("damaged"), std::string::npos) << st.message();
  }
}

// Dedup scale-out: every shard ingests every batch; each shard's ingest is
// checked against the transform, in either arrival order, and the batch
// counts as ingested only once all shards have it.
TEST(LedgerTest, EveryDedupShardIngestIsCheckedAgainstTheTransform) {
  Ledger ledger;
  ledger.set_dedup_shards(3);
  RecordBatch in = Batch({"a", "b", "c"});
  const std::string name = BatchName(in.id);
  ASSERT_TRUE(ledger.Apply(MakeCommit("extract", in, in.records, {})).ok());
  // Shard 2 commits before the transform does.
  ASSERT_TRUE(ledger.Apply(Ingest(2, in)).ok());
  ASSERT_TRUE(ledger.Apply(MakeCommit("transform", in, in.records, {})).ok());
  ASSERT_TRUE(ledger.Apply(MakeCommit("dedup_ingest", in, in.records, {})).ok());
  EXPECT_FALSE(ledger.Has(name, Stage::kDedupIngest));  // shard 1 still missing
  RecordBatch arrived = Batch({"a", "c"});              // "b" never reached shard 1
  Status st = ledger.Apply(Ingest(1, arrived));
  ASSERT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("dedup_ingest/1 received 2"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("crm:b"), std::string::npos) << st.message();
  EXPECT_FALSE(ledger.Has(name, Stage::kDedupIngest));
  ASSERT_TRUE(ledger.Apply(Ingest(1, in)).ok());
  EXPECT_TRUE(ledger.Has(name, Stage::kDedupIngest));
  // Leased again from the extraction: every shard's ingest is forgotten.
  ledger.Lease(name, 2, Stage::kExtract);
  EXPECT_FALSE(ledger.HasIngest(name, 1));
  EXPECT_FALSE(ledger.Has(name, Stage::kDedupIngest));
}

// Records routed by key (docs/dedup.md#scale-out): each shard gets a part,
// checked against what the transform says it sent that shard.
TEST(LedgerTest, RoutedDedupIngestIsCheckedPerShard) {
  Ledger ledger;
  ledger.set_dedup_shards(2);
  RecordBatch in = Batch({"a", "b", "c", "d"});
  const std::string name = BatchName(in.id);
  const ShardMap shards(2, 0);
  RecordBatch part[2] = {Batch({}), Batch({})};
  for (const Record& r : in.records) {
    part[shards.HomeOf(r.source, r.key)].records.push_back(r);
  }
  part[1].records.push_back(in.records[0]);  // also to shard 1 (a block it owns)
  ASSERT_FALSE(part[0].records.empty());
  ASSERT_GT(part[1].records.size(), 1u);
  v1::Commit transform = MakeCommit("transform", in, in.records, {});
  for (uint32_t s = 0; s < 2; ++s) {
    v1::DedupRoute* route = transform.add_dedup_routes();
    route->set_shard(s);
    route->set_records(part[s].records.size());
    route->set_checksum(part[s].KeyChecksumValue());
  }
  ASSERT_TRUE(ledger.Apply(MakeCommit("extract", in, in.records, {})).ok());
  ASSERT_TRUE(ledger.Apply(transform).ok());
  ASSERT_TRUE(ledger.Apply(MakeCommit("dedup_ingest", part[0], part[0].records, {})).ok());
  // Shard 1 lost its first home record on the way.
  RecordBatch lost = part[1];
  std::string victim;
  for (size_t i = 0; i < lost.records.size(); ++i) {
    if (shards.HomeOf("crm", lost.records[i].key) == 1) {
      victim = lost.records[i].key;
      lost.records.erase(lost.records.begin() + static_cast<long>(i));
      break;
    }
  }
  Status st = ledger.Apply(Ingest(1, lost));
  ASSERT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("to dedup shard 1"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("crm:" + victim), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("crm:" + part[0].records[0].key + ","), std::string::npos)
      << "a key routed only to shard 0 is not missing on shard 1: " << st.message();
  EXPECT_FALSE(ledger.Has(name, Stage::kDedupIngest));
  ASSERT_TRUE(ledger.Apply(Ingest(1, part[1])).ok());
  EXPECT_TRUE(ledger.Has(name, Stage::kDedupIngest));
}

TEST(LedgerTest, StageThatLosesARecordInsideIsCaught) {
  Ledger ledger;
  RecordBatch in = Batch({"a", "b"});
  ASSERT_TRUE(ledger.Apply(MakeCommit("extract", in, in.records, {})).ok());
  // The transformer took in two records and accounted for one.
  Status st = ledger.Apply(MakeCommit("transform", in, Keep(in, {"a"}), {}));
  ASSERT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("crm:b"), std::string::npos) << st.message();
}

TEST(LedgerTest, CommitsMayArriveOutOfOrder) {
  Ledger ledger;
  RecordBatch in = Batch({"a", "b"});
  ASSERT_TRUE(ledger.Apply(MakeCommit("transform", in, in.records, {})).ok());
  RecordBatch short_in = Batch({"a"});
  v1::Commit extract = MakeCommit("extract", in, in.records, {});
  ASSERT_TRUE(ledger.Apply(extract).ok());
  // A downstream stage that saw less than the upstream passed on fails
  // whichever commit arrives last.
  Ledger other;
  ASSERT_TRUE(other.Apply(MakeCommit("transform", short_in, short_in.records, {})).ok());
  EXPECT_EQ(other.Apply(extract).code(), StatusCode::kCorruption);
}

TEST(LedgerTest, StaleEpochIsRefusedAndReleaseForgetsLaterStages) {
  Ledger ledger;
  RecordBatch in = Batch({"a"});
  std::string name = BatchName(in.id);
  ledger.Lease(name, 1);
  ASSERT_TRUE(ledger.Apply(MakeCommit("extract", in, in.records, {})).ok());
  ASSERT_TRUE(ledger.Has(name, Stage::kExtract));
  ledger.Lease(name, 2, Stage::kExtract);
  EXPECT_FALSE(ledger.Has(name, Stage::kExtract));
  EXPECT_EQ(ledger.Apply(MakeCommit("extract", in, in.records, {})).code(),
            StatusCode::kFailedPrecondition);
  in.epoch = 2;
  EXPECT_TRUE(ledger.Apply(MakeCommit("extract", in, in.records, {})).ok());
}

TEST(LedgerTest, ResolutionMustCoverWhatWasIngested) {
  Ledger ledger;
  RecordBatch in = Batch({"a", "b"});
  ASSERT_TRUE(ledger.Apply(MakeCommit("dedup_ingest", in, in.records, {})).ok());
  RecordBatch out = Batch({"a"}, "crm");
  out.id = Id("dedup/0", 0);
  ASSERT_TRUE(ledger.Apply(MakeCommit("dedup", out, out.records, {})).ok());
  v1::Commit resolve;
  resolve.set_stage("dedup_resolve");
  *resolve.mutable_batch() = Id("dedup/0/resolve", 0);
  v1::Fate merged;
  merged.set_kind(v1::FATE_MERGED);
  merged.set_source("crm");
  merged.set_key("b");
  *resolve.add_fates() = merged;
  auto* n = resolve.mutable_counts();
  n->set_in(2);
  n->set_out(1);
  n->set_merged(1);
  n->set_out_checksum(out.KeyChecksumValue());
  n->set_in_checksum(in.KeyChecksumValue());
  ASSERT_TRUE(ledger.Apply(resolve).ok());
  std::string res = BatchName(resolve.batch());
  EXPECT_TRUE(ledger.CheckResolution(res, {BatchName(in.id)}, {BatchName(out.id)}).ok());
  auto totals = ledger.Totals({BatchName(in.id), BatchName(out.id)}, {res});
  EXPECT_EQ(totals["crm"].fates.merged, 1u);

  // An output batch the ledger never heard emitted (a chaos trial aborted
  // the coordinator with map::at here) is an error, not an exception.
  const std::string unheard = BatchName(Id("dedup/0", 1));
  Status missing = ledger.CheckResolution(res, {BatchName(in.id)}, {BatchName(out.id), unheard});
  EXPECT_EQ(missing.code(), StatusCode::kCorruption);
  EXPECT_NE(missing.message().find(unheard + " of " + res + " has no recorded emission"),
            std::string::npos)
      << missing.message();
}

}  // namespace
}  // namespace sluice
