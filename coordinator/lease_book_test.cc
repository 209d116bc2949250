#include "coordinator/lease_book.h"

#include <gtest/gtest.h>

#include "common/core/record.h"

namespace sluice::coordination {
namespace {

v1::BatchId Id(const std::string& source, uint64_t seq, const std::string& entity = "hcp") {
  v1::BatchId id;
  id.set_run_id("r");
  id.set_wave(0);
  id.set_entity(entity);
  id.set_source(source);
  id.set_sequence(seq);
  return id;
}

// A roster whose workers are all registered and replied.
Roster Ready(const std::map<std::string, uint32_t>& replicas = {}) {
  Roster roster(replicas, RosterOptions());
  for (const auto& [id, w] : std::map<std::string, Worker>(roster.workers())) {
    v1::Register reg;
    reg.set_pid(1);
    roster.Admit(id, reg, Roster::Registration::kNew, {});
    roster.MarkReplied(id);
  }
  return roster;
}

TEST(LeaseBookTest, EpochsOnlyGrowAndStartAfterTheRunsLast) {
  LeaseBook book(41);
  EXPECT_EQ(book.NextEpoch(), 42u);
  EXPECT_EQ(book.NextEpoch(), 43u);
  EXPECT_EQ(book.last_epoch(), 43u);
}

TEST(LeaseBookTest, AStreamLeasedAgainOwnsTheBatchesFromWhereItResumes) {
  LeaseBook book;
  const uint64_t first = book.LeaseStream(Id("crm", 0), v1::BatchRange());
  EXPECT_EQ(book.ExpectedEpoch(Stage::kExtract, Id("crm", 7)), first);
  // The extractor died after three batches: the rest is a new lease.
  v1::BatchRange from;
  from.set_begin_offset(300);
  const uint64_t second = book.LeaseStream(Id("crm", 3), from);
  EXPECT_GT(second, first);
  EXPECT_EQ(book.StreamEpoch(Id("crm", 0)), second) << "only the latest lease ends the stream";
  EXPECT_EQ(book.ExpectedEpoch(Stage::kTransform, Id("crm", 2)), first);
  EXPECT_EQ(book.ExpectedEpoch(Stage::kTransform, Id("crm", 3)), second);
  EXPECT_EQ(book.ExpectedEpoch(Stage::kExtract, Id("erp", 0)), 0u) << "never leased";
  ASSERT_EQ(book.pending(), 2u);
  auto sent = book.Assign(Ready());
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].first, "extractor-0");
  const v1::Lease& lease = sent[1].second;
  EXPECT_EQ(lease.kind(), v1::Lease::KIND_EXTRACT_SOURCE);
  EXPECT_EQ(lease.batch().sequence(), 0u);
  EXPECT_EQ(lease.next_sequence(), 3u);
  EXPECT_EQ(lease.range().begin_offset(), 300u);
  EXPECT_EQ(lease.epoch(), second);
}

TEST(LeaseBookTest, AReissuedBatchMakesItsOldEpochStale) {
  LeaseBook book;
  const uint64_t stream = book.LeaseStream(Id("crm", 0), v1::BatchRange());
  v1::Lease again = book.Reissue(Id("crm", 1), v1::Lease::KIND_EXTRACT_BATCH);
  EXPECT_EQ(again.kind(), v1::Lease::KIND_EXTRACT_BATCH);
  EXPECT_GT(again.epoch(), stream);
  EXPECT_EQ(book.ExpectedEpoch(Stage::kLoad, Id("crm", 1)), again.epoch());
  EXPECT_NE(book.ExpectedEpoch(Stage::kLoad, Id("crm", 1)), stream) << "the old epoch is stale";
  EXPECT_EQ(book.ExpectedEpoch(Stage::kLoad, Id("crm", 0)), stream) << "its neighbour is not";
}

TEST(LeaseBookTest, OutputBatchesAndRoundsAnswerTheCurrentResolve) {
  LeaseBook book;
  const uint64_t first = book.OpenResolve(Id("", 0));
  EXPECT_EQ(book.ExpectedEpoch(Stage::kDedupOutput, Id("dedup/0", 4)), first);
  EXPECT_EQ(book.ExpectedEpoch(Stage::kDedupBlocks, Id("dedup/1/blocks", 0)), first);
  const uint64_t second = book.OpenResolve(Id("", 0));
  EXPECT_EQ(book.ResolveEpoch(Id("dedup/0", 0)), second);
  EXPECT_EQ(book.ExpectedEpoch(Stage::kDedupResolve, Id("dedup/0/resolve", 0)), second);
  EXPECT_EQ(book.ResolveEpoch(Id("", 0, "account")), 0u) << "another entity";
  book.ForgetEntity(Id("", 0));
  EXPECT_EQ(book.ResolveEpoch(Id("", 0)), 0u);
}

TEST(LeaseBookTest, LeasesWaitForAReadyWorkerAndGoRoundTheReplicas) {
  LeaseBook book;
  Roster nobody({}, RosterOptions());
  v1::Lease a, b, c;
  a.set_epoch(book.NextEpoch());
  b.set_epoch(book.NextEpoch());
  c.set_epoch(book.NextEpoch());
  book.Queue("loader", a);
  book.Queue("deduper-0", b);
  book.Queue("loader", c);
  EXPECT_TRUE(book.Assign(nobody).empty());
  EXPECT_EQ(book.pending(), 3u);
  auto sent = book.Assign(Ready({{"loader", 2}}));
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].first, "loader-0");
  EXPECT_EQ(sent[1].first, "deduper-0");
  EXPECT_EQ(sent[2].first, "loader-0") << "the rotation is shared: index 2 of 2 loaders";
  EXPECT_EQ(book.pending(), 0u);
  EXPECT_TRUE(book.Holds("loader-0", a.epoch()));
  EXPECT_FALSE(book.Holds("loader-1", a.epoch()));
  EXPECT_TRUE(book.Holds("deduper-0", b.epoch()));
}

TEST(LeaseBookTest, OnlyTheHolderOfALeaseOfTheStagesRoleMayCommit) {
  LeaseBook book;
  Roster roster = Ready({{"extractor", 2}, {"deduper", 2}});
  const uint64_t stream = book.LeaseStream(Id("crm", 0), v1::BatchRange());
  v1::Lease round;
  round.set_epoch(book.OpenResolve(Id("", 0)));
  book.Queue("deduper-1", round);
  auto sent = book.Assign(roster);
  ASSERT_EQ(sent[0].first, "extractor-0");
  const Worker* e0 = roster.Find("extractor-0");
  const Worker* e1 = roster.Find("extractor-1");
  const Worker* d1 = roster.Find("deduper-1");
  EXPECT_TRUE(book.Admit(e0, Stage::kExtract, stream, 0).ok());
  // Not the holder of the extraction lease.
  Status st = book.Admit(e1, Stage::kExtract, stream, 0);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("holds no lease"), std::string::npos) << st.message();
  // Not a worker of the run; not of the stage's role.
  EXPECT_FALSE(book.Admit(nullptr, Stage::kExtract, stream, 0).ok());
  EXPECT_FALSE(book.Admit(d1, Stage::kExtract, stream, 0).ok());
  // A dedup shard commits as itself, only.
  EXPECT_TRUE(book.Admit(d1, Stage::kDedupBlocks, round.epoch(), 1).ok());
  EXPECT_FALSE(book.Admit(d1, Stage::kDedupBlocks, round.epoch(), 0).ok());
  EXPECT_FALSE(book.Admit(roster.Find("deduper-0"), Stage::kDedupBlocks, round.epoch(), 0).ok())
      << "deduper-0 was given no lease of that epoch";
  // Stages fed by the data plane need no lease, only the role.
  EXPECT_TRUE(book.Admit(roster.Find("transformer-0"), Stage::kTransform, stream, 0).ok());
  EXPECT_TRUE(book.Admit(roster.Find("deduper-0"), Stage::kDedupIngest, stream, 0).ok());
}

}  // namespace
}  // namespace sluice::coordination
