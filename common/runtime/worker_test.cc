// The worker runtime in-process, with a ManualClock and in-memory control
// channels: registration, heartbeats, coordinator silence, leases and
// halts without sleeping; credit and backpressure with real data sockets.
#include "common/runtime/worker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "common/runtime/codec.h"
#include "common/runtime/transport.h"
#include "common/runtime/worker_testing.h"

namespace sluice::worker_testing {
namespace {

TEST_F(WorkerRuntimeTest, RegistersAndStartsTheStageWithItsContext) {
  auto reply = Reply();
  reply.set_fault("drop_key=K7");
  reply.set_shard(3);
  reply.set_shard_count(4);
  coordinator_.AnswerRegistrations(reply);
  Start();
  ASSERT_TRUE(Settle(2));
  auto reg = coordinator_.Sent(kIdentity, v1::Envelope::kRegister);
  ASSERT_EQ(reg.size(), 1u);
  EXPECT_EQ(reg[0].register_().role(), "reconciler");
  EXPECT_EQ(reg[0].register_().pid(), static_cast<uint32_t>(getpid()));
  EXPECT_TRUE(reg[0].register_().data_endpoint().empty());  // it produces nothing
  ASSERT_TRUE(stage_.started());
  WorkerContext ctx = stage_.context();
  EXPECT_EQ(ctx.run_id, "run-1");
  EXPECT_EQ(ctx.identity, kIdentity);
  EXPECT_EQ(ctx.shard, 3u);
  EXPECT_EQ(ctx.shard_count, 4u);
  EXPECT_EQ(ctx.faults.drop_key, "K7");  // parsed once, here
  EXPECT_FALSE(ctx.faults.sigkill_after);
  // The loop's channel, and the heartbeats' own.
  EXPECT_EQ(coordinator_.opened(), (std::vector<std::string>{kIdentity, kHeartbeatIdentity}));
}

TEST_F(WorkerRuntimeTest, RegistrationIsRepeatedUntilTheCoordinatorAnswers) {
  Start();  // the coordinator is not there yet
  ASSERT_TRUE(Settle(1));
  EXPECT_EQ(coordinator_.Sent(kIdentity, v1::Envelope::kRegister).size(), 1u);
  for (int i = 0; i < 9; ++i) {  // 1.8 s: not yet asked again
    clock_.Advance(milliseconds(200));
    ASSERT_TRUE(Settle(1));
  }
  EXPECT_EQ(coordinator_.Sent(kIdentity, v1::Envelope::kRegister).size(), 1u);
  clock_.Advance(milliseconds(200));  // 2 s
  ASSERT_TRUE(Settle(1));
  EXPECT_EQ(coordinator_.Sent(kIdentity, v1::Envelope::kRegister).size(), 2u);
  EXPECT_FALSE(stage_.started());

  v1::Envelope reply;
  *reply.mutable_register_reply() = Reply();
  coordinator_.Deliver(kIdentity, reply);
  clock_.Advance(milliseconds(200));
  ASSERT_TRUE(Settle(2));  // registered: its loop and its heartbeats run
  EXPECT_TRUE(stage_.started());
}

TEST_F(WorkerRuntimeTest, RegistrationGivesUpAfterTheCoordinatorTimeout) {
  options_.coordinator_timeout = std::chrono::seconds(5);
  Start();
  while (Settle(1)) {
    ASSERT_LT(clock_.Elapsed(), std::chrono::seconds(60)) << "never gave up";
    clock_.Advance(milliseconds(200));
  }
  Status st = Result();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("no answer from coordinator"), std::string::npos) << st.ToString();
  // Not before the timeout, and within one more round of asking (2 s).
  EXPECT_GT(clock_.Elapsed(), std::chrono::seconds(5));
  EXPECT_LE(clock_.Elapsed(), std::chrono::seconds(7));
  EXPECT_EQ(coordinator_.Sent(kIdentity, v1::Envelope::kRegister).size(), 3u);  // at 0, 2, 4 s
  EXPECT_FALSE(stage_.started());
}

TEST_F(WorkerRuntimeTest, AnUnknownTestFaultIsRefused) {
  auto reply = Reply();
  reply.set_fault("sigkill_sometimes=3");
  coordinator_.AnswerRegistrations(reply);
  Start();
  Status st = Result();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_FALSE(stage_.started());
  auto errors = coordinator_.Sent(kIdentity, v1::Envelope::kError);
  ASSERT_EQ(errors.size(), 1u);  // the coordinator hears why
  EXPECT_TRUE(errors[0].error().fatal());
  EXPECT_NE(errors[0].error().message().find("sigkill_sometimes"), std::string::npos);
}

// Issue 23: a worker that cannot start (its target cannot be written, its
// server is unreachable) tells the coordinator why before it exits, so the
// halt reason names the cause and not only "keeps dying (exited with code 1)".
TEST_F(WorkerRuntimeTest, AStageThatCannotStartTellsTheCoordinatorWhy) {
  coordinator_.AnswerRegistrations(Reply());
  stage_.start_status = Status::IoError("target not writable: /ro/t.db: attempt to write");
  Start();
  Status st = Result();
  EXPECT_EQ(st.code(), StatusCode::kIoError) << st.ToString();
  auto errors = coordinator_.Sent(kIdentity, v1::Envelope::kError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].error().fatal());
  EXPECT_EQ(errors[0].error().message(),
            "worker setup failed: target not writable: /ro/t.db: attempt to write");
}

// --- Heartbeats ---

TEST_F(WorkerRuntimeTest, HeartbeatsGoOutAtOnceAndThenEveryInterval) {
  StartRegistered();
  auto beats = coordinator_.Sent(kHeartbeatIdentity, v1::Envelope::kHeartbeat);
  ASSERT_EQ(beats.size(), 1u);
  EXPECT_EQ(beats[0].heartbeat().sequence(), 1u);
  // On their own channel, never the loop's.
  EXPECT_TRUE(coordinator_.Sent(kIdentity, v1::Envelope::kHeartbeat).empty());

  ASSERT_TRUE(Step(milliseconds(499)));
  EXPECT_EQ(Heartbeats(), 1u);
  ASSERT_TRUE(Step(milliseconds(1)));
  EXPECT_EQ(Heartbeats(), 2u);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Step(milliseconds(500)));
  beats = coordinator_.Sent(kHeartbeatIdentity, v1::Envelope::kHeartbeat);
  ASSERT_EQ(beats.size(), 6u);
  for (size_t i = 0; i < beats.size(); ++i) EXPECT_EQ(beats[i].heartbeat().sequence(), i + 1);
}

// The reason heartbeats have a thread of their own: a stage busy for long
// (a resolve, a reconciliation) must not make a live worker look dead.
TEST_F(WorkerRuntimeTest, HeartbeatsGoOnWhileTheStageIsBusy) {
  StartRegistered();
  coordinator_.Deliver(kIdentity, LeaseOf("slow", 1));
  clock_.Advance(milliseconds(50));
  ASSERT_TRUE(stage_.AwaitSlowLease());
  ASSERT_TRUE(Settle(1));  // the loop is in the stage; only heartbeats sleep
  const size_t before = Heartbeats();
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(milliseconds(500));
    ASSERT_TRUE(Settle(1));
  }
  EXPECT_EQ(Heartbeats(), before + 4);
  stage_.ReleaseSlowLease();
  ASSERT_TRUE(Settle(2));
  EXPECT_EQ(coordinator_.Sent(kIdentity, v1::Envelope::kCommit).size(), 1u);
}

// --- Coordinator silence ---

TEST_F(WorkerRuntimeTest, GivesUpWhenTheCoordinatorFallsSilent) {
  StartRegistered();
  ASSERT_TRUE(Step(milliseconds(19950)));  // 19.95 s of silence: still waiting
  // Anything from the coordinator (here a heartbeat echo) restarts the count.
  coordinator_.Deliver(kIdentity, HeartbeatEcho());
  ASSERT_TRUE(Step(milliseconds(50)));
  ASSERT_TRUE(Step(milliseconds(19950)));
  EXPECT_FALSE(Finished());
  clock_.Advance(milliseconds(100));  // 20.05 s since the echo
  Status st = Result();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("coordinator silent for 20s"), std::string::npos) << st.ToString();
}

TEST_F(WorkerRuntimeTest, ShutdownEndsTheWorkerCleanly) {
  StartRegistered();
  coordinator_.Deliver(kIdentity, Shutdown());
  clock_.Advance(milliseconds(50));
  Status st = Result();
  EXPECT_TRUE(st.ok()) << st.ToString();
  // The heartbeat thread stopped with it, asleep or not.
  EXPECT_TRUE(clock_.AwaitSleepers(0));
}

// --- Leases and halts ---

TEST_F(WorkerRuntimeTest, ALeaseReachesTheStageAndItsCommitTheCoordinator) {
  StartRegistered();
  coordinator_.Deliver(kIdentity, LeaseOf("hcp", 3));
  ASSERT_TRUE(Step(milliseconds(50)));
  EXPECT_EQ(stage_.leases(), std::vector<std::string>{"hcp"});
  auto commits = coordinator_.Sent(kIdentity, v1::Envelope::kCommit);
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(commits[0].commit().batch().entity(), "hcp");
  EXPECT_EQ(commits[0].commit().epoch(), 3u);
  EXPECT_TRUE(coordinator_.Sent(kIdentity, v1::Envelope::kError).empty());
}

TEST_F(WorkerRuntimeTest, AFailedLeaseIsReportedAsFatal) {
  StartRegistered();
  coordinator_.Deliver(kIdentity, LeaseOf("bad", 2));
  ASSERT_TRUE(Step(milliseconds(50)));
  auto errors = coordinator_.Sent(kIdentity, v1::Envelope::kError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].error().fatal());
  EXPECT_EQ(errors[0].error().stage(), "reconcile");
  EXPECT_EQ(errors[0].error().batch().entity(), "bad");
  EXPECT_EQ(errors[0].error().message(), "bad lease");
  EXPECT_TRUE(coordinator_.Sent(kIdentity, v1::Envelope::kCommit).empty());
  EXPECT_FALSE(Finished());  // the coordinator decides: it halts the run
}

TEST_F(WorkerRuntimeTest, AHaltWinsOverTheLeasesBehindIt) {
  StartRegistered();
  v1::Envelope halt;
  halt.mutable_halt()->set_reason("one record off");
  coordinator_.Deliver(kIdentity, halt);
  coordinator_.Deliver(kIdentity, LeaseOf("hcp", 1));
  ASSERT_TRUE(Step(milliseconds(50)));
  EXPECT_EQ(stage_.halts(), std::vector<std::string>{"one record off"});
  coordinator_.Deliver(kIdentity, LeaseOf("account", 2));
  ASSERT_TRUE(Step(milliseconds(50)));
  EXPECT_TRUE(stage_.leases().empty());
  EXPECT_TRUE(coordinator_.Sent(kIdentity, v1::Envelope::kCommit).empty());
  EXPECT_FALSE(Finished());  // halted, not gone: it waits for shutdown
}

}  // namespace
}  // namespace sluice::worker_testing
