// The coordinator's run, internal to the coordinator library: one object per
// `sluice run`. It registers workers, leases work wave by wave, keeps the
// ledger, recovers from dead workers and halts on the first record that
// cannot be accounted for. Inside a wave, the entities that do not reference
// each other are in flight together, each with its own EntityRun
// (entity_run.h); messages are routed to it by BatchId.entity.
// coordinator.cc holds setup, the main loop and registration; waves.cc the
// wave and entity state machine and commit handling; recovery.cc worker
// liveness, recovery and leases. RunPlan (run_controller.h) is the public
// entry point.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/audit/audit_store.h"
#include "common/core/log.h"
#include "common/plan/plan.h"
#include "common/core/record.h"
#include "common/runtime/transport.h"
#include "coordinator/dedup_shards.h"
#include "coordinator/entity_run.h"
#include "coordinator/launcher.h"
#include "coordinator/ledger.h"
#include "coordinator/run_controller.h"
#include "coordinator/window.h"

namespace sluice::coordination {

using Clock = std::chrono::steady_clock;

// A worker of the roster, as the coordinator knows it.
struct Worker {
  std::string identity;
  std::string role;
  uint32_t ordinal = 0;
  std::string endpoint;
  std::string member_endpoint;  // a dedup shard's (deduper/member_exchange.h)
  uint32_t pid = 0;
  bool alive = false;
  bool replied = false;
  int generation = 0;
  Clock::time_point last_seen;
};

class Coordinator {
 public:
  Coordinator(const Plan& plan, const RunOptions& options)
      : plan_(plan),
        options_(options),
        launcher_(options.bin_dir.empty() ? Launcher::SelfDir() : options.bin_dir) {}

  Result<RunSummary> Run();

 private:
  // ---- setup and teardown ----

  Status Setup();
  Status StartLocal(Worker& w);
  void Finish();
  void Halt(const std::string& reason);

  // ---- validation thresholds (issue 6, validation_gate.cc) ----

  // For an entity with validation.<entity>.halt: once every output batch is
  // validated, halts when a rate is over its threshold, else releases the
  // validators' held batches of the entity to the loader.
  Status CheckValidationGate(EntityRun& run);
  // A validate commit arriving after the release (a batch replayed to a
  // validator that restarted): tell that validator the gate is open.
  void OnValidateCommit(const std::string& from, const EntityRun& run, const v1::Commit& c);
  // Stops at the batch boundary when the production window closes: like a
  // halt, but the run is "paused" and `sluice resume` continues it.
  void Pause();

  // ---- the main loop ----

  Status Loop();
  bool AllRegistered() const;
  std::string MissingWorkers() const;
  Status Reply(Worker& w);
  Status OnRegister(const std::string& identity, const v1::Register& reg);
  Status StartRun();

  // ---- worker liveness and recovery (recovery.cc) ----

  Status CheckWorkers();
  void OnDeath(Worker& w, const std::string& how);
  uint64_t NextEpoch() { return ++epoch_counter_; }

  // Re-leases what a dead worker of `role` held, for every active entity
  // (and the wave's reconciliation).
  void Recover(const std::string& role);
  void RecoverEntity(EntityRun& run, const std::string& role);
  // A lease of `kind` for batch `id` under a new epoch.
  v1::Lease Reissue(const v1::BatchId& id, const std::string& from_stage, v1::Lease::Kind kind);

  // ---- leases (recovery.cc) ----

  Status DispatchLeases();
  void LeaseStream(const EntityRun& run, const std::string& source, uint64_t epoch,
                   const v1::BatchRange& from, uint64_t first_sequence);
  void LeaseResolve(EntityRun& run);
  void LeaseReconcile();

  // ---- batch names ----

  v1::BatchId IngestId(const std::string& entity, const std::string& source, uint64_t seq) const;
  std::string IngestBatch(const std::string& entity, const std::string& source,
                          uint64_t seq) const {
    return BatchName(IngestId(entity, source, seq));
  }
  v1::BatchId OutputId(const std::string& entity, uint64_t seq) const {
    // On N dedup shards each numbers its own batches (dedup_shards.h).
    auto d = dedup_.find(entity);
    if (d != dedup_.end() && seq < d->second.outputs().size()) return d->second.outputs()[seq];
    return IngestId(entity, "dedup/0", seq);
  }
  std::string OutputBatch(const std::string& entity, uint64_t seq) const {
    return BatchName(OutputId(entity, seq));
  }
  // Every ingest batch of the entity, every output batch.
  std::vector<std::string> IngestBatches(const EntityRun& run) const;
  std::vector<std::string> OutputBatches(const EntityRun& run) const;
  // The coordinator's log context, naming `entity`.
  LogContext EntityLog(const std::string& entity) const {
    LogContext c = log_;
    c.entity = entity;
    return c;
  }

  // ---- the wave state machine (waves.cc) ----

  Status StartWave();
  // Starts every entity of the wave whose parents in the wave have finished
  // (ReadyEntities); once every entity finished, leases the reconciliation.
  Status StartReady();
  Status StartEntity(const std::string& entity);
  Status Advance();
  Status AdvanceEntity(EntityRun& run);
  // Checks the entity's totals and writes its ledger; the run leaves runs_.
  Status FinishEntity(EntityRun& run);
  Status OnReconciled(const v1::ReconcileResult& r);

  // ---- messages ----

  // The active entity a batch of this run and wave belongs to, or null (a
  // straggler of a finished entity, wave or run).
  EntityRun* RunOf(const v1::BatchId& id);
  uint64_t ExpectedEpoch(const EntityRun& run, const v1::BatchId& id) const;
  Status OnCommit(const std::string& from, v1::Commit&& moved);
  Status OnStreamDone(const v1::StreamDone& d);
  Status Handle(const std::string& sender, v1::Envelope& env);
  // What the run waits for: every active entity and its phase.
  std::string Waiting() const;
  const Plan& plan_;
  RunOptions options_;
  Launcher launcher_;
  LogContext log_;
  std::unique_ptr<AuditStore> audit_;
  v1::ReviewDecisions review_decisions_;  // the plan's steward decisions (issue 6)
  std::unique_ptr<ControlServer> control_;
  std::map<std::string, Worker> workers_;
  Ledger ledger_;
  RunSummary summary_;
  Clock::time_point started_;
  Clock::time_point last_progress_;
  bool started_run_ = false;
  bool halted_ = false;
  bool paused_ = false;
  bool finished_ = false;
  RunClock clock_;  // the window's clock (a test clock under SLUICE_TEST_CLOCK)
  int wave_ = 0;
  // The current wave's entities: in flight (by entity), started (in flight
  // or finished) and finished (loaded and balanced).
  std::map<std::string, EntityRun> runs_;
  std::set<std::string> started_entities_;
  std::set<std::string> finished_entities_;
  bool reconciling_ = false;                  // every entity finished; the reconciliation is leased
  std::map<std::string, uint64_t> reissued_;  // batch -> epoch of its re-lease
  uint64_t epoch_counter_ = 0;
  size_t round_robin_ = 0;
  std::deque<std::pair<std::string, v1::Lease>> pending_;  // (role, lease) not yet sent
  // Dedup scale-out (dedup_shards.h): the run's shard count, and per entity
  // the resolve rounds on N > 1 shards. A pending_ lease may name a worker
  // identity ("deduper-1") instead of a role.
  uint32_t dedup_shards_ = 1;
  std::map<std::string, DedupShards> dedup_;
};

}  // namespace sluice::coordination
