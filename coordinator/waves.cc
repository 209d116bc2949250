// The waves, the entities' phases and the handling of workers' messages.
// Inside a wave, every entity whose parents in the wave have finished is in
// flight at once (WaveScheduler); each entity goes ingest -> resolve ->
// output on its own, and the wave reconciles once all of them finished.
#include "common/connectors/connector.h"
#include "common/core/key_buckets.h"
#include "common/runtime/crash_trail.h"
#include "coordinator/coordinator.h"
#include "coordinator/entity_balance.h"

namespace sluice::coordination {

Status Coordinator::StartWave(int wave) {
  if (!waves_.StartWave(wave)) {
    finished_ = true;
    return Status::Ok();
  }
  log_.wave = wave;
  // A continued run (supervision.cc): what its first wave finished stays.
  if (!options_.continue_run.empty() && wave == options_.start_wave) {
    SLUICE_RETURN_IF_ERROR(ResumeWave(wave));
  }
  std::string levels;
  for (const auto& group : waves_.spec().groups) {
    std::string names;
    for (const auto& e : group) names += (names.empty() ? "" : ", ") + e;
    levels += (levels.empty() ? "[" : " -> [") + names + "]";
  }
  LogInfo(log_, "wave " + waves_.spec().name + ": " + levels);
  return StartReady();
}

Status Coordinator::StartReady() {
  for (const std::string& entity : waves_.Ready()) SLUICE_RETURN_IF_ERROR(StartEntity(entity));
  if (waves_.StartReconcile() && !StartPinCheck()) LeaseReconcile();  // pin_check.cc
  return Status::Ok();
}

Status Coordinator::StartEntity(const std::string& entity) {
  // Before any of its batches can reach a loader: its parents without a row.
  SLUICE_RETURN_IF_ERROR(SendParentFates(entity));
  EntityRun& run = waves_.Start(entity);
  SLUICE_RETURN_IF_ERROR(NotePopulationRun(entity));  // residents.cc
  progress_.SetPhase(entity, "ingest");
  for (const Mapping* m : plan_.MappingsFor(entity)) {
    leases_.LeaseStream(waves_.IngestId(entity, m->source, 0), v1::BatchRange());
  }
  // The extraction goes out first: the extractor reads the delta while the
  // scans' known keys are read from the audit store (a second at 1M keys).
  SLUICE_RETURN_IF_ERROR(DispatchLeases());
  SLUICE_RETURN_IF_ERROR(StartDeletionScans(entity));  // delta.cc
  std::string alongside;
  for (const auto& [other, r] : waves_.runs()) {
    if (other != entity) alongside += (alongside.empty() ? "" : ", ") + other;
  }
  LogInfo(EntityLog(entity), "wave " + waves_.spec().name + ": entity " + entity + " from " +
                                 std::to_string(run.streams.size()) + " source(s)" +
                                 (alongside.empty() ? "" : ", alongside " + alongside));
  last_progress_ = Now();
  return Status::Ok();
}

Status Coordinator::Advance() {
  std::vector<std::string> active;
  for (const auto& [entity, run] : waves_.runs()) active.push_back(entity);
  for (const std::string& entity : active) {
    if (halted_) break;
    auto it = waves_.runs().find(entity);
    if (it != waves_.runs().end()) SLUICE_RETURN_IF_ERROR(AdvanceEntity(it->second));
  }
  return Status::Ok();
}

Status Coordinator::AdvanceEntity(EntityRun& run) {
  if (run.phase == Phase::kIngest) {
    if (!waves_.Ingested(run, ledger_)) return Status::Ok();
    SLUICE_ASSIGN_OR_RETURN(bool residents, LeaseResidents(run));  // residents.cc
    if (residents) return Status::Ok();
    run.phase = Phase::kResolve;
    progress_.SetPhase(run.entity, "resolve");
    LeaseResolve(run);
    return Status::Ok();
  }
  if (!run.resolved || !run.output_known || run.retiring) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(CheckValidationGate(run));
  // Loaded, and their emission recorded: a loader may commit a batch that a
  // killed deduper sent before its recovery forgot the emission, which the
  // new deduper then records again.
  if (halted_ || !waves_.OutputsAt(run, Stage::kLoad, ledger_) ||
      !waves_.OutputsAt(run, Stage::kDedupOutput, ledger_) || !DeletionsScanned(run.entity)) {
    return Status::Ok();
  }
  return FinishEntity(run);
}

Status Coordinator::FinishEntity(EntityRun& run) {
  const std::string entity = run.entity;  // `run` is erased below
  const int wave = waves_.wave();
  std::vector<std::string> ingest = waves_.IngestBatches(run);
  std::vector<std::string> output = waves_.OutputBatches(run);
  std::string resolution = BatchName(run.resolution_id);
  Status st = ledger_.CheckResolution(resolution, ingest, output);
  if (!st.ok()) {
    Halt(st.message());
    return Status::Ok();
  }
  std::vector<std::string> all = ingest;
  all.insert(all.end(), output.begin(), output.end());
  EntityBalance balance = BalanceEntity(ledger_, summary_.run_id, wave, entity, all, resolution);
  for (auto& row : balance.summary) summary_.rows.push_back(std::move(row));
  std::map<std::string, std::map<std::string, int64_t>> sums;
  sums[entity] = ledger_.DecimalSums(output);
  // The population's blocks before the ledger: a written ledger marks the
  // entity finished, which a resume does not take in again (residents.cc).
  if (population_) SLUICE_RETURN_IF_ERROR(population_->Flush());
  SLUICE_RETURN_IF_ERROR(audit_->WriteLedger(balance.rows, sums));
  if (!balance.unbalanced.empty()) {
    Halt("conservation broken for " + entity + ": " + balance.unbalanced);
    return Status::Ok();
  }
  AddDeltaFigures(entity);                          // delta.cc
  SLUICE_RETURN_IF_ERROR(RecordDeletions(entity));  // before the retirement removes their rows
  SLUICE_ASSIGN_OR_RETURN(bool retiring, StartRetirement(run));
  return retiring ? Status::Ok() : CompleteEntity(entity);
}

Status Coordinator::CompleteEntity(const std::string& entity) {
  LogInfo(EntityLog(entity), "entity " + entity + " loaded and balanced");
  leases_.ForgetEntity(waves_.IngestId(entity, "", 0));
  waves_.Finish(entity);
  progress_.SetPhase(entity, "finished");
  last_progress_ = Now();
  // Its children in the wave may start now; after the last entity, reconcile.
  return StartReady();
}

Status Coordinator::OnReconciled(const v1::ReconcileResult& r) {
  const int wave = waves_.wave();
  if (!waves_.reconciling() || static_cast<int>(r.wave()) != wave) return Status::Ok();
  const std::string& name = waves_.spec().name;
  summary_.reports.push_back(r.report_path());
  summary_.reconciliation.push_back("wave " + name + ": " + (r.passed() ? "PASS" : "FAIL") +
                                    ", by entity: " + r.summary());
  for (auto& row : summary_.rows) {
    if (row.wave != wave) continue;
    row.reconciled = r.passed();
    for (const auto& check : r.reference_checks()) {
      if (check.entity() != row.entity) continue;
      row.ri_check = check.verdict();
      row.unresolved_references = check.unresolved();
    }
    for (const auto& check : r.survivor_checks()) {
      if (check.entity() != row.entity || check.source() != row.source) continue;
      row.survivor_check = check.verdict();
      row.unresolved_survivors = check.unresolved();
    }
  }
  if (!r.passed()) {
    Halt("reconciliation failed in wave " + name + ": " + r.summary() + "; see " + r.report_path());
    return Status::Ok();
  }
  LogInfo(log_, "wave " + name + " reconciled: " + r.summary());
  SLUICE_RETURN_IF_ERROR(audit_->RecordWave(summary_.run_id, wave, name, "completed"));
  SLUICE_RETURN_IF_ERROR(RaiseDeltaMarks(wave));  // only now: every batch is loaded
  if (!waves_.last_wave()) return StartWave(wave + 1);
  waves_.EndReconcile();
  finished_ = true;
  return Status::Ok();
}

Status Coordinator::OnCommit(const std::string& from, v1::Commit&& moved) {
  if (moved.stage() == kRetireStage) return OnRowsRetired(from, moved);    // retirement.cc
  if (moved.stage() == kScanKeysStage) return OnKeysScanned(from, moved);  // delta.cc
  if (moved.stage() == kStartStage) {  // a streaming worker starts on a batch
    poison_.Started(from, moved);      // poison_batch.h
    return Status::Ok();
  }
  EntityRun* run = waves_.RunOf(moved.batch());
  if (run == nullptr) return Status::Ok();  // a straggler from a finished entity
  // Only a worker of the stage's role, holding the lease it answers (lease_book.h).
  const std::optional<Stage> stage = StageNamed(moved.stage());
  Status admitted =
      stage ? leases_.Admit(roster_.Find(from), *stage, moved.epoch(), moved.dedup_shard())
            : Status::InvalidArgument("no such stage");
  if (!admitted.ok()) {
    LogInfo(log_, "refused commit of " + BatchName(moved.batch()) + " at " + moved.stage() +
                      " from " + from + ": " + admitted.message());
    return Status::Ok();
  }
  const uint64_t resolve_epoch = leases_.ResolveEpoch(moved.batch());
  if (run->shards && run->shards->IsRoundCommit(moved)) {
    // N dedup shards: relay each round; once all resolved, go on with
    // their combined resolution as one shard's.
    if (moved.epoch() != resolve_epoch || run->resolved) return Status::Ok();
    const std::string at = moved.stage();
    DedupShards::Step step = run->shards->OnCommit(std::move(moved), &ledger_);
    if (!step.status.ok()) {
      Halt(step.status.message());
      return Status::Ok();
    }
    for (auto& [to, lease] : step.leases) leases_.Queue(std::move(to), std::move(lease));
    last_progress_ = Now();
    MaybeDie(at);  // a test fault may kill it between a shard's parts
    if (!step.resolved) return Status::Ok();
    // Their combined resolution, part by part, as one shard's.
    Status recorded = Status::Ok();
    Status st = run->shards->EmitResolution([&](v1::Commit&& part) {
      recorded = OnResolvePart(*run, part, resolve_epoch);
      if (!recorded.ok()) return recorded;
      return halted_ ? Status::Cancelled("halted") : Status::Ok();
    });
    if (!recorded.ok()) return recorded;  // the audit store failed
    if (!st.ok() && st.code() != StatusCode::kCancelled) Halt(st.message());
    return Status::Ok();
  }
  // A resolution (or one shard's, combined): recorded part by part.
  if (stage == Stage::kDedupResolve) return OnResolvePart(*run, moved, resolve_epoch);
  auto shared = std::make_shared<const v1::Commit>(std::move(moved));
  const v1::Commit& c = *shared;
  if (stage == Stage::kValidate) OnValidateCommit(from, *run);
  std::string name = BatchName(c.batch());
  uint64_t expected = leases_.ExpectedEpoch(*stage, c.batch());
  if (c.epoch() != expected) {
    LogInfo(log_, "refused stale commit of " + name + " at " + c.stage() + " from " + from);
    return Status::Ok();
  }
  if (ledger_.Epoch(name) == 0) ledger_.Lease(name, expected);
  if (ledger_.Has(c)) {  // a duplicate: its worker is done with it all the same
    poison_.Committed(from, c);
    return Status::Ok();
  }
  if (stage == Stage::kExtract) {
    SLUICE_RETURN_IF_ERROR(RecordPin(c));  // pin_check.cc
    Status pinned = pins_.Check(c);        // source_pins.h
    if (!pinned.ok()) {
      Halt(pinned.message());
      return Status::Ok();
    }
  }
  Status st = ledger_.Apply(shared);
  if (st.code() == StatusCode::kFailedPrecondition) {
    LogInfo(log_, st.message());
    return Status::Ok();
  }
  if (!st.ok()) {
    Halt(st.message());
    return Status::Ok();
  }
  SLUICE_RETURN_IF_ERROR(audit_->RecordCommit(summary_.run_id, waves_.wave(), c));
  if (stage == Stage::kExtract) SLUICE_RETURN_IF_ERROR(RecordDeltaBatch(c));      // delta.cc
  if (stage == Stage::kDedupIngest) SLUICE_RETURN_IF_ERROR(RecordPopulation(c));  // residents.cc
  progress_.OnCommit(run->entity, c);
  poison_.Committed(from, c);
  MaybeDie(c.stage());
  if (stage == Stage::kLoad) {
    window_clock_.OnBatchLoaded();  // a test clock moves on
    // The window closed with this batch: pause at once, at this boundary,
    // not after whatever other commits of the entities in flight are queued.
    if (!halted_ && options_.window_closes_at &&
        window_clock_.Now() >= *options_.window_closes_at) {
      Pause();
    }
  }
  last_progress_ = Now();
  return Status::Ok();
}

Status Coordinator::OnStreamDone(const v1::StreamDone& d) {
  if (OnPinChecked(d)) return Status::Ok();
  EntityRun* run = waves_.RunOf(d.last());
  if (run == nullptr) return Status::Ok();
  if (StageNamed(d.stage()) == Stage::kExtract) {
    auto it = run->streams.find(d.last().source());
    if (it == run->streams.end()) return Status::Ok();
    // Only the latest stream lease can end the stream.
    const uint64_t latest = leases_.StreamEpoch(d.last());
    if (latest == 0 || latest != d.epoch()) return Status::Ok();
    it->second.done = true;
    it->second.batches = d.batches();
    progress_.SourceDone(run->entity, d.last().source());
    LogInfo(EntityLog(run->entity), "source " + d.last().source() + " of " + run->entity +
                                        " extracted in " + std::to_string(d.batches()) +
                                        " batch(es)");
  }
  last_progress_ = Now();
  return Status::Ok();
}

}  // namespace sluice::coordination
