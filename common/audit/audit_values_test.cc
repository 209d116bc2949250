// Loaded values stored per batch (issue 20): every LOADED fate read back by
// the reconciler's summary scan comes with the values its commit carried,
// whether the scan is paged or not, and a batch that is forgotten takes its
// values with it.
#include "common/audit/audit_values.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/audit/audit_store.h"
#include "common/core/record.h"

namespace sluice {
namespace {

// Batch `range` ("r1", "r2": its sequence) loads `keys` from crm, with
// values that name the batch; one rejection besides.
v1::Commit LoadCommit(const std::string& range, const std::vector<std::string>& keys) {
  v1::Commit c;
  c.set_stage("load");
  c.mutable_batch()->set_run_id("run-1");
  c.mutable_batch()->set_entity("hcp");
  c.mutable_batch()->set_source("dedup/0");
  c.mutable_batch()->set_sequence(std::stoull(range.substr(1)));
  for (size_t i = 0; i < keys.size(); ++i) {
    v1::Fate* f = c.add_fates();
    f->set_kind(v1::FATE_LOADED);
    f->set_source("crm");
    f->set_key(keys[i]);
    f->set_target_id(static_cast<int64_t>(i + 1));
    f->set_content_hash(std::hash<std::string>()(range + keys[i]));
    f->set_loaded_values(range + ":" + keys[i] + std::string(1, '\0') + "values");
  }
  v1::Fate* r = c.add_fates();
  r->set_kind(v1::FATE_REJECTED);
  r->set_source("crm");
  r->set_key("BAD-" + range);
  r->set_rule("email_format");
  return c;
}

class AuditValuesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice-values-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = AuditStore::Open((dir_ / "audit.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // key -> values of every LOADED fate of the run, read page by page.
  std::multimap<std::string, std::string> Loaded(size_t page) {
    std::multimap<std::string, std::string> out;
    int64_t after = 0;
    for (;;) {
      size_t rows = 0;
      auto last = store_->ForEachFateSummaryAfter(
          "run-1", 0, "hcp", after, page, [&](const FateSummary& f) {
            ++rows;
            if (f.kind != "loaded") return;
            out.emplace(std::string(f.key), std::string(f.loaded_values));
          });
      EXPECT_TRUE(last.ok()) << last.status().ToString();
      if (!last.ok() || rows < page) break;
      after = *last;
    }
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<AuditStore> store_;
};

TEST(BatchValuesTest, EncodesOnlyLoadedFatesWithValues) {
  v1::Commit c = LoadCommit("r1", {"A", "B"});
  c.mutable_fates(1)->clear_loaded_values();
  std::vector<BatchValueEntry> entries;
  const std::string stored = EncodeBatchValues(c);
  ASSERT_TRUE(DecodeBatchValues(stored, &entries));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].source, "crm");
  EXPECT_EQ(entries[0].key, "A");
  EXPECT_EQ(entries[0].content_hash, c.fates(0).content_hash());
  EXPECT_EQ(entries[0].values, c.fates(0).loaded_values());
  entries.clear();
  EXPECT_FALSE(DecodeBatchValues(stored.substr(0, stored.size() - 1), &entries));
}

TEST_F(AuditValuesTest, EveryLoadedFateFindsItsValuesPagedOrNot) {
  // Key B is loaded by two batches with different values: each fate gets its own.
  ASSERT_TRUE(store_->RecordCommit("run-1", 0, LoadCommit("r1", {"A", "B", "C"})).ok());
  ASSERT_TRUE(store_->RecordCommit("run-1", 0, LoadCommit("r2", {"D", "B"})).ok());
  const std::multimap<std::string, std::string> want = {{"A", std::string("r1:A\0values", 11)},
                                                        {"B", std::string("r1:B\0values", 11)},
                                                        {"B", std::string("r2:B\0values", 11)},
                                                        {"C", std::string("r1:C\0values", 11)},
                                                        {"D", std::string("r2:D\0values", 11)}};
  for (size_t page : {1, 2, 3, 1000}) EXPECT_EQ(Loaded(page), want) << "page " << page;

  std::multimap<std::string, std::string> all;
  ASSERT_TRUE(store_
                  ->ForEachFateSummary("run-1", 0, "hcp",
                                       [&](const FateSummary& f) {
                                         if (f.kind == "loaded") {
                                           all.emplace(std::string(f.key),
                                                       std::string(f.loaded_values));
                                         }
                                       })
                  .ok());
  EXPECT_EQ(all, want);
}

TEST_F(AuditValuesTest, ForgottenBatchTakesItsValues) {
  const v1::Commit r1 = LoadCommit("r1", {"A"});
  const v1::Commit r2 = LoadCommit("r2", {"B"});
  ASSERT_TRUE(store_->RecordCommit("run-1", 0, r1).ok());
  ASSERT_TRUE(store_->RecordCommit("run-1", 0, r2).ok());
  ASSERT_TRUE(store_->DeleteBatchFates("run-1", BatchName(r1.batch())).ok());
  // Recorded again (the batch leased anew), with other values.
  v1::Commit again = LoadCommit("r1", {"A"});
  again.mutable_fates(0)->set_loaded_values("new");
  ASSERT_TRUE(store_->RecordCommit("run-1", 0, again).ok());
  EXPECT_EQ(Loaded(1000), (std::multimap<std::string, std::string>{
                              {"A", "new"}, {"B", std::string("r2:B\0values", 11)}}));
  ASSERT_TRUE(store_->ForgetEntity("run-1", 0, "hcp").ok());
  EXPECT_TRUE(Loaded(1000).empty());
}

TEST_F(AuditValuesTest, ValuesInTheFateRowOfAnOlderStoreAreRead) {
  ASSERT_TRUE(store_->RecordCommit("run-1", 0, LoadCommit("r1", {"A"})).ok());
  {  // as issue 17 stored them: in the fate row, no batch row
    auto db = SqliteDb::Open((dir_ / "audit.db").string());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->Exec("DELETE FROM batch_values; UPDATE fates SET loaded_values="
                           "'in the row' WHERE kind='loaded';")
                    .ok());
  }
  EXPECT_EQ(Loaded(1000), (std::multimap<std::string, std::string>{{"A", "in the row"}}));
}

}  // namespace
}  // namespace sluice
