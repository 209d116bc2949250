// A loader's LOADED fates packed on the wire (v1::Commit.loaded_fates,
// issue 20): the store records them as it records the same fates sent one
// v1::Fate each, and refuses a damaged pack whole.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/audit/audit_store.h"
#include "common/audit/loaded_pack.h"
#include "common/core/record.h"
#include "common/core/test_dir_testing.h"

namespace sluice {
namespace {

v1::Commit LoadCommit(int first, int n) {
  v1::Commit c;
  c.set_stage("load");
  c.mutable_batch()->set_run_id("run-1");
  c.mutable_batch()->set_entity("hcp");
  c.mutable_batch()->set_source("crm");
  c.mutable_batch()->set_sequence(first);
  v1::Fate* rejected = c.add_fates();
  rejected->set_kind(v1::FATE_REJECTED);
  rejected->set_source("crm");
  rejected->set_key("R" + std::to_string(first));
  rejected->set_stage("load");
  rejected->set_rule("reference");
  for (int i = first; i < first + n; ++i) {
    v1::Fate* f = c.add_fates();
    f->set_kind(v1::FATE_LOADED);
    f->set_source(i % 2 ? "crm" : "erp");
    f->set_key("K" + std::to_string(i));
    f->set_stage("load");
    f->set_rule(i % 3 ? "inserted" : "updated");
    if (i == first) f->set_value("parent ids");
    f->set_line(i + 2);
    f->set_target_id(i + 1);
    f->set_content_hash(0xfedcba9876543210ull + i);
    f->set_loaded_values(std::string(i, '\0') + "values of " + std::to_string(i));
  }
  return c;
}

// The same commit with its plain LOADED fates packed, as the loader sends it.
v1::Commit OnTheWire(const v1::Commit& c) {
  v1::Commit out = c;
  out.clear_fates();
  LoadedWireWriter wire(out.mutable_loaded_fates());
  for (const v1::Fate& f : c.fates()) {
    if (!IsPackedLoad(f)) {
      *out.add_fates() = f;
      continue;
    }
    wire.Add(f.source(), f.key(), f.target_id(), f.content_hash(), f.rule(), f.value(), f.line(),
             [&](std::string* to) { to->append(f.loaded_values()); });
  }
  return out;
}

class AuditLoadedWireTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing_util::FreshTestDir("sluice-audit-wire"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<AuditStore> Store(const std::string& name) {
    auto store = AuditStore::Open((dir_ / name).string());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return nullptr;
    EXPECT_TRUE((*store)->BeginRun({"run-1", "plan", "", "", "", "", 1, 0, "running"}).ok());
    return std::move(*store);
  }

  // Everything the store answers of run-1's hcp, as text.
  static std::vector<std::string> Answers(AuditStore& store) {
    std::vector<std::string> out;
    EXPECT_TRUE(store
                    .ForEachFate("run-1", 0, "hcp",
                                 [&](const FateRow& r) {
                                   out.push_back("fate " + r.batch + " " +
                                                 r.fate.ShortDebugString());
                                 })
                    .ok());
    EXPECT_TRUE(store
                    .ForEachFateSummary(
                        "run-1", 0, "hcp",
                        [&](const FateSummary& f) {
                          out.push_back(
                              "summary " + std::string(f.kind) + " " + std::string(f.source) + ":" +
                              std::string(f.key) + " " + std::to_string(f.target_id) + " " +
                              std::to_string(f.content_hash) + " " + std::string(f.loaded_values));
                        })
                    .ok());
    for (const char* source : {"crm", "erp"}) {
      for (int i = 0; i < 8; ++i) {
        auto fates = store.FatesOf("hcp", source, "K" + std::to_string(i));
        EXPECT_TRUE(fates.ok());
        for (const FateRow& r : *fates) out.push_back("trace " + r.fate.ShortDebugString());
      }
    }
    return out;
  }

  std::filesystem::path dir_;
};

TEST_F(AuditLoadedWireTest, AWireLoadRoundTripsAndExpandsToTheFateItStandsFor) {
  const v1::Commit sent = LoadCommit(0, 3);
  const v1::Commit wire = OnTheWire(sent);
  EXPECT_EQ(wire.fates_size(), 1);  // the rejection stays a message
  std::vector<v1::Fate> all = AllFatesOf(wire);
  ASSERT_EQ(all.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].SerializeAsString(), sent.fates(static_cast<int>(i)).SerializeAsString())
        << all[i].ShortDebugString();
  }
  LoadedWireReader cut(std::string_view(wire.loaded_fates()).substr(0, 30));
  WireLoad load;
  while (cut.Next(&load)) {
  }
  EXPECT_TRUE(cut.corrupt());
}

TEST_F(AuditLoadedWireTest, TheStoreAnswersTheSameForFatesSentPackedOrOneByOne) {
  auto by_message = Store("messages.db");
  auto packed = Store("packed.db");
  ASSERT_TRUE(by_message && packed);
  for (int first : {0, 4}) {
    const v1::Commit c = LoadCommit(first, 4);
    ASSERT_TRUE(by_message->RecordCommit("run-1", 0, c).ok());
    ASSERT_TRUE(packed->RecordCommit("run-1", 0, OnTheWire(c)).ok());
  }
  const std::vector<std::string> expected = Answers(*by_message);
  EXPECT_EQ(expected.size(), 2u * (2 + 8) + 8);  // fates, summaries, traces
  EXPECT_EQ(Answers(*packed), expected);
}

TEST_F(AuditLoadedWireTest, ADamagedPackIsRefusedAndNothingOfItsCommitStays) {
  auto store = Store("audit.db");
  ASSERT_TRUE(store);
  v1::Commit c = OnTheWire(LoadCommit(0, 3));
  c.mutable_loaded_fates()->resize(c.loaded_fates().size() - 1);
  Status st = store->RecordCommit("run-1", 0, c);
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_TRUE(Answers(*store).empty());
  auto batches = store->BatchCommits("run-1", BatchName(c.batch()));
  ASSERT_TRUE(batches.ok());
  EXPECT_TRUE(batches->empty());
}

}  // namespace
}  // namespace sluice
