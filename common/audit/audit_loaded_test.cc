// LOADED fates kept by the pack (issue 20): everything the store answered
// from a fate row per loaded record it answers the same from the packs.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/audit/audit_store.h"
#include "common/audit/key_hints.h"
#include "common/audit/loaded_pack.h"
#include "common/core/record.h"
#include "common/core/test_dir_testing.h"

namespace sluice {
namespace {

class AuditLoadedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("sluice-audit-loaded");
    path_ = (dir_ / "audit.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static v1::Commit Commit(const std::string& stage, int offset) {
    v1::Commit c;
    c.set_stage(stage);
    c.mutable_batch()->set_run_id("run-1");
    c.mutable_batch()->set_entity("hcp");
    c.mutable_batch()->set_source("crm");
    c.mutable_batch()->set_sequence(offset);
    return c;
  }
  // A load commit of keys [first, first + n), each with its values.
  static v1::Commit LoadCommit(int first, int n) {
    v1::Commit c = Commit("load", first);
    for (int i = first; i < first + n; ++i) {
      v1::Fate* f = c.add_fates();
      f->set_kind(v1::FATE_LOADED);
      f->set_source("crm");
      f->set_key("K" + std::to_string(i));
      f->set_stage("load");
      f->set_rule("inserted");
      f->set_line(i + 2);
      f->set_target_id(i + 1);
      f->set_content_hash(1000 + i);
      f->set_loaded_values("values of " + std::to_string(i));
    }
    return c;
  }
  static v1::Fate Failure(v1::FateKind kind, const std::string& key, const std::string& stage) {
    v1::Fate f;
    f.set_kind(kind);
    f.set_source("crm");
    f.set_key(key);
    f.set_stage(stage);
    f.set_rule("email_format");
    f.set_field("email");
    f.set_value("x");
    return f;
  }

  // Every fate summary of run-1's hcp, paged by `limit`, as "kind:key:values".
  static std::vector<std::string> Summaries(AuditStore& store, size_t limit, size_t* pages) {
    std::vector<std::string> out;
    int64_t after = 0;
    for (*pages = 0;; ++*pages) {
      size_t rows = 0;
      auto next =
          store.ForEachFateSummaryAfter("run-1", 0, "hcp", after, limit, [&](const FateSummary& f) {
            ++rows;
            out.push_back(std::string(f.kind) + ":" + std::string(f.key) + ":" +
                          std::string(f.loaded_values));
          });
      EXPECT_TRUE(next.ok()) << next.status().ToString();
      if (!next.ok() || rows == 0) break;
      after = *next;
    }
    return out;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(AuditLoadedTest, APackRoundTrips) {
  LoadedPackWriter w;
  w.Add({"crm", "K1", 7, 0xfedcba9876543210ull, "v"});
  w.Add({"erp", "", 1ll << 40, 1, ""});
  LoadedPackReader r(w.bytes());
  PackedLoad l;
  ASSERT_TRUE(r.Next(&l));
  EXPECT_EQ(l.source, "crm");
  EXPECT_EQ(l.key, "K1");
  EXPECT_EQ(l.target_id, 7);
  EXPECT_EQ(l.content_hash, 0xfedcba9876543210ull);
  EXPECT_EQ(l.loaded_values, "v");
  ASSERT_TRUE(r.Next(&l));
  EXPECT_EQ(l.target_id, 1ll << 40);
  EXPECT_FALSE(r.Next(&l));
  EXPECT_FALSE(r.corrupt());
  // MaxBytes bounds what Add appends (a pack is sized with it before it is filled).
  LoadedPackWriter sized;
  const std::string long_key(300, 'k'), long_values(70000, 'v');
  const PackedLoad widest{"crm", long_key, -1, ~0ull, long_values};
  sized.Reserve(LoadedPackWriter::MaxBytes(widest));
  sized.Add(widest);
  EXPECT_LE(sized.bytes().size(), LoadedPackWriter::MaxBytes(widest));
  LoadedPackReader cut(std::string_view(w.bytes()).substr(0, 6));
  EXPECT_FALSE(cut.Next(&l));
  EXPECT_TRUE(cut.corrupt());
}

TEST_F(AuditLoadedTest, TheFeedReadsEveryFateOnceInBoundedPages) {
  auto store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  v1::Commit validate = Commit("validate", 0);
  *validate.add_fates() = Failure(v1::FATE_REJECTED, "BAD1", "validate");
  *validate.add_fates() = Failure(v1::FATE_REVIEW, "BAD2", "validate");
  *validate.add_fates() = Failure(v1::FATE_REJECTED, "BAD3", "validate");
  ASSERT_TRUE((*store)->RecordCommit("run-1", 0, validate).ok());
  for (int b = 0; b < 3; ++b)
    ASSERT_TRUE((*store)->RecordCommit("run-1", 0, LoadCommit(b * 3, 3)).ok());
  size_t pages = 0;
  std::vector<std::string> seen = Summaries(**store, 2, &pages);
  std::vector<std::string> expected = {"rejected:BAD1:", "review:BAD2:", "rejected:BAD3:"};
  for (int i = 0; i < 9; ++i) {
    expected.push_back("loaded:K" + std::to_string(i) + ":values of " + std::to_string(i));
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(pages, 4u);  // 2 rows, 1 row and a pack, then a pack a page
  std::vector<std::string> whole;
  ASSERT_TRUE((*store)
                  ->ForEachFateSummary("run-1", 0, "hcp",
                                       [&](const FateSummary& f) {
                                         whole.push_back(std::string(f.kind) + ":" +
                                                         std::string(f.key) + ":" +
                                                         std::string(f.loaded_values));
                                       })
                  .ok());
  EXPECT_EQ(whole, expected);
}

TEST_F(AuditLoadedTest, ATraceShowsTheLoadedFateAfterTheWarningBeforeIt) {
  auto store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->BeginRun({"run-1", "plan", "", "", "", "", 1, 0, "running"}).ok());
  v1::Commit validate = Commit("validate", 0);
  *validate.add_fates() = Failure(v1::FATE_WARNING, "K1", "validate");
  ASSERT_TRUE((*store)->RecordCommit("run-1", 0, validate).ok());
  v1::Commit load = LoadCommit(0, 3);
  load.mutable_fates(1)->set_value("parent ids");
  ASSERT_TRUE((*store)->RecordCommit("run-1", 0, load).ok());
  auto fates = (*store)->FatesOf("hcp", "crm", "K1");
  ASSERT_TRUE(fates.ok()) << fates.status().ToString();
  ASSERT_EQ(fates->size(), 2u);
  EXPECT_EQ((*fates)[0].fate.kind(), v1::FATE_WARNING);
  const FateRow& loaded = (*fates)[1];
  EXPECT_EQ(loaded.run_id, "run-1");
  EXPECT_EQ(loaded.entity, "hcp");
  EXPECT_EQ(loaded.batch, BatchName(load.batch()));
  EXPECT_EQ(loaded.fate.kind(), v1::FATE_LOADED);
  EXPECT_EQ(loaded.fate.stage(), "load");
  EXPECT_EQ(loaded.fate.rule(), "inserted");
  EXPECT_EQ(loaded.fate.value(), "parent ids");
  EXPECT_EQ(loaded.fate.line(), 3u);
  EXPECT_EQ(loaded.fate.target_id(), 2);
  EXPECT_EQ(loaded.fate.content_hash(), 1001u);
  std::vector<std::string> all;
  ASSERT_TRUE(
      (*store)
          ->ForEachFate("run-1", 0, "hcp", [&](const FateRow& f) { all.push_back(f.fate.key()); })
          .ok());
  EXPECT_EQ(all, (std::vector<std::string>{"K1", "K0", "K1", "K2"}));
}

TEST_F(AuditLoadedTest, ABatchLeasedAgainOrAnEntityForgottenLosesItsPacks) {
  auto store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  v1::Commit first = LoadCommit(0, 2);
  v1::Commit second = LoadCommit(2, 2);
  ASSERT_TRUE((*store)->RecordCommit("run-1", 0, first).ok());
  ASSERT_TRUE((*store)->RecordCommit("run-1", 0, second).ok());
  ASSERT_TRUE((*store)->DeleteBatchFates("run-1", BatchName(first.batch())).ok());
  size_t pages = 0;
  EXPECT_EQ(Summaries(**store, 100, &pages),
            (std::vector<std::string>{"loaded:K2:values of 2", "loaded:K3:values of 3"}));
  EXPECT_TRUE((*store)->FatesOf("hcp", "crm", "K0")->empty());
  EXPECT_EQ((*store)->FatesOf("hcp", "crm", "K3")->size(), 1u);
  ASSERT_TRUE((*store)->ForgetEntity("run-1", 0, "hcp").ok());
  EXPECT_TRUE(Summaries(**store, 100, &pages).empty());
  EXPECT_TRUE((*store)->FatesOf("hcp", "crm", "K3")->empty());
  // Recorded again, as a continuing coordinator does.
  ASSERT_TRUE((*store)->RecordCommit("run-1", 0, second).ok());
  EXPECT_EQ((*store)->FatesOf("hcp", "crm", "K3")->size(), 1u);
}

TEST_F(AuditLoadedTest, KeyLookupsSeePackedFates) {
  auto store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->BeginRun({"run-0", "plan", "", "", "", "", 1, 2, "completed"}).ok());
  ASSERT_TRUE((*store)->BeginRun({"run-1", "plan", "", "", "", "", 3, 0, "running"}).ok());
  ASSERT_TRUE((*store)->RecordCommit("run-0", 0, LoadCommit(0, 3)).ok());
  v1::Commit now = LoadCommit(5, 1);
  ASSERT_TRUE((*store)->RecordCommit("run-1", 0, now).ok());
  auto known = (*store)->KnownKeys("hcp", "crm", "run-1");
  ASSERT_TRUE(known.ok()) << known.status().ToString();
  EXPECT_EQ(std::set<std::string>(known->begin(), known->end()),
            (std::set<std::string>{"K0", "K1", "K2"}));
  auto with = (*store)->KeysWithFate("run-1", "hcp", "crm", {"K0", "K5", "K9"});
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(*with, std::vector<std::string>{"K5"});
  // A rejected repeat of a loaded key has its row: not unloaded.
  v1::Commit repeat = Commit("dedup", 9);
  *repeat.add_fates() = Failure(v1::FATE_REJECTED, "K5", "dedup");
  *repeat.add_fates() = Failure(v1::FATE_REJECTED, "K6", "dedup");
  ASSERT_TRUE((*store)->RecordCommit("run-1", 0, repeat).ok());
  std::vector<std::string> unloaded;
  ASSERT_TRUE((*store)
                  ->ForEachUnloadedFate("run-1", 0, "hcp",
                                        [&](const FateRow& f) { unloaded.push_back(f.fate.key()); })
                  .ok());
  EXPECT_EQ(unloaded, std::vector<std::string>{"K6"});
  auto db = SqliteDb::Open(path_, /*readonly=*/true);
  ASSERT_TRUE(db.ok());
  auto hints = KeyHintsOf(**db, "hcp", "crm", "K1 ");
  ASSERT_TRUE(hints.ok()) << hints.status().ToString();
  EXPECT_EQ(hints->before, "K1");
  EXPECT_EQ(hints->after, "K2");
  ASSERT_EQ(hints->lookalikes.size(), 1u);
  EXPECT_EQ(hints->lookalikes[0].key, "K1");
  EXPECT_EQ(hints->lookalikes[0].kind, "loaded");
  EXPECT_EQ(hints->lookalikes[0].run_id, "run-0");
  auto by_number = KeyHintsOf(**db, "hcp", "crm", "1");  // K0's target id
  ASSERT_TRUE(by_number.ok());
  ASSERT_EQ(by_number->lookalikes.size(), 1u);
  EXPECT_EQ(by_number->lookalikes[0].key, "K0");
  EXPECT_TRUE(by_number->lookalikes[0].by_number);
  auto entities = KeyHintsOf(**db, "nope", "crm", "K1");
  ASSERT_TRUE(entities.ok());
  EXPECT_EQ(entities->entities, std::vector<std::string>{"hcp"});
}

TEST_F(AuditLoadedTest, ALoadedFateWithMoreThanAPackHoldsKeepsItsRow) {
  auto store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  v1::Commit c = LoadCommit(0, 2);
  c.mutable_fates(0)->set_reason("loaded after a steward's correction");
  EXPECT_FALSE(IsPackedLoad(c.fates(0)));
  EXPECT_TRUE(IsPackedLoad(c.fates(1)));
  ASSERT_TRUE((*store)->RecordCommit("run-1", 0, c).ok());
  auto fates = (*store)->FatesOf("hcp", "crm", "K0");
  ASSERT_TRUE(fates.ok());
  ASSERT_EQ(fates->size(), 1u);
  EXPECT_EQ((*fates)[0].fate.reason(), "loaded after a steward's correction");
  size_t pages = 0;
  EXPECT_EQ(Summaries(**store, 100, &pages),
            (std::vector<std::string>{"loaded:K0:values of 0", "loaded:K1:values of 1"}));
}

// A store written before packs: its loaded fates are rows, read as before.
TEST_F(AuditLoadedTest, AStoreWrittenBeforePacksReadsAsBefore) {
  {
    auto db = SqliteDb::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->Exec("CREATE TABLE fates(run_id TEXT, wave INTEGER, entity TEXT,"
                           " source TEXT, key TEXT, kind TEXT, stage TEXT, rule TEXT, field TEXT,"
                           " value TEXT, reason TEXT, suggestion TEXT, line INTEGER,"
                           " survivor_source TEXT, survivor_key TEXT, target_id INTEGER,"
                           " content_hash INTEGER, batch TEXT, loaded_values BLOB);"
                           "CREATE TABLE runs(run_id TEXT PRIMARY KEY, plan_name TEXT,"
                           " plan_path TEXT, plan_hash TEXT, model_hash TEXT, environment TEXT,"
                           " started_ms INTEGER, ended_ms INTEGER, status TEXT,"
                           " halt_reason TEXT, summary_json TEXT);"
                           "INSERT INTO fates VALUES('run-1', 0, 'hcp', 'crm', 'K1', 'loaded',"
                           " 'load', 'inserted', '', '', '', '', 3, '', '', 2, 1001, 'b', x'00');")
                    .ok());
  }
  auto store = AuditStore::Open(path_, /*readonly=*/true);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto fates = (*store)->FatesOf("hcp", "crm", "K1");
  ASSERT_TRUE(fates.ok()) << fates.status().ToString();
  ASSERT_EQ(fates->size(), 1u);
  EXPECT_EQ((*fates)[0].fate.target_id(), 2);
  size_t pages = 0;
  EXPECT_EQ(Summaries(**store, 100, &pages),
            std::vector<std::string>{std::string("loaded:K1:") + '\0'});
  auto db = SqliteDb::Open(path_, /*readonly=*/true);
  ASSERT_TRUE(db.ok());
  auto hints = KeyHintsOf(**db, "hcp", "crm", "K2");
  ASSERT_TRUE(hints.ok()) << hints.status().ToString();
  EXPECT_EQ(hints->before, "K1");
}

}  // namespace
}  // namespace sluice
