// The coordinator's run, internal to the coordinator library: one object per
// `sluice run` (RunPlan, run_controller.h, is the public entry point). It is
// the loop that wires four parts together over an injected clock and
// control channel:
//   Roster        (roster.h)          the workers, their registration and liveness
//   LeaseBook     (lease_book.h)      leases, epochs, holders, admission of commits
//   WaveScheduler (wave_scheduler.h)  waves, the entities in flight and their phases
//   Ledger        (ledger.h)          the accounting of every batch at every stage
// and the audit store, where what the ledger accepts is recorded. It halts
// the run on the first record that cannot be accounted for.
//
// coordinator.cc holds setup, the loop, registration, liveness and
// teardown; waves.cc the entities' phases and the workers' messages;
// recovery.cc what is leased again when a worker dies; validation_gate.cc
// the validation halt thresholds; supervision.cc its liveness record, the
// run's progress, `sluice status` and `sluice halt`, and continuing a run
// whose coordinator died (issue 15). Not thread-safe: one thread runs it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/audit/audit_population.h"
#include "common/audit/audit_store.h"
#include "common/core/log.h"
#include "common/core/record.h"
#include "common/core/stage.h"
#include "common/plan/plan.h"
#include "common/runtime/clock.h"
#include "coordinator/coordinator_channel.h"
#include "coordinator/delta_book.h"
#include "coordinator/holdings.h"
#include "coordinator/launcher.h"
#include "coordinator/lease_book.h"
#include "coordinator/ledger.h"
#include "coordinator/poison_batch.h"
#include "coordinator/progress.h"
#include "coordinator/reconcile_feed.h"
#include "coordinator/resolution_merge.h"
#include "coordinator/resolve_parts.h"
#include "coordinator/roster.h"
#include "coordinator/run_controller.h"
#include "coordinator/source_pins.h"
#include "coordinator/stall_watch.h"
#include "coordinator/state_reserve.h"
#include "coordinator/wave_scheduler.h"
#include "coordinator/window.h"
#include "coordinator/worker_routes.h"

namespace sluice::coordination {

// What the coordinator is given of its environment.
struct CoordinatorEnv {
  // Steady time for liveness, stall and registration timeouts. Not owned.
  Clock* clock = &SystemClock();
  // The control channel; null: a ZeroMQ ROUTER bound on
  // RunOptions::control_bind when the run starts.
  std::unique_ptr<CoordinatorChannel> control;
};

class Coordinator {
 public:
  // `plan` must outlive the coordinator.
  Coordinator(const Plan& plan, const RunOptions& options, CoordinatorEnv env = {});

  // Runs to completion or halt (Start, Step until done, Finish). Errors are
  // setup failures; a halted run is a summary with status "halted".
  Result<RunSummary> Run();

  // ---- the steps of Run, for tests that drive the loop ----

  // Opens the audit store and records the run, binds the control channel
  // (unless given one) and starts the local workers (RunOptions::local).
  Status Start();
  // One turn of the loop: takes the messages waiting (up to 20 ms for the
  // first), writes off silent and reaped workers, starts the run once every
  // worker registered, hands out leases and moves the waves on. An error
  // ends the run.
  Status Step();
  // Halted, paused or finished: nothing more to do but Finish.
  bool done() const { return halted_ || finished_; }
  // Ends the run: records its status, shuts the workers down.
  void Finish();

  const RunSummary& summary() const { return summary_; }
  const Roster& roster() const { return roster_; }
  const LeaseBook& leases() const { return leases_; }
  const Ledger& ledger() const { return ledger_; }
  const WaveScheduler& waves() const { return waves_; }

 private:
  // ---- setup, the loop and teardown (coordinator.cc) ----

  // Seals the coordinator's process (common/runtime/seal.h) before it binds
  // its channel: the run's keys, or ephemeral ones for a local run and
  // each of its children.
  Status Seal();
  Status StartLocal(const std::string& identity);
  // After a halt: takes what workers still send for a moment, so that the
  // halt reaches each before it is shut down.
  void DrainAfterHalt();
  void Halt(const std::string& reason);
  // Stops at the batch boundary when the production window closes: like a
  // halt, but the run is "paused" and `sluice resume` continues it.
  void Pause();
  Status Handle(ControlMessage& message);
  // Handle, and when it kept the coordinator from its channel for over a
  // second, the workers' silence meanwhile is excused (Roster::Excuse).
  Status HandleExcusing(ControlMessage& message);
  // Answers the commits handled since the last call: a CommitAck to each
  // worker that sent some (RegisterReply.commit_credits).
  void SendCommitAcks();
  // How many unanswered commits a worker may have out (issue 20 item 3): a
  // few batches' worth, so that a coordinator that falls behind holds at
  // most that many commits per worker in its inbound queue.
  static constexpr uint32_t kCommitCredits = 8;

  // ---- registration and liveness (coordinator.cc) ----

  Status OnRegister(const std::string& identity, const v1::Register& reg, const std::string& key,
                    const std::string& route);

  // ---- whom the coordinator believes (issue 22, admission.cc) ----

  // Whether a Register of `identity` (classified `how`) with the CURVE
  // key `key` from routing id `route` may be taken: a worker of the run,
  // not a second process (or socket) while the registered one is alive, and
  // with the key the run gave it (--local) or, asking again, the key it
  // registered with. FailedPrecondition saying why otherwise.
  Status AdmitRegistration(const std::string& identity, const v1::Register& reg,
                           const std::string& key, const std::string& route,
                           Roster::Registration how) const;
  // Whether `message` (not a Register), from the worker `from` (its
  // heartbeat socket when `hb_socket`), is believed: a worker that
  // registered, from the route and with the key it registered with (a
  // commit also from a former process's route); a reconciliation result
  // or an end of stream only from the holder of the current lease it
  // answers. Commits are further judged by LeaseBook::Admit.
  Status Believe(const ControlMessage& message, const std::string& from, bool hb_socket) const;
  void LogRefused(const ControlMessage& message, const Status& why);
  Status Reply(const std::string& identity);
  Status StartRun();
  // Reaped local children and silent workers are written off (and local
  // ones started again, up to RunOptions::max_restarts).
  Status CheckWorkers();
  // Writes the worker off; what it held is leased again (Recover).
  void OnDeath(const std::string& identity);
  // Sends `env` to worker `identity`; true when sent. A worker whose socket
  // is gone (Unavailable: killed, or its host unreachable) is lost now, not
  // when its process is reaped or its heartbeats stop: it is written off
  // (OnDeath) and false returned. Other failures are returned.
  Result<bool> SendToWorker(const std::string& identity, const v1::Envelope& env);

  // ---- recovery (recovery.cc) ----

  // Re-leases what a dead worker of `role` held, for every entity in
  // flight (and the wave's reconciliation).
  void Recover(const std::string& role);
  void RecoverEntity(EntityRun& run, const std::string& role);
  // Batch `id` leased again (lease_book.h) and accounted afresh from
  // `from_stage` on: the ledger and the audit store forget what the old
  // epoch recorded.
  v1::Lease Reissue(const v1::BatchId& id, Stage from_stage, v1::Lease::Kind kind);

  // ---- leases (recovery.cc) ----

  // Sends every lease the lease book can hand to a ready worker.
  Status DispatchLeases();
  void LeaseResolve(EntityRun& run);
  void LeaseReconcile();

  // ---- the waves and the workers' messages (waves.cc) ----

  Status StartWave(int wave);
  // Starts every entity of the wave whose parents in the wave have finished;
  // once every entity finished, leases the reconciliation.
  Status StartReady();
  Status StartEntity(const std::string& entity);
  Status Advance();
  Status AdvanceEntity(EntityRun& run);
  // Checks the entity's totals and writes its ledger; it leaves the wave's
  // entities in flight.
  Status FinishEntity(EntityRun& run);
  Status OnReconciled(const v1::ReconcileResult& r);

  // ---- the reconciliation over the wire (issue 22, reconciliation.cc) ----

  // A new feed of the wave's reconciliation input, for the lease of epoch
  // reconcile_epoch_.
  void StartReconcileFeed();
  // The reconciler's credit: sends it that many more chunks of the input.
  Status OnReconcileInputRequest(const std::string& from, const v1::ReconcileInputRequest& request);
  // Stores the differences the reconciler found (issue 17), all of them.
  Status OnReconcileDifferences(const v1::ReconcileDifferences& d);
  // Writes the result's report into the state directory, checks its claims
  // against the feed (CheckReconcileClaims: halts when they do not add up),
  // then OnReconciled.
  Status OnReconcileResult(const std::string& from, v1::ReconcileResult&& r);
  // Whether the audit store holds as many differences of the wave as the
  // result counts (issue 17); FailedPrecondition saying so when not.
  Status CheckDifferencesStored(const v1::ReconcileResult& r);
  // Writes reports/<run>/wave-<n>.json (the reconciler's report and the
  // wave's failures by rule); returns its path.
  std::string WriteReconcileReport(const v1::ReconcileResult& r);
  Status OnCommit(const std::string& from, v1::Commit&& moved);
  Status OnStreamDone(const v1::StreamDone& d);

  // ---- a dedup resolution in parts (issue 16 item 5, resolution.cc) ----

  // One part of `run`'s resolution, of the resolve lease `resolve_epoch`:
  // recorded at once, counted once the last part has come.
  Status OnResolvePart(EntityRun& run, const v1::Commit& part, uint64_t resolve_epoch);
  // Forgets the recorded parts of a resolution that will not come whole
  // (a halt, a part lost, a resolution that does not add up).
  void AbandonResolution(const std::string& entity);

  // ---- validation thresholds (issue 6, validation_gate.cc) ----

  // For an entity with validation.<entity>.halt: once every output batch is
  // validated, halts when a rate is over its threshold, else releases the
  // validators' held batches of the entity to the loader.
  Status CheckValidationGate(EntityRun& run);
  // A validate commit arriving after the release (a batch replayed to a
  // validator that restarted): tell that validator the gate is open.
  void OnValidateCommit(const std::string& from, const EntityRun& run);

  // ---- what the run reached (issue 14, reached.cc) ----

  // A run that stops: the figures reached by every entity still in flight,
  // as rows that did not finish.
  void AddReachedRows();
  // The plan's waves, reconciled or not (from the audit store's waves).
  void SummarizeWaves();

  // ---- the fates of parents without a row (issue 14, parent_fates.cc) ----

  // Sends every loader the rejected and held records of each entity `child`
  // references (itself excepted), read once per run from the audit store.
  Status SendParentFates(const std::string& child);
  // Sends a (re)registered loader what was sent so far.
  Status SendParentFatesTo(const std::string& identity);
  Result<v1::Envelope> CollectParentFates(const std::string& parent) const;

  // ---- sources pinned across the run (issue 23, pin_check.cc) ----

  // A resumed or continued run takes over the pins of the run before it.
  Status CarryPins();
  // Records a source's first pin of the run in the audit store.
  Status RecordPin(const v1::Commit& c);
  // Before the wave reconciles: leases each pinned stream of the wave again
  // from its end (the extractor checks the file). False: nothing to check.
  bool StartPinCheck();
  // A stream ended by a pin check: once all did, the wave reconciles.
  // False: not a pin check's.
  bool OnPinChecked(const v1::StreamDone& d);
  // The extractor died: its pin checks are leased again.
  void RequeuePinChecks();

  // ---- rows of earlier runs retired (issue 23, retirement.cc) ----

  // A balanced entity with records this run rejected or held: sends a
  // loader their keys (loader/retirement.h) and returns true; the entity
  // finishes when the loader answers (OnRowsRetired). False: none, go on.
  Result<bool> StartRetirement(EntityRun& run);
  // A loader's `retire` commit: records the rows it removed, then finishes
  // the entity that waited for it.
  Status OnRowsRetired(const std::string& from, const v1::Commit& c);
  // The end of FinishEntity: the entity leaves the wave's entities in flight
  // and its children may start.
  Status CompleteEntity(const std::string& entity);

  // ---- delta runs (issue 18, delta.cc; docs/delta.md) ----

  // The marks the run extracts above: its own (continued), its first
  // part's (resumed), none (--full), else the plan's latest.
  Status LoadDeltaMarks();
  // Notes what an extract commit of an incremental source says of its batch.
  Status RecordDeltaBatch(const v1::Commit& c);
  // Raises the marks of the wave's incremental sources to the highest value
  // the wave extracted: called once the wave reconciled.
  Status RaiseDeltaMarks(int wave);
  // Leases the deletion scan of each source of `entity` whose deletions are
  // not ignored and whose keys an earlier run loaded.
  Status StartDeletionScans(const std::string& entity);
  // Reads the known keys of the start wave's entities that start with it
  // (those referring to no other entity of the wave) while the workers
  // start, for StartDeletionScans (about a second at 1M keys).
  Status PrefetchKnownKeys();
  void RequeueDeletionScans();
  Status OnKeysScanned(const std::string& from, const v1::Commit& c);
  bool DeletionsScanned(const std::string& entity) const;
  // Records the deleted_at_source fates the scans of `entity` found.
  Status RecordDeletions(const std::string& entity);
  // The mark, the rows skipped and the residents read, in the entity's
  // summary rows.
  void AddDeltaFigures(const std::string& entity);

  // ---- incremental dedup (issue 18 item 3, residents.cc;
  // docs/incremental_dedup.md) ----

  // The population's blocks in the audit store (opened on first use).
  Result<PopulationStore*> Population();
  // Whether a delta run reads `entity` above its marks: "" yes, else why it
  // reads it whole (logged).
  Result<std::string> ReadWholeReason(const std::string& entity);
  // Notes under which blocking the run takes `entity` in, and whether whole.
  Status NotePopulationRun(const std::string& entity);
  // Stores the population blocks of a dedup_ingest commit.
  Status RecordPopulation(const v1::Commit& c);
  // Once the delta of an entity read by its delta is ingested (and its
  // deletion scans answered): leases the extraction of its residents by key.
  // True while the entity must wait for them (or for the scans) before its
  // resolve; false once nothing more is to be read.
  Result<bool> LeaseResidents(EntityRun& run);

  // The coordinator's log context, naming `entity`.
  LogContext EntityLog(const std::string& entity) const {
    LogContext c = log_;
    c.entity = entity;
    return c;
  }
  Clock::TimePoint Now() const { return clock_->Now(); }

  // ---- supervision (issue 15, supervision.cc) ----

  // Records this coordinator and the run in the audit store: a new run, or
  // (RunOptions::continue_run) an interrupted one this coordinator takes
  // over, fencing the one before. The control channel must be bound.
  Status RecordRun();
  // The first wave of a continued run: its entities that finished (their
  // ledger rows balance) stay finished; what the others recorded is
  // forgotten, to be accounted afresh.
  Status ResumeWave(int wave);
  // Once a second, the liveness beat with the progress snapshot (a
  // coordinator that finds itself superseded stops); about every
  // RunOptions::progress_every, the progress callback.
  void Supervise(bool force);
  // The run's progress now.
  v1::RunProgress Snapshot();
  // `sluice status` and `sluice halt`, from any identity.
  void OnStatusRequest(const std::string& from);
  void OnHaltRequest(const std::string& from, const v1::HaltRequest& request);
  // A worker of the run heartbeats without having registered with this
  // coordinator (it registered with one that is gone): ask it to register.
  void AskToRejoin(const std::string& identity);
  // What registration waits for, in words.
  std::string WaitingForWorkers() const;
  // Ledger rows of finished entities kept from before (a continued or
  // resumed run): into the summary and the progress.
  void KeepFinished(const std::vector<LedgerRow>& rows, bool reconciled);
  // What a worker holds, for `sluice status`: the lease it was handed, or
  // the batch it committed last.
  void NoteLease(const std::string& identity, const v1::Lease& lease);
  // Test only (`--test-fault coordinator:sigkill_at=WHEN` or `stall_at=WHEN`,
  // test_fault.h): kill -9 of this coordinator, or a long busy spell, when
  // `at` ("load:3", "resolve") is WHEN.
  void MaybeDie(const std::string& at);

  const Plan& plan_;
  RunOptions options_;
  Clock* clock_;
  WorkerRoutes routes_;  // before control_, which sends through it
  std::unique_ptr<CoordinatorChannel> control_;
  std::optional<CurveKeyPair> keys_;                // the coordinator's; none in plaintext
  std::map<std::string, CurveKeyPair> local_keys_;  // --local: each child's, by identity
  // A sealed run's supervisor key (public half): `sluice status` and `sluice
  // halt` ask with it, read from the run's folder in the state directory.
  std::string supervisor_key_;
  RunSummary summary_;  // its run_id first: the parts below name batches with it
  uint32_t dedup_shards_;
  Roster roster_;
  LeaseBook leases_;
  WaveScheduler waves_;
  Ledger ledger_;
  SourcePins pins_;       // the file sources as the run first read them
  DeltaBook delta_;       // marks and deletion scans (issue 18)
  StateReserve reserve_;  // room to record how the run ends (state_reserve.h)
  Launcher launcher_;
  LogContext log_;
  std::unique_ptr<AuditStore> audit_;
  std::unique_ptr<PopulationStore> population_;  // residents.cc
  // Known keys read ahead by (entity, source) (PrefetchKnownKeys), until
  // StartDeletionScans takes them.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> known_keys_;
  v1::ReviewDecisions review_decisions_;  // the plan's steward decisions (issue 6)
  RunClock window_clock_;  // the production window's (a test clock under SLUICE_TEST_CLOCK)
  Clock::TimePoint started_;
  Clock::TimePoint last_progress_;  // a batch moved, or a worker was at work (stall_watch.h)
  StallWatch stall_watch_{RosterOptions{}.heartbeat};
  Clock::TimePoint register_deadline_;
  // Issue 15 (supervision.cc).
  ProgressBook progress_;
  int generation_ = 1;       // this coordinator's, of the run (CoordinatorRecord)
  bool superseded_ = false;  // a later generation took the run over
  int64_t started_ms_ = 0;   // wall clock
  Clock::TimePoint last_beat_{};
  Clock::TimePoint last_callback_{};
  std::map<std::string, Clock::TimePoint> rejoin_asked_;  // identity -> when
  Holdings holdings_;                                     // what each worker holds now
  std::optional<std::string> sigkill_at_;                 // test only
  std::optional<std::string> stall_at_;                   // test only
  // The bound of a part of N dedup shards' combined resolution (the test
  // fault `resolve_part_bytes=N`, the deduper's or the coordinator's, makes
  // it small).
  size_t resolve_part_bytes_ = ShardResolutions::kPartBytes;
  std::map<std::string, uint64_t> commits_at_;  // stage -> commits recorded
  // Commits handled since the last CommitAck, by sender route (issue 20
  // item 3).
  std::map<std::string, uint32_t> commit_acks_;
  bool started_run_ = false;
  bool halted_ = false;
  bool paused_ = false;
  bool finished_ = false;
  std::unique_ptr<ReconcileFeed> reconcile_feed_;  // the input of the current reconciliation
  uint64_t reconcile_epoch_ = 0;  // the epoch of the wave's latest reconciliation lease
  std::map<std::string, Clock::TimePoint> refusals_logged_;  // sender and kind -> last logged
  // Per parent entity, the ParentFates message loaders were sent.
  std::map<std::string, v1::Envelope> parent_fates_;
  // What each leased worker works on: a second crash there halts
  // (poison_batch.h, issue 23).
  PoisonBatchWatch poison_;
  // The pin checks of the wave not answered yet, by "entity/source".
  std::map<std::string, v1::Lease> pin_checks_;
  // The resolutions arriving in parts, by entity (resolution.cc).
  std::map<std::string, ResolveParts> resolving_;
};

}  // namespace sluice::coordination
