// The coordinator driven in-process: a manual clock and an in-memory control
// channel stand for time and the workers, so registration, heartbeat
// write-off, re-leasing and epoch refusal are tested without processes,
// sockets or sleeping. The audit store is a real one in a scratch folder.
#include "coordinator/coordinator.h"

#include <gtest/gtest.h>

#include "common/core/hash.h"
#include "common/core/record.h"
#include "common/plan/plan_test_util.h"
#include "common/runtime/worker.h"
#include "coordinator/fake_coordinator_channel.h"

namespace sluice::coordination {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A scratch folder (plan_testing::PlanTest) holds the audit store.
class CoordinatorTest : public plan_testing::PlanTest {
 protected:
  void SetUp() override {
    PlanTest::SetUp();
    // One wave, one entity from one source.
    plan_.name = "engine";
    plan_.state_dir = Dir();
    plan_.batch_size = 10;
    WaveSpec wave;
    wave.name = "main";
    wave.entities = {"hcp"};
    wave.groups = {{"hcp"}};
    plan_.waves = {wave};
    Mapping m;
    m.entity = "hcp";
    m.source = "crm";
    plan_.mappings = {m};
  }
  void TearDown() override {
    coordinator_.reset();  // closes the audit store
    PlanTest::TearDown();
  }

  void Make(RunOptions options = {}) {
    options.local = false;  // the test plays the workers
    auto channel = std::make_unique<FakeCoordinatorChannel>(&clock_);
    channel_ = channel.get();
    CoordinatorEnv env;
    env.clock = &clock_;
    env.control = std::move(channel);
    coordinator_ = std::make_unique<Coordinator>(plan_, options, std::move(env));
    ASSERT_TRUE(coordinator_->Start().ok());
  }
  const std::string& RunId() const { return coordinator_->summary().run_id; }

  void Send(const std::string& from, const v1::Envelope& env) { channel_->Deliver(from, env); }
  void Register(const std::string& identity, uint32_t pid) {
    const Worker& w = *coordinator_->roster().Find(identity);
    v1::Envelope env;
    env.mutable_register_()->set_role(w.role);
    env.mutable_register_()->set_ordinal(w.ordinal);
    env.mutable_register_()->set_pid(pid);
    env.mutable_register_()->set_data_endpoint("tcp://" + identity);
    Send(identity, env);
  }
  void RegisterAll() {
    uint32_t pid = 100;
    for (const auto& [id, w] : coordinator_->roster().workers()) Register(id, pid++);
  }
  void Heartbeat(const std::string& identity) {
    v1::Envelope env;
    env.mutable_heartbeat()->set_sequence(1);
    Send(identity + "/hb", env);
  }
  void Commit(const std::string& from, const v1::Commit& c) {
    v1::Envelope env;
    *env.mutable_commit() = c;
    Send(from, env);
  }
  void Step() { ASSERT_TRUE(coordinator_->Step().ok()); }

  // The leases sent since the last call, to whom.
  std::vector<std::pair<std::string, v1::Lease>> Leases() {
    std::vector<std::pair<std::string, v1::Lease>> out;
    for (auto& [to, env] : channel_->TakeSent()) {
      if (env.has_lease()) out.emplace_back(to, env.lease());
    }
    return out;
  }
  // The one lease sent since the last call, which must have gone to `to`.
  v1::Lease OnlyLease(const std::string& to) {
    auto leases = Leases();
    EXPECT_EQ(leases.size(), 1u);
    if (leases.empty()) return v1::Lease();
    EXPECT_EQ(leases[0].first, to);
    return leases[0].second;
  }

  // A batch of the hcp entity, records keyed `keys`, at `epoch`.
  RecordBatch Batch(const v1::BatchId& id, const std::vector<std::string>& keys, uint64_t epoch) {
    RecordBatch b;
    b.id = id;
    b.epoch = epoch;
    b.range.set_end_offset(100 * (id.sequence() + 1));
    for (const auto& k : keys) b.records.push_back(Record{"crm", k, 0, 0, {}, {}});
    return b;
  }
  v1::BatchId Raw(uint64_t seq) const { return coordinator_->waves().IngestId("hcp", "crm", seq); }
  v1::Commit Extract(uint64_t seq, uint64_t epoch) {
    RecordBatch b = Batch(Raw(seq), {"k" + std::to_string(seq)}, epoch);
    return MakeCommit("extract", b, b.records, {});
  }
  bool Has(const v1::BatchId& id, Stage stage) const {
    return coordinator_->ledger().Has(BatchName(id), stage);
  }

  // Registers every worker and starts the run: returns the extraction
  // lease of crm.
  v1::Lease StartRun() {
    RegisterAll();
    Step();  // every worker registered: the run starts
    EXPECT_TRUE(coordinator_->roster().AllRegistered());
    Step();  // the leases go out
    return OnlyLease("extractor-0");
  }

  // One batch (keys a, b) extracted, transformed and ingested, the source
  // done: returns the resolve lease.
  v1::Lease Ingest() {
    DeliverIngest();
    Step();  // ingested: the resolve is leased
    Step();
    return OnlyLease("deduper-0");
  }
  // The messages of Ingest, delivered but not yet taken in: returns the
  // extraction lease.
  v1::Lease DeliverIngest() {
    const v1::Lease stream = StartRun();
    RecordBatch b = Batch(Raw(0), {"a", "b"}, stream.epoch());
    Commit("extractor-0", MakeCommit("extract", b, b.records, {}));
    v1::Envelope done;
    done.mutable_stream_done()->set_stage("extract");
    *done.mutable_stream_done()->mutable_last() = Raw(1);
    done.mutable_stream_done()->set_epoch(stream.epoch());
    done.mutable_stream_done()->set_batches(1);
    Send("extractor-0", done);
    Commit("transformer-0", MakeCommit("transform", b, b.records, {}));
    Commit("deduper-0", MakeCommit("dedup_ingest", b, b.records, {}));
    return stream;
  }

  // The deduper resolves (a and b survive, one output batch): returns it.
  RecordBatch Resolve() {
    const v1::Lease resolve = Ingest();
    EXPECT_EQ(resolve.kind(), v1::Lease::KIND_RESOLVE);
    v1::BatchId output = coordinator_->waves().IngestId("hcp", "dedup/0", 0);
    RecordBatch out = Batch(output, {"a", "b"}, resolve.epoch());
    v1::Commit c;
    c.set_stage("dedup_resolve");
    *c.mutable_batch() = coordinator_->waves().IngestId("hcp", "dedup/0/resolve", 0);
    c.set_epoch(resolve.epoch());
    c.mutable_counts()->set_in(2);
    c.mutable_counts()->set_out(2);
    c.mutable_counts()->set_in_checksum(out.KeyChecksumValue());
    c.mutable_counts()->set_out_checksum(out.KeyChecksumValue());
    Commit("deduper-0", c);
    Step();
    return out;
  }

  // Plays an honest reconciler holding `lease`: asks for the wave's input
  // (issue 22: it reads no audit.db), reads every chunk the coordinator
  // sends, and returns the passing result whose claims match what it read.
  v1::Envelope Reconciled(const v1::Lease& lease) {
    v1::Envelope ask;
    ask.mutable_reconcile_input_request()->set_wave(lease.batch().wave());
    ask.mutable_reconcile_input_request()->set_epoch(lease.epoch());
    ask.mutable_reconcile_input_request()->set_credits(kReconcileCredits);
    std::map<std::string, v1::ReconciledEntity> claims;
    bool done = false;
    for (int i = 0; i < 100 && !done; ++i) {
      Send("reconciler-0", ask);
      Step();
      for (auto& [to, env] : channel_->TakeSent()) {
        if (!env.has_reconcile_input()) continue;
        EXPECT_EQ(to, "reconciler-0");
        const v1::ReconcileInput& chunk = env.reconcile_input();
        v1::ReconciledEntity& e = claims[chunk.entity()];
        e.set_entity(chunk.entity());
        e.set_passed(true);
        for (const auto& f : chunk.fates()) {
          e.set_fates(e.fates() + 1);
          e.set_fates_checksum(e.fates_checksum() + KeyHash(f.source(), f.key()));
          if (f.kind() != v1::FATE_LOADED) continue;
          e.set_expected_rows(e.expected_rows() + 1);
          e.set_matched_rows(e.matched_rows() + 1);
        }
        done = done || chunk.wave_done();
      }
    }
    EXPECT_TRUE(done) << "the reconciliation input never ended";
    v1::Envelope result;
    v1::ReconcileResult* r = result.mutable_reconcile_result();
    r->set_wave(lease.batch().wave());
    r->set_epoch(lease.epoch());
    r->set_passed(true);
    for (auto& [entity, e] : claims) *r->add_entities() = e;
    return result;
  }
  static constexpr uint32_t kReconcileCredits = 2;

  static v1::Fate Loaded(const std::string& key) {
    v1::Fate f;
    f.set_kind(v1::FATE_LOADED);
    f.set_source("crm");
    f.set_key(key);
    f.set_rule("inserted");
    return f;
  }

  Plan plan_;
  ManualClock clock_;
  FakeCoordinatorChannel* channel_ = nullptr;
  std::unique_ptr<Coordinator> coordinator_;
};

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

}  // namespace
// Issue 22: the reconciler's claims are checked against what the coordinator
// sent it. A pass whose numbers do not add up (a row it was sent that it
// says it did not match, or fates it was never sent) halts the run.
TEST_F(CoordinatorTest, AReconcilerPassThatDoesNotAddUpHaltsTheRun) {
  for (int lie = 0; lie < 3; ++lie) {
    Make();
    const RecordBatch out = Resolve();
    Commit("deduper-0", MakeCommit("dedup", out, out.records, {}));
    Commit("validator-0", MakeCommit("validate", out, out.records, {}));
    Commit("loader-0", MakeCommit("load", out, {}, {Loaded("a"), Loaded("b")}));
    Step();
    Step();
    const v1::Lease reconcile = OnlyLease("reconciler-0");
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
  const RecordBatch out = Resolve();
  Commit("deduper-0", MakeCommit("dedup", out, out.records, {}));
  Commit("validator-0", MakeCommit("validate", out, out.records, {}));
  Commit("loader-0", MakeCommit("load", out, {}, {Loaded("a"), Loaded("b")}));
  Step();
  Step();
  const v1::Lease reconcile = OnlyLease("reconciler-0");
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

}  // namespace sluice::coordination
