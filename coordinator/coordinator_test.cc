// The coordinator driven in-process: a manual clock and an in-memory control
// channel stand for time and the workers, so registration, heartbeat
// write-off, re-leasing and epoch refusal are tested without processes,
// sockets or sleeping. The audit store is a real one in a scratch folder.
#include "coordinator/coordinator.h"

#include <gtest/gtest.h>

#include "coordinator/coordinator_testing.h"

namespace sluice::coordination {
namespace {

using coordinator_testing::CoordinatorTest;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_F(CoordinatorTest, AWaveGoesThroughEveryStageAndReconciles) {
  Make();
  const RecordBatch out = Resolve();
  Commit("deduper-0", MakeCommit("dedup", out, out.records, {}));
  Commit("validator-0", MakeCommit("validate", out, out.records, {}));
  Commit("loader-0", MakeCommit("load", out, {}, {Loaded("a"), Loaded("b")}));
  Step();  // loaded and balanced: the reconciliation is leased
  Step();
  const v1::Lease reconcile = OnlyLease("reconciler-0");
  EXPECT_EQ(reconcile.kind(), v1::Lease::KIND_RECONCILE);
  EXPECT_FALSE(coordinator_->done());
  Send("reconciler-0", Reconciled(reconcile));
  Step();
  ASSERT_TRUE(coordinator_->done());
  coordinator_->Finish();
  const RunSummary& s = coordinator_->summary();
  EXPECT_EQ(s.status, "completed") << s.halt_reason;
  ASSERT_EQ(s.rows.size(), 1u);
  EXPECT_EQ(s.rows[0].extracted, 2u);
  EXPECT_EQ(s.rows[0].loaded, 2u);
  EXPECT_EQ(s.rows[0].inserted, 2u);
  EXPECT_TRUE(s.rows[0].reconciled);
}

TEST_F(CoordinatorTest, ARecordLostBetweenStagesHaltsTheRunAndNamesIt) {
  Make();
  const RecordBatch out = Resolve();
  Commit("deduper-0", MakeCommit("dedup", out, out.records, {}));
  Commit("validator-0", MakeCommit("validate", out, out.records, {}));
  RecordBatch short_of_b = out;
  short_of_b.records.pop_back();
  Commit("loader-0", MakeCommit("load", short_of_b, {}, {Loaded("a")}));
  Step();
  ASSERT_TRUE(coordinator_->done());
  EXPECT_NE(coordinator_->summary().halt_reason.find("crm:b"), std::string::npos)
      << coordinator_->summary().halt_reason;
  size_t halts = 0;
  for (const auto& [to, env] : channel_->TakeSent()) halts += env.has_halt();
  EXPECT_EQ(halts, coordinator_->roster().workers().size()) << "every worker is told";
  coordinator_->Finish();
  EXPECT_EQ(coordinator_->summary().status, "halted");
}

TEST_F(CoordinatorTest, HeartbeatsKeepAWorkerAliveAndAreEchoed) {
  Make();
  StartRun();
  for (int i = 0; i < 30; ++i) {
    clock_.Advance(seconds(1));
    for (const auto& [id, w] : coordinator_->roster().workers()) Heartbeat(id);
    Step();
  }
  EXPECT_TRUE(coordinator_->roster().AllRegistered());
  size_t echoes = 0;
  for (const auto& [to, env] : channel_->TakeSent()) {
    if (env.has_heartbeat()) {
      ++echoes;
      EXPECT_EQ(to.find("/hb"), std::string::npos) << "echoed to the worker, not its hb socket";
    }
  }
  EXPECT_EQ(echoes, 30 * coordinator_->roster().workers().size());
}

TEST_F(CoordinatorTest, ASilentWorkerIsWrittenOffAndItsWorkLeasedAgainUnderNewEpochs) {
  RunOptions options;
  options.worker_timeout = milliseconds(5000);
  Make(options);
  const v1::Lease first = StartRun();
  Commit("extractor-0", Extract(0, first.epoch()));
  Step();
  ASSERT_TRUE(Has(Raw(0), Stage::kExtract));
  // Everyone but the extractor heartbeats, every second.
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(seconds(1));
    for (const auto& [id, w] : coordinator_->roster().workers()) {
      if (id != "extractor-0") Heartbeat(id);
    }
    Step();
    ASSERT_TRUE(coordinator_->roster().Find("extractor-0")->alive) << "after " << i + 1 << "s";
  }
  clock_.Advance(milliseconds(500));
  for (const auto& [id, w] : coordinator_->roster().workers()) {
    if (id != "extractor-0") Heartbeat(id);
  }
  Step();
  const Worker& extractor = *coordinator_->roster().Find("extractor-0");
  ASSERT_FALSE(extractor.alive) << "silent for more than 5 s";
  EXPECT_EQ(extractor.generation, 1);
  EXPECT_TRUE(coordinator_->roster().Find("loader-0")->alive);
  // What it held waits for an extractor: the rest of the stream, and the
  // batch it extracted that never reached the deduper.
  EXPECT_TRUE(Leases().empty());
  EXPECT_EQ(coordinator_->leases().pending(), 2u);
  EXPECT_FALSE(Has(Raw(0), Stage::kExtract)) << "batch 0 is accounted afresh";
  // A new extractor process registers: it gets both, under new epochs.
  Register("extractor-0", 999);
  Step();
  auto leases = Leases();
  ASSERT_EQ(leases.size(), 2u);
  const v1::Lease& stream = leases[0].second;
  const v1::Lease& again = leases[1].second;
  EXPECT_EQ(stream.kind(), v1::Lease::KIND_EXTRACT_SOURCE);
  EXPECT_EQ(stream.next_sequence(), 1u) << "resumes after the batch committed";
  EXPECT_EQ(stream.range().begin_offset(), 100u);
  EXPECT_EQ(again.kind(), v1::Lease::KIND_EXTRACT_BATCH);
  EXPECT_EQ(again.batch().sequence(), 0u);
  EXPECT_GT(stream.epoch(), first.epoch());
  EXPECT_GT(again.epoch(), first.epoch());
  EXPECT_EQ(coordinator_->summary().restarts, 1);
  // The old epoch is refused for every batch; the new ones are accepted.
  Commit("extractor-0", Extract(0, first.epoch()));
  Commit("extractor-0", Extract(1, first.epoch()));
  Step();
  EXPECT_FALSE(Has(Raw(0), Stage::kExtract)) << "a commit at a stale epoch was accepted";
  EXPECT_FALSE(Has(Raw(1), Stage::kExtract)) << "a commit at a stale epoch was accepted";
  Commit("extractor-0", Extract(0, again.epoch()));
  Commit("extractor-0", Extract(1, stream.epoch()));
  Step();
  EXPECT_TRUE(Has(Raw(0), Stage::kExtract));
  EXPECT_TRUE(Has(Raw(1), Stage::kExtract));
}

TEST_F(CoordinatorTest, ADeadLoadersBatchIsResentUnderANewEpochAndItsLateLoadRefused) {
  Make();
  const RecordBatch out = Resolve();
  Commit("deduper-0", MakeCommit("dedup", out, out.records, {}));
  Commit("validator-0", MakeCommit("validate", out, out.records, {}));
  Step();
  ASSERT_TRUE(Has(out.id, Stage::kValidate));
  Leases();
  // The loader falls silent while everyone else heartbeats.
  for (int i = 0; i < 6; ++i) {
    clock_.Advance(seconds(1));
    for (const auto& [id, w] : coordinator_->roster().workers()) {
      if (id != "loader-0") Heartbeat(id);
    }
    Step();
  }
  ASSERT_FALSE(coordinator_->roster().Find("loader-0")->alive);
  // The deduper emits the batch again under a new epoch; what the old
  // epoch recorded downstream of it is forgotten.
  const v1::Lease resend = OnlyLease("deduper-0");
  EXPECT_EQ(resend.kind(), v1::Lease::KIND_RESEND);
  EXPECT_EQ(BatchName(resend.batch()), BatchName(out.id));
  EXPECT_GT(resend.epoch(), out.epoch);
  EXPECT_FALSE(Has(out.id, Stage::kValidate));
  // A new loader registers; the old one's load arrives late: refused.
  Register("loader-0", 555);
  Commit("loader-0", MakeCommit("load", out, {}, {Loaded("a"), Loaded("b")}));
  Step();
  EXPECT_FALSE(Has(out.id, Stage::kLoad)) << "a load at the stale epoch was accepted";
  // The batch goes through again at the new epoch and the wave reconciles.
  RecordBatch again = out;
  again.epoch = resend.epoch();
  Commit("deduper-0", MakeCommit("dedup", again, again.records, {}));
  Commit("validator-0", MakeCommit("validate", again, again.records, {}));
  Commit("loader-0", MakeCommit("load", again, {}, {Loaded("a"), Loaded("b")}));
  Step();
  EXPECT_TRUE(Has(out.id, Stage::kLoad));
  Step();
  EXPECT_EQ(OnlyLease("reconciler-0").kind(), v1::Lease::KIND_RECONCILE);
  EXPECT_EQ(coordinator_->summary().restarts, 1);
}

TEST_F(CoordinatorTest, ALeaseToAWorkerWhoseSocketIsGoneWritesItOffInsteadOfHalting) {
  Make();
  const v1::Lease stream = DeliverIngest();
  // The deduper is killed after its commit, before the resolve lease goes out.
  channel_->Disconnect("deduper-0");
  Step();
  Step();
  EXPECT_NE(coordinator_->summary().status, "halted") << coordinator_->summary().halt_reason;
  EXPECT_FALSE(coordinator_->roster().Find("deduper-0")->alive);
  EXPECT_TRUE(Leases().empty());
  // Its replacement registers and is leased the resolve, under a new epoch.
  channel_->Reconnect("deduper-0");
  Register("deduper-0", 777);
  Step();
  const v1::Lease resolve = OnlyLease("deduper-0");
  EXPECT_EQ(resolve.kind(), v1::Lease::KIND_RESOLVE);
  EXPECT_GT(resolve.epoch(), stream.epoch());
}

TEST_F(CoordinatorTest, OnlyTheHolderOfALeaseMayCommitWhatAnswersIt) {
  RunOptions options;
  options.replicas = {{"extractor", 2}};
  Make(options);
  const v1::Lease stream = StartRun();  // to extractor-0
  Commit("extractor-1", Extract(0, stream.epoch()));
  Commit("transformer-0", Extract(0, stream.epoch()));
  Commit("stranger-0", Extract(0, stream.epoch()));
  Step();
  EXPECT_FALSE(Has(Raw(0), Stage::kExtract)) << "accepted from a worker without the lease";
  Commit("extractor-0", Extract(0, stream.epoch()));
  Step();
  EXPECT_TRUE(Has(Raw(0), Stage::kExtract));
  // A stage fed by the data plane takes any live worker of its role.
  RecordBatch b = Batch(Raw(0), {"k0"}, stream.epoch());
  Commit("loader-0", MakeCommit("transform", b, b.records, {}));
  Step();
  EXPECT_FALSE(Has(Raw(0), Stage::kTransform)) << "a loader cannot commit a transform";
  Commit("transformer-0", MakeCommit("transform", b, b.records, {}));
  Step();
  EXPECT_TRUE(Has(Raw(0), Stage::kTransform));
}

TEST_F(CoordinatorTest, WorkersThatNeverRegisterEndTheRunAfterTheRegisterTimeout) {
  RunOptions options;
  options.register_timeout = seconds(60);
  Make(options);
  for (const auto& [id, w] : coordinator_->roster().workers()) {
    if (id != "loader-0") Register(id, 7);
  }
  Step();
  clock_.Advance(seconds(59));
  Step();
  clock_.Advance(seconds(2));
  Status st = coordinator_->Step();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("loader-0"), std::string::npos) << st.message();
}

TEST_F(CoordinatorTest, NoProgressForTheStallTimeoutHaltsTheRun) {
  RunOptions options;
  options.stall_timeout = seconds(120);
  options.worker_timeout = milliseconds(1000000);
  Make(options);
  StartRun();
  clock_.Advance(seconds(119));
  Step();
  EXPECT_FALSE(coordinator_->done());
  clock_.Advance(seconds(2));
  Step();
  ASSERT_TRUE(coordinator_->done());
  EXPECT_NE(coordinator_->summary().halt_reason.find("ingesting hcp (crm extracting)"),
            std::string::npos)
      << coordinator_->summary().halt_reason;
}

// A worker at work on a long step (its heartbeats' CPU time grows) is
// progress: the run halts only once nothing moves and nobody works
// (stall_watch.h).
TEST_F(CoordinatorTest, AWorkerAtWorkHoldsOffTheStallTimeout) {
  RunOptions options;
  options.stall_timeout = seconds(120);
  options.worker_timeout = milliseconds(1000000);
  Make(options);
  StartRun();
  uint64_t cpu_ms = 1000;
  for (int s = 0; s < 200; ++s) {  // 200 s of one heartbeat a second, 300 ms of CPU each
    clock_.Advance(seconds(1));
    Heartbeat("extractor-0", cpu_ms += 300);
    Step();
    ASSERT_FALSE(coordinator_->done())
        << "halted after " << s + 1 << " s: " << coordinator_->summary().halt_reason;
  }
  // Idle from now on: a few ms of polling per heartbeat is not work.
  for (int s = 0; s < 119; ++s) {
    clock_.Advance(seconds(1));
    Heartbeat("extractor-0", cpu_ms += 2);
    Step();
  }
  EXPECT_FALSE(coordinator_->done());
  clock_.Advance(seconds(2));
  Heartbeat("extractor-0", cpu_ms += 2);
  Step();
  ASSERT_TRUE(coordinator_->done());
  EXPECT_NE(coordinator_->summary().halt_reason.find("no progress for 120s"), std::string::npos)
      << coordinator_->summary().halt_reason;
}

}  // namespace
}  // namespace sluice::coordination
