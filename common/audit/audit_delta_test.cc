// Issue 18: the high-water marks and what the deletion scan compares with.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "common/audit/audit_store.h"
#include "common/core/test_dir_testing.h"

namespace sluice {
namespace {

class AuditDeltaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("sluice-audit-delta");
    auto store = AuditStore::Open((dir_ / "audit.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Run(const std::string& run_id, int64_t started, const std::string& status = "completed") {
    RunRecord r;
    r.run_id = run_id;
    r.plan_name = "p";
    r.started_ms = started;
    r.status = status;
    ASSERT_TRUE(store_->BeginRun(r).ok());
  }
  // One commit of `run_id` with a fate of `kind` (rule `rule`) per key.
  void Fates(const std::string& run_id, v1::FateKind kind, std::vector<std::string> keys,
             const std::string& rule = "") {
    v1::Commit c;
    c.set_stage("load");
    c.mutable_batch()->set_run_id(run_id);
    c.mutable_batch()->set_entity("hcp");
    c.mutable_batch()->set_source("dedup/0");
    c.mutable_batch()->set_sequence(static_cast<uint64_t>(kind));
    for (const std::string& k : keys) {
      v1::Fate* f = c.add_fates();
      f->set_kind(kind);
      f->set_source("crm");
      f->set_key(k);
      f->set_stage(kind == v1::FATE_DELETED_AT_SOURCE ? "delete" : "load");
      f->set_rule(rule);
    }
    ASSERT_TRUE(store_->RecordCommit(run_id, 0, c).ok());
  }
  std::vector<std::string> Known(const std::string& run_id) {
    auto keys = store_->KnownKeys("hcp", "crm", run_id);
    EXPECT_TRUE(keys.ok()) << keys.status().ToString();
    std::vector<std::string> out = keys.ok() ? *keys : std::vector<std::string>{};
    std::sort(out.begin(), out.end());
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<AuditStore> store_;
};

TEST_F(AuditDeltaTest, MarksOnlyRiseAndNumbersCompareAsNumbers) {
  ASSERT_TRUE(store_->RaiseMark("p", "hcp", "crm", "9", "r1").ok());
  ASSERT_TRUE(store_->RaiseMark("p", "hcp", "crm", "10", "r2").ok());
  ASSERT_TRUE(store_->RaiseMark("p", "hcp", "crm", "8", "r3").ok());
  ASSERT_TRUE(store_->RaiseMark("p", "hcp", "erp", "2026-01-10T00:00:00", "r3").ok());
  auto marks = store_->MarksOf("p");
  ASSERT_TRUE(marks.ok());
  EXPECT_EQ((*marks)[std::make_pair("hcp", "crm")], "10");
  EXPECT_EQ((*marks)[std::make_pair("hcp", "erp")], "2026-01-10T00:00:00");
  EXPECT_TRUE(store_->MarksOf("other")->empty());
}

TEST_F(AuditDeltaTest, RunMarksAreKeptForWhoeverContinuesTheRun) {
  EXPECT_FALSE(store_->RunMarksOf("r1")->has_value());
  ASSERT_TRUE(store_->RecordRunMarks("r1", {{{"hcp", "crm"}, "5"}}, false).ok());
  ASSERT_TRUE(store_->RecordRunMarks("r2", {}, true).ok());
  auto r1 = store_->RunMarksOf("r1");
  ASSERT_TRUE(r1.ok() && r1->has_value());
  EXPECT_FALSE((*r1)->full);
  EXPECT_EQ(((*r1)->marks[{"hcp", "crm"}]), "5");
  EXPECT_TRUE((*store_->RunMarksOf("r2"))->full);
}

TEST_F(AuditDeltaTest, DeltaBatchesGiveTheHighestValueAndTheRowsSkipped) {
  for (int i = 0; i < 3; ++i) {
    v1::Commit c;
    c.mutable_batch()->set_run_id("r1");
    c.mutable_batch()->set_entity("hcp");
    c.mutable_batch()->set_source("crm");
    c.mutable_batch()->set_sequence(static_cast<uint64_t>(i));
    c.mutable_range()->set_watermark_high(i == 1 ? "12" : i == 2 ? "" : "9");
    c.mutable_range()->set_skipped(100);
    ASSERT_TRUE(store_->RecordDeltaBatch("r1", 0, c).ok());
    ASSERT_TRUE(store_->RecordDeltaBatch("r1", 0, c).ok());  // extracted again: replaced
  }
  auto d = store_->DeltaExtractionOf("r1", 0, "hcp", "crm");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->high, "12");
  EXPECT_EQ(d->skipped, 300u);
  EXPECT_EQ(d->batches, 3u);
  ASSERT_TRUE(store_->ForgetDeltaBatches("r1", 0, "hcp").ok());
  EXPECT_EQ(store_->DeltaExtractionOf("r1", 0, "hcp", "crm")->batches, 0u);
}

TEST_F(AuditDeltaTest, KnownKeysFollowEachKeysLatestFate) {
  Run("r1", 1);
  Fates("r1", v1::FATE_LOADED, {"A", "B", "C", "D", "E"});
  Fates("r1", v1::FATE_MERGED, {"M"});
  Run("r2", 2);
  Fates("r2", v1::FATE_REJECTED, {"B"});  // its row was retired
  Fates("r2", v1::FATE_DELETED_AT_SOURCE, {"C"}, "propagate");
  Fates("r2", v1::FATE_DELETED_AT_SOURCE, {"D"}, "report");  // the row stays
  Run("r3", 3, "rolled_back");
  Fates("r3", v1::FATE_LOADED, {"Z"});  // rolled back: no row
  EXPECT_EQ(Known("r9"), (std::vector<std::string>{"A", "D", "E", "M"}));
  // The run's own fates do not count.
  EXPECT_EQ(Known("r2"), (std::vector<std::string>{"A", "B", "C", "D", "E", "M"}));
  auto with = store_->KeysWithFate("r2", "hcp", "crm", {"A", "B", "C"});
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(*with, (std::vector<std::string>{"B", "C"}));
  std::vector<std::string> deleted;
  ASSERT_TRUE(store_
                  ->ForEachDeletion("r2", "",
                                    [&](const FateRow& r) {
                                      deleted.push_back(r.fate.key() + ":" + r.fate.rule());
                                    })
                  .ok());
  EXPECT_EQ(deleted, (std::vector<std::string>{"C:propagate", "D:report"}));
}

// Within one run, a loaded fate in a pack and a fate row follow the order
// they were recorded in (all_fates: seq, then the pack's order).
TEST_F(AuditDeltaTest, KnownKeysOrderPacksAndFateRowsWithinARun) {
  Run("r1", 1);
  Fates("r1", v1::FATE_REJECTED, {"Y"});
  Fates("r1", v1::FATE_LOADED, {"W", "Y"});  // Y loaded after its rejection
  Fates("r1", v1::FATE_REVIEW, {"W"});       // W held after its load
  Run("r2", 2);
  Fates("r2", v1::FATE_LOADED, {"V"});
  Fates("r2", v1::FATE_REJECTED, {"Y"});
  EXPECT_EQ(Known("r9"), (std::vector<std::string>{"V"}));
  EXPECT_EQ(Known("r2"), (std::vector<std::string>{"Y"}));
}

// A key deleted at its source that members' latest fates merge into is a
// survivor (its row is kept); a member decided again since (here loaded on
// its own) no longer makes it one. Found through fates_by_survivor.
TEST_F(AuditDeltaTest, SurvivorsAmongFollowTheMembersLatestFates) {
  // One fate of erp's `member` in `run_id`: merged into crm's `survivor`,
  // or (no survivor) loaded on its own.
  auto member = [&](const std::string& run_id, const std::string& key,
                    const std::string& survivor) {
    v1::Commit c;
    c.set_stage(survivor.empty() ? "load" : "dedup_resolve");
    c.mutable_batch()->set_run_id(run_id);
    c.mutable_batch()->set_entity("hcp");
    c.mutable_batch()->set_source(survivor.empty() ? "dedup/0" : "dedup/0/resolve");
    v1::Fate* f = c.add_fates();
    f->set_kind(survivor.empty() ? v1::FATE_LOADED : v1::FATE_MERGED);
    f->set_source("erp");
    f->set_key(key);
    f->set_stage(survivor.empty() ? "load" : "dedup");
    if (!survivor.empty()) {
      f->set_survivor_source("crm");
      f->set_survivor_key(survivor);
    }
    ASSERT_TRUE(store_->RecordCommit(run_id, 0, c).ok());
  };
  Run("r1", 1);
  Fates("r1", v1::FATE_LOADED, {"S", "T"});
  member("r1", "M1", "S");
  member("r1", "M2", "S");
  auto survivors = store_->SurvivorsAmong("hcp", "crm", {"S", "T", "U"});
  ASSERT_TRUE(survivors.ok()) << survivors.status().ToString();
  EXPECT_EQ(*survivors, std::vector<std::string>{"S"});
  Run("r2", 2);
  member("r2", "M1", "");  // loaded alone; M2 still merges into S
  EXPECT_EQ(*store_->SurvivorsAmong("hcp", "crm", {"S"}), std::vector<std::string>{"S"});
  Run("r3", 3);
  member("r3", "M2", "T");  // merged elsewhere: S is no survivor any more
  EXPECT_TRUE(store_->SurvivorsAmong("hcp", "crm", {"S"})->empty());
  EXPECT_EQ(*store_->SurvivorsAmong("hcp", "crm", {"S", "T"}), std::vector<std::string>{"T"});
}

}  // namespace
}  // namespace sluice
