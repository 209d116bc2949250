// The audit store's fate rows: written per commit, read back by the
// reconciler's summary scan and by the error log through the partial index
// of failures (also when the store was created by an earlier version).
#include "common/audit/audit_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/core/record.h"
#include "common/core/test_dir_testing.h"

namespace sluice {
namespace {

class AuditStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("sluice-audit-test");
    path_ = (dir_ / "audit.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A load commit of `loaded` records plus one validation rejection.
  static v1::Commit LoadCommit(int loaded) {
    v1::Commit c;
    c.set_stage("load");
    c.mutable_batch()->set_run_id("run-1");
    c.mutable_batch()->set_entity("hcp");
    c.mutable_batch()->set_source("dedup/0");
    for (int i = 0; i < loaded; ++i) {
      v1::Fate* f = c.add_fates();
      f->set_kind(v1::FATE_LOADED);
      f->set_source("crm");
      f->set_key("K" + std::to_string(i));
      f->set_stage("load");
      f->set_rule("inserted");
      f->set_target_id(i + 1);
      f->set_content_hash(1000 + i);
    }
    v1::Fate* r = c.add_fates();
    r->set_kind(v1::FATE_REJECTED);
    r->set_source("crm");
    r->set_key("BAD");
    r->set_stage("validate");
    r->set_rule("email_format");
    r->set_field("email");
    r->set_value("not-an-email");
    return c;
  }

  static std::set<std::string> FateIndexes(const std::string& path) {
    auto db = SqliteDb::Open(path, /*readonly=*/true);
    EXPECT_TRUE(db.ok());
    auto st =
        (*db)->Prepare("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='fates'");
    EXPECT_TRUE(st.ok());
    std::set<std::string> names;
    while (true) {
      auto row = st->Step();
      EXPECT_TRUE(row.ok());
      if (!row.ok() || !*row) break;
      names.insert(std::string(st->ColumnText(0)));
    }
    return names;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(AuditStoreTest, FatesComeBackWhole) {
  {
    auto store = AuditStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->RecordCommit("run-1", 0, LoadCommit(3)).ok());
  }
  auto store = AuditStore::Open(path_, /*readonly=*/true);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<std::string> seen;
  int64_t ids = 0;
  ASSERT_TRUE((*store)
                  ->ForEachFateSummary("run-1", 0, "hcp",
                                       [&](const FateSummary& f) {
                                         seen.push_back(std::string(f.kind) + ":" +
                                                        std::string(f.key));
                                         ids += f.target_id;
                                       })
                  .ok());
  // The fate rows first, then the packed LOADED fates in their order (issue 20).
  EXPECT_EQ(seen,
            (std::vector<std::string>{"rejected:BAD", "loaded:K0", "loaded:K1", "loaded:K2"}));
  EXPECT_EQ(ids, 1 + 2 + 3);
  auto fates = (*store)->FatesOf("hcp", "crm", "K1");
  ASSERT_TRUE(fates.ok());
  ASSERT_EQ(fates->size(), 1u);
  EXPECT_EQ((*fates)[0].batch, BatchName(LoadCommit(0).batch()));
  EXPECT_EQ((*fates)[0].fate.content_hash(), 1001u);
}

// A repeat of a source key is rejected while its first occurrence loads: the
// key has its row, so it is not among the records without one (whose rows
// from earlier runs are retired, and whose children follow them).
TEST_F(AuditStoreTest, ARejectedRepeatOfALoadedKeyIsNotUnloaded) {
  auto store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  v1::Commit c = LoadCommit(2);
  v1::Fate* repeat = c.add_fates();
  repeat->set_kind(v1::FATE_REJECTED);
  repeat->set_source("crm");
  repeat->set_key("K1");
  repeat->set_stage("dedup");
  repeat->set_rule("duplicate_source_key");
  ASSERT_TRUE((*store)->RecordCommit("run-1", 0, c).ok());
  std::vector<std::string> unloaded;
  ASSERT_TRUE((*store)
                  ->ForEachUnloadedFate("run-1", 0, "hcp",
                                        [&](const FateRow& f) { unloaded.push_back(f.fate.key()); })
                  .ok());
  EXPECT_EQ(unloaded, std::vector<std::string>{"BAD"});
}

TEST_F(AuditStoreTest, FailuresAreFoundByRule) {
  auto store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->RecordCommit("run-1", 0, LoadCommit(50)).ok());
  auto counts = (*store)->ErrorCounts("run-1");
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].rule, "email_format");
  EXPECT_EQ((*counts)[0].kind, "rejected");
  EXPECT_EQ((*counts)[0].count, 1u);
  auto by_rule = (*store)->FailuresByRule("run-1", 0, 5);
  ASSERT_TRUE(by_rule.ok());
  ASSERT_EQ(by_rule->size(), 1u);
  ASSERT_EQ((*by_rule)[0].examples.size(), 1u);
  EXPECT_EQ((*by_rule)[0].examples[0].value(), "not-an-email");
  std::vector<std::string> errors;
  ASSERT_TRUE((*store)
                  ->ForEachError("run-1", "email_format", "hcp",
                                 [&](const FateRow& row) { errors.push_back(row.fate.key()); })
                  .ok());
  EXPECT_EQ(errors, std::vector<std::string>{"BAD"});
  EXPECT_EQ((*store)->FailuresByRule("run-1", 1, 5)->size(), 0u);  // another wave
}

TEST_F(AuditStoreTest, AnEarlierStoreGetsTheCheaperFailureIndex) {
  {
    // The index an earlier version created: `kind IN (...)` made SQLite
    // build a temporary b-tree for every fate row inserted.
    auto store = AuditStore::Open(path_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->RecordCommit("run-1", 0, LoadCommit(2)).ok());
  }
  {
    auto db = SqliteDb::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->Exec("DROP INDEX fates_failed; CREATE INDEX fates_failures ON fates(run_id,"
                           " rule) WHERE kind IN ('rejected', 'review', 'warning');")
                    .ok());
  }
  ASSERT_TRUE(FateIndexes(path_).count("fates_failures"));
  auto store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::set<std::string> indexes = FateIndexes(path_);
  EXPECT_FALSE(indexes.count("fates_failures"));
  EXPECT_TRUE(indexes.count("fates_failed"));
  EXPECT_TRUE(indexes.count("fates_by_key"));
  EXPECT_TRUE(indexes.count("fates_by_run"));
  auto counts = (*store)->ErrorCounts("run-1");
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].count, 1u);
}

// The run report's dedup figures: the resolve commit's summary as it was
// committed (recorded again, replaced), clusters counted from the merged
// fates by survivor, and the records dedup held for review.
TEST_F(AuditStoreTest, DedupFiguresComeBackPerEntity) {
  auto store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  v1::Commit c;
  c.set_stage("dedup_resolve");
  c.mutable_batch()->set_run_id("run-1");
  c.mutable_batch()->set_entity("hcp");
  c.mutable_batch()->set_source("dedup/resolve");
  auto fate = [&](const char* key, v1::FateKind kind, const char* survivor) {
    v1::Fate* f = c.add_fates();
    f->set_kind(kind);
    f->set_source("crm");
    f->set_key(key);
    f->set_stage("dedup");
    if (survivor[0]) {
      f->set_survivor_source("erp");
      f->set_survivor_key(survivor);
    }
  };
  // Survivor S1 with two merged records (a cluster of 3), S2 and S3 with
  // one each (clusters of 2), and one record held for review.
  fate("a", v1::FATE_MERGED, "S1");
  fate("b", v1::FATE_MERGED, "S1");
  fate("c", v1::FATE_MERGED, "S2");
  fate("d", v1::FATE_MERGED, "S3");
  fate("e", v1::FATE_REVIEW, "");
  v1::MatchSummary* m = c.mutable_match_summary();
  m->set_comparisons(99);
  m->set_merge_threshold(12.5);
  v1::WeightBin* bin = m->add_weight_bins();
  bin->set_floor(-4);
  bin->set_pairs(90);
  ASSERT_TRUE((*store)->RecordCommit("run-1", 0, c).ok());
  m->set_comparisons(100);  // the resolution recorded again replaces the first
  c.clear_fates();
  ASSERT_TRUE((*store)->RecordMatchFigures("run-1", 0, c).ok());

  auto figures = (*store)->DedupFiguresOf("run-1", 0);
  ASSERT_TRUE(figures.ok()) << figures.status().ToString();
  ASSERT_EQ(figures->size(), 1u);
  const DedupFigures& f = (*figures)[0];
  EXPECT_EQ(f.entity, "hcp");
  EXPECT_EQ(f.summary.comparisons(), 100u);
  EXPECT_EQ(f.summary.merge_threshold(), 12.5);
  ASSERT_EQ(f.summary.weight_bins_size(), 1);
  EXPECT_EQ(f.summary.weight_bins(0).pairs(), 90u);
  EXPECT_EQ(f.clusters_by_size, (std::map<uint64_t, uint64_t>{{2, 2}, {3, 1}}));
  EXPECT_EQ(f.held_for_review, 1u);
  auto other_wave = (*store)->DedupFiguresOf("run-1", 1);
  ASSERT_TRUE(other_wave.ok());
  EXPECT_TRUE(other_wave->empty());
}

}  // namespace
}  // namespace sluice
