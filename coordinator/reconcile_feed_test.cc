// The reconciliation input sent in bounded chunks (issue 22), and the checks
// of a reconciler's claims against it.
#include "coordinator/reconcile_feed.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/audit/loaded_pack.h"
#include "common/core/hash.h"
#include "common/core/test_dir_testing.h"

namespace sluice::coordination {
namespace {

class ReconcileFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("sluice-feed-test");
    auto store = AuditStore::Open((dir_ / "audit.db").string());
    ASSERT_TRUE(store.ok());
    audit_ = std::move(*store);
    // Five loaded records, a warning on one of them, one rejection.
    v1::Commit c;
    c.set_stage("load");
    c.mutable_batch()->set_run_id("run-1");
    c.mutable_batch()->set_entity("hcp");
    c.mutable_batch()->set_source("dedup/0");
    for (int i = 0; i < 5; ++i) {
      v1::Fate* f = c.add_fates();
      f->set_kind(v1::FATE_LOADED);
      f->set_source("crm");
      f->set_key("K" + std::to_string(i));
      f->set_target_id(i + 1);
      if (i == 2) {
        v1::Fate* w = c.add_fates();
        w->set_kind(v1::FATE_WARNING);
        w->set_source("crm");
        w->set_key("K2");
        w->set_rule("phone_soft");
      }
    }
    v1::Fate* r = c.add_fates();
    r->set_kind(v1::FATE_REJECTED);
    r->set_source("crm");
    r->set_key("BAD");
    r->set_rule("email_format");
    ASSERT_TRUE(audit_->RecordCommit("run-1", 0, c).ok());
    LedgerRow row;
    row.run_id = "run-1";
    row.entity = "hcp";
    row.source = "crm";
    row.extracted = 6;
    row.loaded = 5;
    ASSERT_TRUE(audit_->WriteLedger({row}, {}).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::unique_ptr<AuditStore> audit_;
};

TEST_F(ReconcileFeedTest, SendsEveryFateInChunksAsCreditAllows) {
  ReconcileFeed feed(audit_.get(), "run-1", 0, {"hcp"}, 7, /*chunk_fates=*/2);
  EXPECT_FALSE(feed.CanSend()) << "nothing goes out before the reconciler grants credit";
  feed.Grant(2);
  std::vector<v1::ReconcileInput> chunks;
  while (feed.CanSend()) {
    auto chunk = feed.Next();
    ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
    chunks.push_back(*chunk);
  }
  EXPECT_EQ(chunks.size(), 2u) << "two credits, two chunks";
  EXPECT_FALSE(feed.done());
  feed.Grant(100);  // more than kMaxCredit: capped, and still enough
  while (feed.CanSend()) chunks.push_back(*feed.Next());
  ASSERT_TRUE(feed.done());
  // 7 rows (the warning among them) in pages of 2: 4 chunks.
  ASSERT_EQ(chunks.size(), 4u);
  KeyChecksum checksum;
  uint64_t fates = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].sequence(), i);
    EXPECT_EQ(chunks[i].epoch(), 7u);
    EXPECT_EQ(chunks[i].entity(), "hcp");
    EXPECT_EQ(chunks[i].ledger_size(), i == 0 ? 1 : 0) << "the ledger rows come first, once";
    EXPECT_EQ(chunks[i].entity_done(), i + 1 == chunks.size());
    EXPECT_EQ(chunks[i].wave_done(), i + 1 == chunks.size());
    for (const auto& f : chunks[i].fates()) {
      EXPECT_NE(f.kind(), v1::FATE_WARNING) << "a warning is no fate of its own";
      checksum.Add(f.source(), f.key());
      ++fates;
    }
  }
  EXPECT_EQ(fates, 6u);
  EXPECT_EQ(chunks[0].ledger(0).extracted(), 6u);
  const ReconcileFeed::Sent& sent = feed.sent().at("hcp");
  EXPECT_EQ(sent.fates, 6u);
  EXPECT_EQ(sent.loaded, 5u);
  EXPECT_EQ(sent.checksum, checksum.value());
}

TEST_F(ReconcileFeedTest, AClaimMustMatchWhatWasSent) {
  ReconcileFeed feed(audit_.get(), "run-1", 0, {"hcp"}, 7);
  v1::ReconcileResult result;
  result.set_passed(true);
  v1::ReconciledEntity* hcp = result.add_entities();
  hcp->set_entity("hcp");
  hcp->set_passed(true);
  hcp->set_fates(6);
  hcp->set_expected_rows(5);
  hcp->set_matched_rows(5);
  EXPECT_FALSE(CheckReconcileClaims(feed, result).ok()) << "nothing was sent yet";
  feed.Grant(1);
  ASSERT_TRUE(feed.Next().ok());
  ASSERT_TRUE(feed.done());
  hcp->set_fates_checksum(feed.sent().at("hcp").checksum);
  EXPECT_TRUE(CheckReconcileClaims(feed, result).ok());
  hcp->set_matched_rows(4);
  EXPECT_FALSE(CheckReconcileClaims(feed, result).ok()) << "a pass with a row unmatched";
  result.set_passed(false);
  EXPECT_TRUE(CheckReconcileClaims(feed, result).ok()) << "a failure is believed";
  hcp->set_expected_rows(4);
  EXPECT_FALSE(CheckReconcileClaims(feed, result).ok()) << "rows the ledger did not load";
}

TEST_F(ReconcileFeedTest, PackedLoadedFatesGoOnByThePack) {
  // Two loader commits of 3 plainly LOADED fates each: the store keeps them
  // in two packs, which the feed sends as they are (issue 20).
  for (int b = 0; b < 2; ++b) {
    v1::Commit c;
    c.set_stage("load");
    c.mutable_batch()->set_run_id("run-1");
    c.mutable_batch()->set_entity("hcp");
    c.mutable_batch()->set_source("dedup/0");
    c.mutable_batch()->set_sequence(b + 1);
    for (int i = 0; i < 3; ++i) {
      v1::Fate* f = c.add_fates();
      f->set_kind(v1::FATE_LOADED);
      f->set_stage("load");
      f->set_source("erp");
      f->set_key("P" + std::to_string(b * 3 + i));
      f->set_target_id(100 + b * 3 + i);
      f->set_loaded_values("v");
    }
    ASSERT_TRUE(audit_->RecordCommit("run-1", 0, c).ok());
  }
  ReconcileFeed feed(audit_.get(), "run-1", 0, {"hcp"}, 7, /*chunk_fates=*/8);
  feed.Grant(10);
  std::vector<v1::ReconcileInput> chunks;
  while (feed.CanSend()) chunks.push_back(*feed.Next());
  ASSERT_TRUE(feed.done());
  KeyChecksum checksum;
  uint64_t digests = 0;
  std::vector<std::string> packed;
  for (const auto& chunk : chunks) {
    for (const auto& f : chunk.fates()) {
      checksum.Add(f.source(), f.key());
      ++digests;
      EXPECT_NE(f.source(), "erp") << "a packed fate sent as a digest";
    }
    for (const std::string& bytes : chunk.loaded_packs()) {
      LoadedPackReader reader(bytes);
      PackedLoad load;
      while (reader.Next(&load)) {
        checksum.Add(load.source, load.key);
        packed.push_back(std::string(load.key) + "@" + std::to_string(load.target_id) + ":" +
                         std::string(load.loaded_values));
      }
      EXPECT_FALSE(reader.corrupt());
    }
  }
  EXPECT_EQ(digests, 6u);  // the fixture's rows
  EXPECT_EQ(packed, (std::vector<std::string>{"P0@100:v", "P1@101:v", "P2@102:v", "P3@103:v",
                                              "P4@104:v", "P5@105:v"}));
  const ReconcileFeed::Sent& sent = feed.sent().at("hcp");
  EXPECT_EQ(sent.fates, 12u);
  EXPECT_EQ(sent.loaded, 11u);
  EXPECT_EQ(sent.checksum, checksum.value());
}

}  // namespace
}  // namespace sluice::coordination
