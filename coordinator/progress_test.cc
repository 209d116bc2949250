#include "coordinator/progress.h"

#include <gtest/gtest.h>

namespace sluice::coordination {
namespace {

struct Counts {
  uint64_t in = 0, out = 0, rejected = 0, review = 0, merged = 0, inserted = 0;
};

v1::Commit Commit(const std::string& stage, const std::string& source, uint64_t sequence, Counts n,
                  uint64_t end_offset = 0, uint32_t dedup_shard = 0) {
  v1::Commit c;
  c.set_stage(stage);
  c.mutable_batch()->set_entity("hcp");
  c.mutable_batch()->set_source(source);
  c.mutable_batch()->set_sequence(sequence);
  c.mutable_range()->set_end_offset(end_offset);
  c.set_dedup_shard(dedup_shard);
  auto* k = c.mutable_counts();
  k->set_in(n.in);
  k->set_out(n.out);
  k->set_rejected(n.rejected);
  k->set_review(n.review);
  k->set_merged(n.merged);
  k->set_inserted(n.inserted);
  return c;
}

// A batch of `n` records through extract and transform (`bad` rejected there).
void Ingest(ProgressBook& book, const std::string& source, uint64_t seq, uint64_t n,
            uint64_t bad = 0, uint64_t end_offset = 0) {
  book.OnCommit("hcp", Commit("extract", source, seq, {.in = n, .out = n}, end_offset));
  book.OnCommit("hcp",
                Commit("transform", source, seq, {.in = n, .out = n - bad, .rejected = bad}));
}

v1::EntityProgress Look(ProgressBook& book, double now_s) {
  v1::RunProgress p;
  book.Fill(now_s, &p);
  EXPECT_EQ(p.entities_size(), 1);
  return p.entities(0);
}

TEST(ProgressBookTest, CountsEachStageOnceAndAReplayReplacesItsCount) {
  ProgressBook book;
  book.AddEntity(0, "hcp");
  EXPECT_EQ(Look(book, 0).phase(), "waiting");
  book.SetPhase("hcp", "ingest");
  Ingest(book, "crm", 0, 100, 3);
  book.OnCommit("hcp", Commit("dedup_ingest", "crm", 0, {.in = 97, .out = 97}));
  // The same batch committed again under a new epoch (its worker died).
  Ingest(book, "crm", 0, 100, 3);
  Ingest(book, "erp", 0, 50);
  auto e = Look(book, 0);
  EXPECT_EQ(e.phase(), "ingest");
  EXPECT_EQ(e.extracted(), 150u);
  EXPECT_EQ(e.transformed(), 150u);
  EXPECT_EQ(e.ingested(), 97u);
  EXPECT_EQ(e.rejected(), 3u);

  book.OnCommit(
      "hcp", Commit("dedup_resolve", "", 0, {.in = 147, .rejected = 1, .review = 2, .merged = 10}));
  book.SetPhase("hcp", "output");
  book.SetOutputBatches("hcp", 2);
  book.OnCommit("hcp", Commit("dedup", "dedup/0", 0, {.in = 70, .out = 70}));
  book.OnCommit("hcp", Commit("validate", "dedup/0", 0, {.in = 70, .out = 69, .review = 1}));
  book.OnCommit("hcp", Commit("load", "dedup/0", 0, {.in = 69, .inserted = 69}));
  e = Look(book, 0);
  EXPECT_EQ(e.resolved(), 147u);
  EXPECT_EQ(e.merged(), 10u);
  EXPECT_EQ(e.validated(), 70u);
  EXPECT_EQ(e.loaded(), 69u);
  EXPECT_EQ(e.rejected(), 4u);  // 3 at transform, 1 by the resolve
  EXPECT_EQ(e.review(), 3u);    // 2 by the resolve, 1 at validate
  EXPECT_EQ(e.output_batches(), 2u);
  EXPECT_EQ(e.loaded_batches(), 1u);
}

TEST(ProgressBookTest, OnSeveralDedupShardsABatchIsIngestedOnceEveryShardTookItIn) {
  ProgressBook book(2);
  book.AddEntity(0, "hcp");
  Ingest(book, "crm", 0, 100, 10);
  book.OnCommit("hcp", Commit("dedup_ingest", "crm", 0, {.in = 60}, 0, 0));
  EXPECT_EQ(Look(book, 0).ingested(), 0u);
  book.OnCommit("hcp", Commit("dedup_ingest", "crm", 0, {.in = 70}, 0, 1));
  // The transform's output, not the sum of the shares (a record with two
  // blocking keys goes to two shards).
  EXPECT_EQ(Look(book, 0).ingested(), 90u);
}

TEST(ProgressBookTest, TheTotalIsEstimatedFromBytesReadThenExactOnceExtracted) {
  ProgressBook book;
  book.AddEntity(0, "hcp");
  Ingest(book, "crm", 0, 100, 0, 1000);
  EXPECT_EQ(Look(book, 0).expected(), 0u);  // the source's size is unknown
  book.SetSourceBytes("hcp", "crm", 4000);
  EXPECT_EQ(Look(book, 0).expected(), 400u);  // a quarter read: 100 rows
  Ingest(book, "crm", 1, 80, 0, 1800);
  book.SourceDone("hcp", "crm");
  EXPECT_EQ(Look(book, 0).expected(), 180u);
}

TEST(ProgressBookTest, RateAndEtaOverTheLastSeconds) {
  ProgressBook book;
  book.AddEntity(0, "hcp");
  book.SetPhase("hcp", "ingest");
  book.SetSourceBytes("hcp", "crm", 4000);
  Ingest(book, "crm", 0, 100, 0, 1000);
  book.OnCommit("hcp", Commit("dedup_ingest", "crm", 0, {.in = 100}));
  auto e = Look(book, 100.0);
  EXPECT_EQ(e.records_per_second(), 0);  // one look: no rate yet
  EXPECT_EQ(e.eta_seconds(), -1);
  Ingest(book, "crm", 1, 100, 0, 2000);
  book.OnCommit("hcp", Commit("dedup_ingest", "crm", 1, {.in = 100}));
  e = Look(book, 102.0);
  EXPECT_DOUBLE_EQ(e.records_per_second(), 50.0);
  // 400 records expected, each worked on twice (ingest, then settled):
  // 800 units, 200 done, at 50 a second.
  EXPECT_EQ(e.expected(), 400u);
  EXPECT_EQ(e.eta_seconds(), 12);
  // Older samples leave the window: the rate is the recent one.
  e = Look(book, 102.0 + ProgressBook::kRateWindow + 5);
  EXPECT_DOUBLE_EQ(e.records_per_second(), 0.0);
}

TEST(ProgressBookTest, AnEntityFinishedBeforeShowsItsLedgerTotals) {
  ProgressBook book;
  book.AddEntity(0, "hcp");
  book.AddEntity(1, "interaction");
  book.SetFinished("hcp", 250, 200, 30, 15, 5);
  v1::RunProgress p;
  book.Fill(0, &p);
  ASSERT_EQ(p.entities_size(), 2);
  const auto& e = p.entities(0);
  EXPECT_EQ(e.entity(), "hcp");
  EXPECT_EQ(e.phase(), "finished");
  EXPECT_EQ(e.extracted(), 250u);
  EXPECT_EQ(e.expected(), 250u);
  EXPECT_EQ(e.loaded(), 200u);
  EXPECT_EQ(e.merged(), 30u);
  EXPECT_EQ(e.rejected(), 15u);
  EXPECT_EQ(e.review(), 5u);
  EXPECT_EQ(p.entities(1).entity(), "interaction");
  EXPECT_EQ(p.entities(1).wave(), 1u);
  EXPECT_EQ(p.entities(1).phase(), "waiting");
}

}  // namespace
}  // namespace sluice::coordination
