// The coordinator driven in-process, the fixture its tests share: a manual
// clock and an in-memory control channel stand for time and the workers, so
// registration, heartbeat write-off, re-leasing and epoch refusal are tested
// without processes, sockets or sleeping. The audit store is a real one in a
// scratch folder.
#ifndef SLUICE_COORDINATOR_COORDINATOR_TESTING_H_
#define SLUICE_COORDINATOR_COORDINATOR_TESTING_H_

#include <gtest/gtest.h>

#include "common/audit/loaded_pack.h"
#include "common/core/hash.h"
#include "common/core/record.h"
#include "common/plan/plan_test_util.h"
#include "common/runtime/worker.h"
#include "coordinator/coordinator.h"
#include "coordinator/fake_coordinator_channel.h"

namespace sluice::coordination::coordinator_testing {

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
  // `busy_ms`: the CPU time of the worker's process (Heartbeat.busy_ms).
  void Heartbeat(const std::string& identity, uint64_t busy_ms = 0) {
    v1::Envelope env;
    env.mutable_heartbeat()->set_sequence(1);
    env.mutable_heartbeat()->set_busy_ms(busy_ms);
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

  // The resolved output goes through validation and load: the entity is
  // loaded and balanced, and the reconciler's lease is returned.
  v1::Lease LoadToReconciliation() {
    const RecordBatch out = Resolve();
    Commit("deduper-0", MakeCommit("dedup", out, out.records, {}));
    Commit("validator-0", MakeCommit("validate", out, out.records, {}));
    Commit("loader-0", MakeCommit("load", out, {}, {Loaded("a"), Loaded("b")}));
    Step();  // loaded and balanced: the reconciliation is leased
    Step();
    return OnlyLease("reconciler-0");
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
        for (const std::string& bytes : chunk.loaded_packs()) {  // LOADED fates by the pack
          LoadedPackReader reader(bytes);
          PackedLoad f;
          while (reader.Next(&f)) {
            e.set_fates(e.fates() + 1);
            e.set_fates_checksum(e.fates_checksum() + KeyHash(f.source, f.key));
            e.set_expected_rows(e.expected_rows() + 1);
            e.set_matched_rows(e.matched_rows() + 1);
          }
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

}  // namespace sluice::coordination::coordinator_testing

#endif  // SLUICE_COORDINATOR_COORDINATOR_TESTING_H_
