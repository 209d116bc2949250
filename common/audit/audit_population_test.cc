// Issue 18 item 3: the population's blocks per run and the residents a delta
// run reads by key (common/audit/audit_population.cc).
#include "common/audit/audit_population.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/audit/audit_store.h"
#include "common/core/test_dir_testing.h"

namespace sluice {
namespace {

using Residents = std::map<std::string, std::vector<std::string>>;

class AuditPopulationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("sluice-audit-population");
    auto store = AuditStore::Open((dir_ / "audit.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto pop = PopulationStore::Open((dir_ / "audit.db").string());
    ASSERT_TRUE(pop.ok()) << pop.status().ToString();
    pop_ = std::move(*pop);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A run started at `started` taking in hcp under spec "s" (the first one
  // reads it whole); its wave 0 completed (reconciled) or not.
  void Run(const std::string& run_id, int64_t started, bool completed = true,
           const std::string& spec = "s") {
    RunRecord r;
    r.run_id = run_id;
    r.plan_name = "p";
    r.started_ms = started;
    r.status = "running";
    ASSERT_TRUE(store_->BeginRun(r).ok());
    if (completed) ASSERT_TRUE(store_->RecordWave(run_id, 0, "people", "completed").ok());
    ASSERT_TRUE(pop_->RecordPopulationRun(run_id, 0, "hcp", spec, started == 1).ok());
  }
  // The run took in `key` of `source` with blocks of rule "exact".
  void Took(const std::string& run_id, const std::string& source, const std::string& key,
            std::vector<uint64_t> blocks) {
    v1::Commit c;
    c.set_stage("dedup_ingest");
    c.mutable_batch()->set_entity("hcp");
    for (uint64_t block : blocks) {
      v1::PopulationBlock* b = c.add_population_blocks();
      b->set_rule(block == 0 ? "" : "exact");
      b->set_block(block);
      b->set_source(source);
      b->set_key(key);
    }
    ASSERT_TRUE(pop_->RecordPopulation(run_id, 0, c).ok());
  }
  // In `run_id`, (source, key) was merged into (into_source, into_key).
  void Merged(const std::string& run_id, const std::string& source, const std::string& key,
              const std::string& into_source, const std::string& into_key) {
    v1::Commit c;
    c.set_stage("dedup_resolve");
    c.mutable_batch()->set_run_id(run_id);
    c.mutable_batch()->set_entity("hcp");
    c.mutable_batch()->set_source("crm/resolve");
    c.mutable_batch()->set_sequence(++seq_);
    v1::Fate* f = c.add_fates();
    f->set_kind(v1::FATE_MERGED);
    f->set_source(source);
    f->set_key(key);
    f->set_stage("dedup");
    f->set_survivor_source(into_source);
    f->set_survivor_key(into_key);
    ASSERT_TRUE(store_->RecordCommit(run_id, 0, c).ok());
  }
  Residents ResidentsOf(const std::string& run_id, const Residents& also = {}) {
    auto r = pop_->ResidentsOf(run_id, 0, "hcp", "s", also);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Residents{};
  }

  std::filesystem::path dir_;
  std::unique_ptr<AuditStore> store_;
  std::unique_ptr<PopulationStore> pop_;
  uint64_t seq_ = 0;
};

TEST_F(AuditPopulationTest, BlockMembersAndTheirClustersAreResidents) {
  Run("r1", 1);
  Took("r1", "crm", "1", {100});
  Took("r1", "crm", "2", {100});
  Took("r1", "crm", "3", {200});
  Took("r1", "crm", "4", {500});
  Took("r1", "crm", "6", {600});
  Took("r1", "erp", "9", {700});
  Merged("r1", "crm", "3", "crm", "4");  // cluster {4, 3}
  Merged("r1", "erp", "9", "crm", "6");  // cluster {6, erp 9}
  Run("r2", 2, /*completed=*/false);
  Took("r2", "crm", "7", {200});  // new: shares block 200 with 3
  Took("r2", "crm", "1", {999});  // changed: its old block 100 is not read
  EXPECT_EQ(ResidentsOf("r2"), (Residents{{"crm", {"3", "4"}}}));
  // A survivor deleted at its source: its members are decided again.
  EXPECT_EQ(ResidentsOf("r2", {{"crm", {"6"}}}), (Residents{{"crm", {"3", "4"}}, {"erp", {"9"}}}));
  EXPECT_TRUE(*pop_->HasPopulation("hcp", "s", "r2"));
  EXPECT_FALSE(*pop_->HasPopulation("hcp", "s", "r1"));  // its own does not count
}

TEST_F(AuditPopulationTest, AChangedRecordsOldClusterIsRead) {
  Run("r1", 1);
  Took("r1", "crm", "1", {100});
  Took("r1", "crm", "2", {100});
  Took("r1", "crm", "3", {100});
  Merged("r1", "crm", "2", "crm", "1");
  Merged("r1", "crm", "3", "crm", "1");
  Run("r2", 2, false);
  Took("r2", "crm", "3", {300});  // moved away from the block of its cluster
  EXPECT_EQ(ResidentsOf("r2"), (Residents{{"crm", {"1", "2"}}}));
  // A record no rule blocks is named all the same, and its cluster read.
  Run("r3", 3, false);
  Took("r3", "crm", "2", {0});
  EXPECT_EQ(ResidentsOf("r3"), (Residents{{"crm", {"1", "3"}}}));
}

// A pair held for review that a steward decided is read again, with its
// clusters, while it is held; once decided by a run, no longer.
TEST_F(AuditPopulationTest, RecordsHeldForReviewThatAStewardDecidedAreRead) {
  Run("r1", 1);
  Took("r1", "crm", "1", {100});
  Took("r1", "erp", "5", {500});
  v1::Commit c;
  c.set_stage("dedup_resolve");
  c.mutable_batch()->set_run_id("r1");
  c.mutable_batch()->set_entity("hcp");
  c.mutable_batch()->set_source("crm/resolve");
  for (const auto& [source, key] :
       std::vector<std::pair<std::string, std::string>>{{"crm", "1"}, {"erp", "5"}}) {
    v1::Fate* f = c.add_fates();
    f->set_kind(v1::FATE_REVIEW);
    f->set_source(source);
    f->set_key(key);
    f->set_stage("dedup");
  }
  ASSERT_TRUE(store_->RecordCommit("r1", 0, c).ok());
  Run("r2", 2, false);  // nothing changed
  const std::vector<std::pair<std::string, std::string>> decided = {{"crm", "1"}, {"erp", "5"}};
  auto r = pop_->ResidentsOf("r2", 0, "hcp", "s", {}, decided);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (Residents{{"crm", {"1"}}, {"erp", {"5"}}}));
  // Decided by a later commit: merged, and loaded.
  Merged("r1", "erp", "5", "crm", "1");
  v1::Commit load;
  load.set_stage("load");
  load.mutable_batch()->set_run_id("r1");
  load.mutable_batch()->set_entity("hcp");
  load.mutable_batch()->set_source("dedup/0");
  v1::Fate* f = load.add_fates();
  f->set_kind(v1::FATE_LOADED);
  f->set_source("crm");
  f->set_key("1");
  f->set_stage("load");
  ASSERT_TRUE(store_->RecordCommit("r1", 0, load).ok());
  r = pop_->ResidentsOf("r2", 0, "hcp", "s", {}, decided);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Residents{});
}

TEST_F(AuditPopulationTest, OnlyTheLatestCountedRunOfARecordSaysItsBlocks) {
  Run("r1", 1);
  Took("r1", "crm", "1", {100});
  Took("r1", "crm", "2", {100});
  Run("r2", 2);
  Took("r2", "crm", "2", {200});  // 2 left block 100
  Run("r3", 3, /*completed=*/false);
  Took("r3", "crm", "5", {100});  // its wave never reconciled: no population
  Run("r4", 4, false);
  Took("r4", "crm", "9", {100});
  EXPECT_EQ(ResidentsOf("r4"), (Residents{{"crm", {"1"}}}));
  // r2 rolled back: 2 is in block 100 again, as r1 left it.
  ASSERT_TRUE(store_->EndRun("r2", "rolled_back", "", "", 5).ok());
  EXPECT_EQ(ResidentsOf("r4"), (Residents{{"crm", {"1", "2"}}}));
  // r1 rolled back too: nothing stored counts.
  ASSERT_TRUE(store_->EndRun("r1", "rolled_back", "", "", 6).ok());
  EXPECT_EQ(ResidentsOf("r4"), Residents{});
  EXPECT_FALSE(*pop_->HasPopulation("hcp", "s", "r4"));
}

// Blocks made under other rules (the plan's blocking changed) do not count,
// and until a run under the new rules read the entity whole, none is stored.
TEST_F(AuditPopulationTest, APopulationCountsOnlyUnderItsOwnSpec) {
  Run("r1", 1);
  Took("r1", "crm", "1", {100});
  Run("r2", 2, /*completed=*/false, "t");
  Took("r2", "crm", "2", {100});
  auto other = pop_->ResidentsOf("r2", 0, "hcp", "t");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_TRUE(other->empty());
  EXPECT_FALSE(*pop_->HasPopulation("hcp", "t", "r2"));
  EXPECT_TRUE(*pop_->HasPopulation("hcp", "s", "r2"));
}

TEST_F(AuditPopulationTest, ARunTakenInAgainIsForgottenFirst) {
  Run("r1", 1);
  Took("r1", "crm", "1", {100});
  Run("r2", 2, false);
  Took("r2", "crm", "2", {100});
  Took("r2", "crm", "2", {100});  // the same commit again: one row
  EXPECT_EQ(ResidentsOf("r2"), (Residents{{"crm", {"1"}}}));
  ASSERT_TRUE(pop_->ForgetPopulation("r2", 0, "hcp").ok());
  EXPECT_EQ(ResidentsOf("r2"), Residents{});  // no delta: nothing to read
}

// The delta's blocks are looked up where they are, held or written: the
// same residents either way, and ResidentsOf leaves them held for the
// coordinator to write while the residents are read.
TEST_F(AuditPopulationTest, TheDeltasHeldBlocksGiveTheResidentsItsWrittenOnesGive) {
  Run("r1", 1);
  Took("r1", "crm", "1", {100});
  Took("r1", "crm", "2", {200});
  Took("r1", "crm", "3", {300});
  Merged("r1", "crm", "3", "crm", "2");
  ASSERT_TRUE(pop_->Flush().ok());
  Run("r2", 2, false);
  Took("r2", "crm", "7", {200});  // new, in 2's block: 2 and its cluster
  Took("r2", "crm", "1", {0});    // changed, blocked by no rule
  auto written = [&] {
    auto db = SqliteDb::Open((dir_ / "audit.db").string(), /*readonly=*/true);
    EXPECT_TRUE(db.ok());
    auto n = (*db)->Prepare("SELECT count(*) FROM population_blocks WHERE run_id = 'r2'");
    EXPECT_TRUE(n.ok());
    EXPECT_TRUE(*n->Step());
    return n->ColumnInt64(0);
  };
  const Residents want{{"crm", {"2", "3"}}};
  EXPECT_EQ(ResidentsOf("r2"), want);
  EXPECT_EQ(written(), 0);  // still held
  ASSERT_TRUE(pop_->Flush().ok());
  EXPECT_EQ(written(), 2);
  EXPECT_EQ(ResidentsOf("r2"), want);
  // Part written (kFlushRows reached), part held: both count.
  Took("r2", "crm", "8", {100});
  EXPECT_EQ(ResidentsOf("r2"), (Residents{{"crm", {"2", "3"}}}));
}

}  // namespace
}  // namespace sluice
