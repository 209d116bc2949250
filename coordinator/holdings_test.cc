#include "coordinator/holdings.h"

#include <gtest/gtest.h>

namespace sluice::coordination {
namespace {

v1::Lease Lease(v1::Lease::Kind kind, uint64_t epoch, const std::string& source = "crm") {
  v1::Lease lease;
  lease.set_kind(kind);
  lease.set_epoch(epoch);
  lease.mutable_batch()->set_run_id("r");
  lease.mutable_batch()->set_entity("hcp");
  lease.mutable_batch()->set_source(source);
  return lease;
}

v1::Envelope Commit(const std::string& stage, uint64_t epoch) {
  v1::Envelope env;
  env.mutable_commit()->set_stage(stage);
  env.mutable_commit()->set_epoch(epoch);
  return env;
}

TEST(HoldingsTest, AnExtractionIsHeldUntilItsStreamEnds) {
  Holdings h;
  h.Leased("extractor-0", Lease(v1::Lease::KIND_EXTRACT_SOURCE, 7));
  EXPECT_EQ(h.Of("extractor-0"), "extracting hcp/crm");
  h.Heard("extractor-0", Commit("extract", 7));  // one batch of the stream
  EXPECT_EQ(h.Of("extractor-0"), "extracting hcp/crm");
  v1::Envelope done;
  done.mutable_stream_done()->set_stage("extract");
  done.mutable_stream_done()->set_epoch(6);  // an older lease's end
  h.Heard("extractor-0", done);
  EXPECT_EQ(h.Of("extractor-0"), "extracting hcp/crm");
  done.mutable_stream_done()->set_epoch(7);
  h.Heard("extractor-0", done);
  EXPECT_EQ(h.Of("extractor-0"), "");
}

TEST(HoldingsTest, AResolveIsHeldUntilItsCommitNotAfter) {
  Holdings h;
  h.Leased("deduper-0", Lease(v1::Lease::KIND_RESOLVE, 9));
  EXPECT_EQ(h.Of("deduper-0"), "resolving hcp");
  h.Heard("deduper-0", Commit("dedup_ingest", 9));   // streamed, answers nothing
  h.Heard("deduper-0", Commit("dedup_resolve", 8));  // a stale resolve's
  EXPECT_EQ(h.Of("deduper-0"), "resolving hcp");
  h.Heard("deduper-1", Commit("dedup_resolve", 9));  // not its holder
  EXPECT_EQ(h.Of("deduper-0"), "resolving hcp");
  h.Heard("deduper-0", Commit("dedup_resolve", 9));
  EXPECT_EQ(h.Of("deduper-0"), "");
  // Its output batches follow: nothing held is shown for them.
  h.Heard("deduper-0", Commit("dedup", 9));
  EXPECT_EQ(h.Of("deduper-0"), "");
}

TEST(HoldingsTest, EachRoundOfAShardedResolveIsHeldUntilItsCommit) {
  Holdings h;
  v1::Lease round = Lease(v1::Lease::KIND_RESOLVE, 9);
  round.set_dedup_round(2);
  h.Leased("deduper-1", round);
  EXPECT_EQ(h.Of("deduper-1"), "resolving hcp (round 2)");
  h.Heard("deduper-1", Commit("dedup_patterns", 9));
  EXPECT_EQ(h.Of("deduper-1"), "");
}

TEST(HoldingsTest, ResendReExtractionAndReconciliationEndWithTheirAnswer) {
  Holdings h;
  h.Leased("deduper-0", Lease(v1::Lease::KIND_RESEND, 11));
  h.Leased("extractor-0", Lease(v1::Lease::KIND_EXTRACT_BATCH, 12));
  h.Leased("reconciler-0", Lease(v1::Lease::KIND_RECONCILE, 13));
  EXPECT_EQ(h.Of("deduper-0").rfind("resending ", 0), 0u) << h.Of("deduper-0");
  EXPECT_EQ(h.Of("extractor-0").rfind("re-extracting ", 0), 0u) << h.Of("extractor-0");
  EXPECT_EQ(h.Of("reconciler-0"), "reconciling wave 0");
  h.Heard("deduper-0", Commit("dedup", 11));
  h.Heard("extractor-0", Commit("extract", 12));
  v1::Envelope result;
  result.mutable_reconcile_result()->set_epoch(13);
  h.Heard("reconciler-0", result);
  EXPECT_EQ(h.Of("deduper-0"), "");
  EXPECT_EQ(h.Of("extractor-0"), "");
  EXPECT_EQ(h.Of("reconciler-0"), "");
}

TEST(HoldingsTest, AWorkerThatRegistersAgainHoldsNothing) {
  Holdings h;
  h.Leased("extractor-0", Lease(v1::Lease::KIND_EXTRACT_SOURCE, 7));
  h.Forget("extractor-0");
  EXPECT_EQ(h.Of("extractor-0"), "");
  EXPECT_EQ(h.Of("never-seen-0"), "");
}

}  // namespace
}  // namespace sluice::coordination
