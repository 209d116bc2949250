#include "coordinator/wave_scheduler.h"

#include <gtest/gtest.h>

#include "common/core/record.h"
#include "common/runtime/worker.h"

namespace sluice::coordination {
namespace {

using Names = std::vector<std::string>;

// Wave 0 "reference": account and hcp (from two sources), then interaction
// that references both. Wave 1 "activity": note.
Plan TwoWaves() {
  Plan plan;
  plan.batch_size = 10;
  WaveSpec reference;
  reference.name = "reference";
  reference.entities = {"account", "hcp", "interaction"};
  reference.groups = {{"account", "hcp"}, {"interaction"}};
  reference.parents = {{"account", {}}, {"hcp", {}}, {"interaction", {"account", "hcp"}}};
  WaveSpec activity;
  activity.name = "activity";
  activity.entities = {"note"};
  activity.groups = {{"note"}};
  plan.waves = {reference, activity};
  for (auto [entity, source] : {std::pair{"account", "crm"},
                                {"hcp", "crm"},
                                {"hcp", "erp"},
                                {"interaction", "crm"},
                                {"note", "crm"}}) {
    Mapping m;
    m.entity = entity;
    m.source = source;
    plan.mappings.push_back(m);
  }
  return plan;
}

RecordBatch Batch(const v1::BatchId& id, const Names& keys) {
  RecordBatch b;
  b.id = id;
  b.epoch = 1;
  for (const auto& k : keys) b.records.push_back(Record{id.source(), k, 0, 0, {}, {}});
  return b;
}

TEST(WaveSchedulerTest, ParentsFirstThenChildrenThenTheReconciliation) {
  const Plan plan = TwoWaves();
  WaveScheduler waves(plan, "r", 1);
  ASSERT_TRUE(waves.StartWave(0));
  EXPECT_EQ(waves.Ready(), (Names{"account", "hcp"}));
  EXPECT_EQ(waves.Start("account").streams.size(), 1u);
  EXPECT_EQ(waves.Start("hcp").streams.size(), 2u) << "one stream per mapped source";
  EXPECT_EQ(waves.Ready(), Names{});
  EXPECT_FALSE(waves.StartReconcile());
  waves.Finish("hcp");
  EXPECT_EQ(waves.Ready(), Names{}) << "interaction waits for account too";
  waves.Finish("account");
  EXPECT_EQ(waves.Ready(), Names{"interaction"});
  waves.Start("interaction");
  EXPECT_FALSE(waves.StartReconcile());
  waves.Finish("interaction");
  EXPECT_TRUE(waves.StartReconcile());
  EXPECT_FALSE(waves.StartReconcile()) << "leased once";
  EXPECT_TRUE(waves.reconciling());
  EXPECT_FALSE(waves.last_wave());
  ASSERT_TRUE(waves.StartWave(1));
  EXPECT_FALSE(waves.reconciling());
  EXPECT_TRUE(waves.last_wave());
  EXPECT_EQ(waves.Ready(), Names{"note"});
  EXPECT_FALSE(waves.StartWave(2)) << "no such wave: the run is done";
}

TEST(WaveSchedulerTest, BatchesOfAnotherRunWaveOrFinishedEntityBelongToNoOne) {
  const Plan plan = TwoWaves();
  WaveScheduler waves(plan, "r", 1);
  waves.StartWave(0);
  waves.Start("hcp");
  v1::BatchId id = waves.IngestId("hcp", "crm", 3);
  EXPECT_EQ(BatchName(id), "r/0/hcp/crm/3");
  ASSERT_NE(waves.RunOf(id), nullptr);
  EXPECT_EQ(waves.RunOf(id)->entity, "hcp");
  v1::BatchId other = id;
  other.set_wave(1);
  EXPECT_EQ(waves.RunOf(other), nullptr);
  other = id;
  other.set_run_id("earlier");
  EXPECT_EQ(waves.RunOf(other), nullptr);
  waves.Finish("hcp");
  EXPECT_EQ(waves.RunOf(id), nullptr);
}

TEST(WaveSchedulerTest, IngestedMeansEverySourceExtractedAndEveryShardIngested) {
  const Plan plan = TwoWaves();
  WaveScheduler waves(plan, "r", 2);
  Ledger ledger;
  ledger.set_dedup_shards(2);
  waves.StartWave(0);
  EntityRun& run = waves.Start("hcp");
  run.streams["crm"].done = true;
  run.streams["crm"].batches = 1;
  EXPECT_FALSE(waves.Ingested(run, ledger)) << "erp is still extracting";
  run.streams["erp"].done = true;
  EXPECT_FALSE(waves.Ingested(run, ledger)) << "crm's batch is not ingested";
  EXPECT_EQ(waves.IngestBatches(run), Names{"r/0/hcp/crm/0"});
  RecordBatch b = Batch(waves.IngestId("hcp", "crm", 0), {"a", "b"});
  ASSERT_TRUE(ledger.Apply(MakeCommit("extract", b, b.records, {})).ok());
  ASSERT_TRUE(ledger.Apply(MakeCommit("transform", b, b.records, {})).ok());
  v1::Commit shard0 = MakeCommit("dedup_ingest", b, b.records, {});
  ASSERT_TRUE(ledger.Apply(shard0).ok());
  EXPECT_FALSE(waves.Ingested(run, ledger)) << "shard 1 has not ingested it";
  v1::Commit shard1 = shard0;
  shard1.set_dedup_shard(1);
  ASSERT_TRUE(ledger.Apply(shard1).ok());
  EXPECT_TRUE(waves.Ingested(run, ledger));
  EXPECT_EQ(waves.Waiting(ledger), "ingesting hcp (crm extracted, erp extracted)");
}

TEST(WaveSchedulerTest, TheResolutionSaysHowManyOutputBatchesToLoad) {
  const Plan plan = TwoWaves();
  WaveScheduler waves(plan, "r", 1);
  Ledger ledger;
  waves.StartWave(0);
  EntityRun& run = waves.Start("account");
  v1::Commit resolution;
  resolution.set_stage("dedup_resolve");
  *resolution.mutable_batch() = waves.IngestId("account", "dedup/0/resolve", 0);
  resolution.mutable_counts()->set_out(25);  // batches of 10
  waves.Resolved(run, resolution);
  EXPECT_EQ(run.phase, Phase::kOutput);
  EXPECT_EQ(waves.OutputBatches(run),
            (Names{"r/0/account/dedup/0/0", "r/0/account/dedup/0/1", "r/0/account/dedup/0/2"}));
  EXPECT_FALSE(waves.OutputsAt(run, Stage::kLoad, ledger));
  EXPECT_EQ(waves.Waiting(ledger), "loading account (0 of 3 batch(es) loaded)");
  for (uint64_t seq = 0; seq < 3; ++seq) {
    RecordBatch b = Batch(waves.OutputId(run, seq), {"k" + std::to_string(seq)});
    ASSERT_TRUE(ledger.Apply(MakeCommit("dedup", b, b.records, {})).ok());
    ASSERT_TRUE(ledger.Apply(MakeCommit("validate", b, b.records, {})).ok());
    EXPECT_EQ(waves.OutputsAt(run, Stage::kValidate, ledger), seq == 2);
  }
  EXPECT_FALSE(waves.OutputsAt(run, Stage::kLoad, ledger));
}

}  // namespace
}  // namespace sluice::coordination
