// Issue 22: what the coordinator believes, driven in-process (the fixture of
// coordinator_testing.h): only its registered workers, under their keys, and
// a reconciler's claims only when they add up to what it was sent.
#include <gtest/gtest.h>

#include "coordinator/coordinator.h"
#include "coordinator/coordinator_testing.h"

namespace sluice::coordination {
namespace {

using coordinator_testing::CoordinatorTest;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Issue 22: the coordinator believes only its registered workers. Each
// attack of the issue, through the control channel: an error from a
// stranger, a forged reconciliation result, a second loader-0 while the
// first heartbeats, a message under a registered name with another key.
TEST_F(CoordinatorTest, OnlyTheRegisteredWorkersAreBelieved) {
  Make();
  const RecordBatch out = Resolve();
  Commit("deduper-0", MakeCommit("dedup", out, out.records, {}));
  Commit("validator-0", MakeCommit("validate", out, out.records, {}));
  Step();
  v1::Envelope error;
  error.mutable_error()->set_stage("load");
  error.mutable_error()->set_message("disk on fire");
  error.mutable_error()->set_fatal(true);
  Send("evil-0", error);
  Send("loader-0/hb", error);
  Step();
  EXPECT_FALSE(coordinator_->done()) << coordinator_->summary().halt_reason;
  // A squatter registers as loader-0 while loader-0 is alive: refused.
  const uint32_t pid = coordinator_->roster().Find("loader-0")->pid;
  Register("loader-0", 4242);
  Step();
  EXPECT_EQ(coordinator_->roster().Find("loader-0")->pid, pid);
  EXPECT_EQ(coordinator_->summary().restarts, 0);
  Commit("loader-0", MakeCommit("load", out, {}, {Loaded("a"), Loaded("b")}));
  Step();  // loaded and balanced: the reconciliation is leased
  Step();
  const v1::Lease reconcile = OnlyLease("reconciler-0");
  auto result = [&](uint64_t epoch) {
    v1::Envelope env;
    env.mutable_reconcile_result()->set_wave(0);
    env.mutable_reconcile_result()->set_epoch(epoch);
    env.mutable_reconcile_result()->set_passed(true);
    return env;
  };
  Send("reconciler-0", result(0));                      // no lease named
  Send("reconciler-0", result(reconcile.epoch() - 1));  // not its lease
  Send("reconciler-0/hb", result(reconcile.epoch()));   // not its control socket
  Send("loader-0", result(reconcile.epoch()));          // not the reconciler
  Send("stranger-0", result(reconcile.epoch()));
  Step();
  EXPECT_FALSE(coordinator_->done()) << "a forged reconciliation result decided the wave";
  Send("reconciler-0", Reconciled(reconcile));
  Step();
  ASSERT_TRUE(coordinator_->done());
  coordinator_->Finish();
  EXPECT_EQ(coordinator_->summary().status, "completed");
}

TEST_F(CoordinatorTest, AMessageUnderARegisteredNameWithAnotherKeyIsRefused) {
  Make();
  for (const auto& [id, w] : coordinator_->roster().workers()) {
    v1::Envelope env;
    env.mutable_register_()->set_role(w.role);
    env.mutable_register_()->set_ordinal(w.ordinal);
    env.mutable_register_()->set_pid(100 + w.ordinal);
    channel_->Deliver(id, env, "key-of-" + id);
  }
  Step();
  Step();
  const v1::Lease stream = OnlyLease("extractor-0");
  // Another key under the extractor's name, and then the worker's own.
  channel_->Deliver(
      "extractor-0",
      [&] {
        v1::Envelope env;
        *env.mutable_commit() = Extract(0, stream.epoch());
        return env;
      }(),
      "key-of-loader-0");
  Step();
  EXPECT_FALSE(Has(Raw(0), Stage::kExtract)) << "believed a commit signed with another key";
  v1::Envelope again;
  again.mutable_register_()->set_role("extractor");
  again.mutable_register_()->set_pid(100);  // its pid, another key: no second reply
  channel_->Deliver("extractor-0", again, "key-of-loader-0");
  Step();
  for (const auto& [to, env] : channel_->TakeSent()) EXPECT_FALSE(env.has_register_reply()) << to;
  v1::Envelope commit;
  *commit.mutable_commit() = Extract(0, stream.epoch());
  channel_->Deliver("extractor-0", commit, "key-of-extractor-0");
  Step();
  EXPECT_TRUE(Has(Raw(0), Stage::kExtract));
}

// Issue 22, route takeover (worker_routes.h): workers register from routing
// ids with a nonce of their process. A process under the extractor's name
// from another routing id, even with the extractor's key, is refused at
// registration and not believed, and every message to the extractor goes to
// the route it registered from; after it is written off, its replacement's
// route takes over.
TEST_F(CoordinatorTest, MessagesGoToTheRouteAWorkerRegisteredFrom) {
  Make();
  uint32_t pid = 100;
  auto register_from = [&](const std::string& route, const Worker& w, uint32_t as_pid) {
    v1::Envelope env;
    env.mutable_register_()->set_role(w.role);
    env.mutable_register_()->set_ordinal(w.ordinal);
    env.mutable_register_()->set_pid(as_pid);
    channel_->Deliver(route, env, "key-of-" + w.identity);
  };
  for (const auto& [id, w] : coordinator_->roster().workers()) register_from(id + "@1", w, pid++);
  Step();
  Step();
  const v1::Lease stream = OnlyLease("extractor-0@1");
  const Worker& extractor = *coordinator_->roster().Find("extractor-0");
  // The same name, key and pid from another routing id: not the worker.
  register_from("extractor-0@2", extractor, extractor.pid);
  v1::Envelope beat;
  beat.mutable_heartbeat()->set_sequence(1);
  channel_->Deliver("extractor-0/hb@2", beat, "key-of-extractor-0");
  v1::Envelope commit;
  *commit.mutable_commit() = Extract(0, stream.epoch());
  channel_->Deliver("extractor-0@2", commit, "key-of-extractor-0");
  Step();
  for (const auto& [to, env] : channel_->TakeSent()) {
    EXPECT_EQ(to.find("@2"), std::string::npos) << "sent to the impostor's route";
  }
  EXPECT_FALSE(Has(Raw(0), Stage::kExtract)) << "believed a commit from another route";
  // Its own heartbeat is echoed to its own route.
  channel_->Deliver("extractor-0/hb@1", beat, "key-of-extractor-0");
  Step();
  auto sent = channel_->TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, "extractor-0@1");
  // Written off (silent), replaced from route 3: messages go there, and
  // the former process's late commit at its epoch still counts.
  clock_.Advance(seconds(6));
  for (const auto& [id, w] : coordinator_->roster().workers()) {
    if (id != "extractor-0") channel_->Deliver(id + "/hb@1", beat, "key-of-" + id);
  }
  Step();
  ASSERT_FALSE(coordinator_->roster().Find("extractor-0")->alive);
  register_from("extractor-0@3", extractor, 999);
  Step();
  bool replied = false;
  for (const auto& [to, env] : channel_->TakeSent()) {
    if (env.has_register_reply()) replied = to == "extractor-0@3";
  }
  EXPECT_TRUE(replied) << "the replacement's reply went elsewhere";
}

// Issue 22: the reconciler's claims are checked against what the coordinator
// sent it. A pass whose numbers do not add up (a row it was sent that it
// says it did not match, or fates it was never sent) halts the run.
TEST_F(CoordinatorTest, AReconcilerPassThatDoesNotAddUpHaltsTheRun) {
  for (int lie = 0; lie < 3; ++lie) {
    Make();
    const v1::Lease reconcile = LoadToReconciliation();
    v1::Envelope result = Reconciled(reconcile);
    v1::ReconciledEntity* hcp = result.mutable_reconcile_result()->mutable_entities(0);
    ASSERT_EQ(hcp->expected_rows(), 2u);
    ASSERT_EQ(hcp->fates(), 2u);
    if (lie == 0) hcp->set_matched_rows(0);  // the target holds none of them
    if (lie == 1) hcp->set_fates(3);         // a fate it was not sent
    if (lie == 2) result.mutable_reconcile_result()->clear_entities();  // no numbers at all
    Send("reconciler-0", result);
    Step();
    coordinator_->Finish();
    EXPECT_EQ(coordinator_->summary().status, "halted") << "lie " << lie;
    EXPECT_NE(coordinator_->summary().halt_reason.find("does not add up"), std::string::npos)
        << coordinator_->summary().halt_reason;
  }
}

// The input goes out only as the reconciler grants credit, and only to the
// holder of the current reconciliation lease.
TEST_F(CoordinatorTest, TheReconciliationInputFollowsTheReconcilersCredit) {
  Make();
  const v1::Lease reconcile = LoadToReconciliation();
  v1::Envelope ask;
  ask.mutable_reconcile_input_request()->set_wave(0);
  ask.mutable_reconcile_input_request()->set_epoch(reconcile.epoch());
  ask.mutable_reconcile_input_request()->set_credits(1);
  Send("loader-0", ask);  // not the reconciler
  Step();
  for (auto& [to, env] : channel_->TakeSent()) EXPECT_FALSE(env.has_reconcile_input()) << to;
  Send("reconciler-0", ask);
  Step();
  int chunks = 0;
  for (auto& [to, env] : channel_->TakeSent()) {
    if (!env.has_reconcile_input()) continue;
    ++chunks;
    EXPECT_EQ(env.reconcile_input().entity(), "hcp");
    EXPECT_EQ(env.reconcile_input().fates_size(), 2);
    ASSERT_EQ(env.reconcile_input().ledger_size(), 1);
    EXPECT_EQ(env.reconcile_input().ledger(0).extracted(), 2u);
    EXPECT_TRUE(env.reconcile_input().wave_done());
  }
  EXPECT_EQ(chunks, 1);
}

// Issue 20 item 3: a worker may have RegisterReply.commit_credits commits
// unanswered. Every commit believed is answered, once per drain of the
// channel, to the route that sent it; an impostor's is not.
TEST_F(CoordinatorTest, EveryBelievedCommitIsAnsweredToTheRouteThatSentIt) {
  Make();
  uint32_t pid = 100;
  for (const auto& [id, w] : coordinator_->roster().workers()) {
    v1::Envelope env;
    env.mutable_register_()->set_role(w.role);
    env.mutable_register_()->set_ordinal(w.ordinal);
    env.mutable_register_()->set_pid(pid++);
    channel_->Deliver(id + "@1", env, "key-of-" + id);
  }
  Step();
  int replies = 0;
  // The wave starts once the roster is whole: the extraction lease may go
  // out in the same step as the replies, or in the next.
  std::vector<std::pair<std::string, v1::Lease>> leases;
  for (const auto& [to, env] : channel_->TakeSent()) {
    if (env.has_lease()) leases.emplace_back(to, env.lease());
    if (!env.has_register_reply()) continue;
    ++replies;
    EXPECT_GT(env.register_reply().commit_credits(), 0u) << to;
  }
  EXPECT_EQ(replies, static_cast<int>(coordinator_->roster().workers().size()));
  Step();
  for (auto& sent : Leases()) leases.push_back(std::move(sent));
  ASSERT_EQ(leases.size(), 1u);
  ASSERT_EQ(leases[0].first, "extractor-0@1");
  const v1::Lease stream = leases[0].second;
  auto acks = [&] {
    std::vector<std::pair<std::string, uint32_t>> out;
    for (const auto& [to, env] : channel_->TakeSent()) {
      if (env.has_commit_ack()) out.emplace_back(to, env.commit_ack().commits());
    }
    return out;
  };
  v1::Envelope commit;
  *commit.mutable_commit() = Extract(0, stream.epoch());
  channel_->Deliver("extractor-0@2", commit, "key-of-extractor-0");  // not its route
  Step();
  EXPECT_TRUE(acks().empty());
  channel_->Deliver("extractor-0@1", commit, "key-of-extractor-0");
  *commit.mutable_commit() = Extract(1, stream.epoch());
  channel_->Deliver("extractor-0@1", commit, "key-of-extractor-0");
  Step();
  EXPECT_EQ(acks(), (std::vector<std::pair<std::string, uint32_t>>{{"extractor-0@1", 2}}));
  EXPECT_TRUE(Has(Raw(0), Stage::kExtract));
  Step();
  EXPECT_TRUE(acks().empty()) << "answered twice";
}

}  // namespace
}  // namespace sluice::coordination
