// The coordinator's run, internal to the coordinator library: one object per
// `sluice run`. It registers workers, leases work wave by wave, keeps the
// ledger, recovers from dead workers and halts on the first record that
// cannot be accounted for. coordinator.cc holds setup, the main loop and
// registration; waves.cc the wave state machine, leases, recovery and
// commit handling. RunPlan (run_controller.h) is the public entry point.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/audit_store.h"
#include "common/log.h"
#include "common/plan.h"
#include "common/record.h"
#include "common/transport.h"
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
  uint32_t pid = 0;
  bool alive = false;
  bool replied = false;
  int generation = 0;
  Clock::time_point last_seen;
};

// The extraction stream of one source for the entity in progress.
struct Stream {
  std::string source;
  bool done = false;
  uint64_t batches = 0;  // known when done
  // Epoch of the stream lease that produced batches from `first_sequence` on.
  std::vector<std::pair<uint64_t, uint64_t>> segments;  // (first_sequence, epoch)
  uint64_t EpochFor(uint64_t seq) const {
    uint64_t e = 0;
    for (const auto& [first, epoch] : segments) {
      if (seq >= first) e = epoch;
    }
    return e;
  }
};

enum class Phase { kIngest, kResolve, kOutput, kReconcile };

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
  // validators' held batches to the loader.
  Status CheckValidationGate();
  // A validate commit arriving after the release (a batch replayed to a
  // validator that restarted): tell that validator the gate is open.
  void OnValidateCommit(const std::string& from, const v1::Commit& c);
  std::string GateKey() const { return std::to_string(wave_) + "/" + Entity(); }
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

  // ---- worker liveness and recovery ----

  Status CheckWorkers();
  void OnDeath(Worker& w, const std::string& how);
  uint64_t NextEpoch() { return ++epoch_counter_; }

  void Recover(const std::string& role);
  // A lease of `kind` for batch `id` under a new epoch.
  v1::Lease Reissue(const v1::BatchId& id, const std::string& from_stage, v1::Lease::Kind kind);

  // ---- leases ----

  Status DispatchLeases();
  void LeaseStream(const std::string& source, uint64_t epoch, const v1::BatchRange& from,
                   uint64_t first_sequence);
  void LeaseResolve();
  void LeaseReconcile();

  // ---- batch names ----

  const std::string& Entity() const { return plan_.waves[wave_].entities[entity_index_]; }

  v1::BatchId IngestId(const std::string& source, uint64_t seq) const;
  std::string IngestBatch(const std::string& source, uint64_t seq) const;
  v1::BatchId OutputId(uint64_t seq) const { return IngestId("dedup/0", seq); }
  std::string OutputBatch(uint64_t seq) const { return BatchName(OutputId(seq)); }

  // ---- the wave state machine ----

  Status StartEntity();
  Status Advance();
  Status FinishEntity();
  Status OnReconciled(const v1::ReconcileResult& r);

  // ---- messages ----

  uint64_t ExpectedEpoch(const v1::BatchId& id) const;
  bool Current(const v1::BatchId& id) const;
  Status OnCommit(const std::string& from, v1::Commit&& moved);
  Status OnStreamDone(const v1::StreamDone& d);
  Status Handle(const std::string& sender, v1::Envelope& env);
  std::string Waiting() const;
  const Plan& plan_;
  RunOptions options_;
  Launcher launcher_;
  LogContext log_;
  std::unique_ptr<AuditStore> audit_;
  v1::ReviewDecisions review_decisions_;       // the plan's steward decisions (issue 6)
  std::set<std::string> validation_released_;  // GateKey()s released to the loader
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
  size_t entity_index_ = 0;
  Phase phase_ = Phase::kIngest;
  std::map<std::string, Stream> streams_;
  std::map<std::string, uint64_t> reissued_;  // batch -> epoch of its re-lease
  bool resolved_ = false;
  bool output_known_ = false;
  uint64_t output_batches_ = 0;
  uint64_t resolve_epoch_ = 0;
  v1::BatchId resolution_id_;
  uint64_t epoch_counter_ = 0;
  size_t round_robin_ = 0;
  std::deque<std::pair<std::string, v1::Lease>> pending_;  // (role, lease) not yet sent
};

}  // namespace sluice::coordination
