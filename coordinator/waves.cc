// The wave and entity state machine and the handling of workers' messages.
// Inside a wave, every entity whose parents in the wave have finished is in
// flight at once (ReadyEntities); each entity goes ingest -> resolve ->
// output on its own, and the wave reconciles once all of them finished.
#include "coordinator/coordinator.h"

namespace sluice::coordination {

std::vector<std::string> Coordinator::IngestBatches(const EntityRun& run) const {
  std::vector<std::string> names;
  for (const auto& [source, s] : run.streams) {
    for (uint64_t seq = 0; seq < s.batches; ++seq) {
      names.push_back(IngestBatch(run.entity, source, seq));
    }
  }
  return names;
}

std::vector<std::string> Coordinator::OutputBatches(const EntityRun& run) const {
  std::vector<std::string> names;
  for (uint64_t seq = 0; seq < run.output_batches; ++seq) {
    names.push_back(OutputBatch(run.entity, seq));
  }
  return names;
}

Status Coordinator::StartWave() {
  runs_.clear();
  started_entities_.clear();
  finished_entities_.clear();
  reconciling_ = false;
  log_.wave = wave_;
  const WaveSpec& wave = plan_.waves[wave_];
  std::string levels;
  for (const auto& group : wave.groups) {
    std::string names;
    for (const auto& e : group) names += (names.empty() ? "" : ", ") + e;
    levels += (levels.empty() ? "[" : " -> [") + names + "]";
  }
  LogInfo(log_, "wave " + wave.name + ": " + levels);
  return StartReady();
}

Status Coordinator::StartReady() {
  const WaveSpec& wave = plan_.waves[wave_];
  for (const std::string& entity : ReadyEntities(wave, started_entities_, finished_entities_)) {
    SLUICE_RETURN_IF_ERROR(StartEntity(entity));
  }
  if (runs_.empty() && !reconciling_ && finished_entities_.size() >= wave.entities.size()) {
    reconciling_ = true;
    LeaseReconcile();
  }
  return Status::Ok();
}

Status Coordinator::StartEntity(const std::string& entity) {
  started_entities_.insert(entity);
  EntityRun& run = runs_[entity];
  run.entity = entity;
  for (const Mapping* m : plan_.MappingsFor(entity)) {
    Stream s;
    s.source = m->source;
    uint64_t epoch = NextEpoch();
    s.segments.emplace_back(0, epoch);
    run.streams[m->source] = s;
    LeaseStream(run, m->source, epoch, v1::BatchRange(), 0);
  }
  std::string alongside;
  for (const auto& [other, r] : runs_) {
    if (other != entity) alongside += (alongside.empty() ? "" : ", ") + other;
  }
  LogInfo(EntityLog(entity), "wave " + plan_.waves[wave_].name + ": entity " + entity + " from " +
                                 std::to_string(run.streams.size()) + " source(s)" +
                                 (alongside.empty() ? "" : ", alongside " + alongside));
  last_progress_ = Clock::now();
  return Status::Ok();
}

Status Coordinator::Advance() {
  std::vector<std::string> active;
  for (const auto& [entity, run] : runs_) active.push_back(entity);
  for (const std::string& entity : active) {
    if (halted_) break;
    auto it = runs_.find(entity);
    if (it != runs_.end()) SLUICE_RETURN_IF_ERROR(AdvanceEntity(it->second));
  }
  return Status::Ok();
}

Status Coordinator::AdvanceEntity(EntityRun& run) {
  if (run.phase == Phase::kIngest) {
    for (const auto& [source, s] : run.streams) {
      if (!s.done) return Status::Ok();
      for (uint64_t seq = 0; seq < s.batches; ++seq) {
        if (!ledger_.Has(IngestBatch(run.entity, source, seq), "dedup_ingest")) {
          return Status::Ok();
        }
      }
    }
    run.phase = Phase::kResolve;
    LeaseResolve(run);
    return Status::Ok();
  }
  if (!run.resolved || !run.output_known) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(CheckValidationGate(run));
  if (halted_) return Status::Ok();
  for (uint64_t seq = 0; seq < run.output_batches; ++seq) {
    if (!ledger_.Has(OutputBatch(run.entity, seq), "load")) return Status::Ok();
  }
  return FinishEntity(run);
}

Status Coordinator::FinishEntity(EntityRun& run) {
  const std::string entity = run.entity;  // `run` is erased below
  std::vector<std::string> ingest = IngestBatches(run);
  std::vector<std::string> output = OutputBatches(run);
  std::string resolution = BatchName(run.resolution_id);
  Status st = ledger_.CheckResolution(resolution, ingest, output);
  if (!st.ok()) {
    Halt(st.message());
    return Status::Ok();
  }
  std::vector<std::string> all = ingest;
  all.insert(all.end(), output.begin(), output.end());
  auto totals = ledger_.Totals(all, {resolution});
  std::vector<LedgerRow> rows;
  std::string unbalanced;
  for (const auto& [source, t] : totals) {
    LedgerRow r;
    r.run_id = summary_.run_id;
    r.wave = wave_;
    r.entity = entity;
    r.source = source;
    r.extracted = t.extracted;
    r.merged = t.fates.merged;
    r.rejected = t.fates.rejected;
    r.review = t.fates.review;
    r.loaded = t.fates.loaded;
    r.inserted = t.fates.inserted;
    r.updated = t.fates.updated;
    r.unchanged = t.fates.unchanged;
    r.extracted_checksum = t.extracted_checksum.value();
    r.fate_checksum = t.fates.checksum.value();
    rows.push_back(r);
    EntitySourceSummary s;
    s.entity = entity;
    s.source = source;
    s.wave = wave_;
    s.extracted = r.extracted;
    s.merged = r.merged;
    s.rejected = r.rejected;
    s.review = r.review;
    s.loaded = r.loaded;
    s.inserted = r.inserted;
    s.updated = r.updated;
    s.unchanged = r.unchanged;
    summary_.rows.push_back(s);
    if (!t.Balanced()) {
      unbalanced += source + ": extracted " + std::to_string(t.extracted) + " but accounted for " +
                    std::to_string(t.Accounted()) + "; ";
    }
  }
  std::map<std::string, std::map<std::string, int64_t>> sums;
  sums[entity] = ledger_.DecimalSums(output);
  SLUICE_RETURN_IF_ERROR(audit_->WriteLedger(rows, sums));
  if (!unbalanced.empty()) {
    Halt("conservation broken for " + entity + ": " + unbalanced);
    return Status::Ok();
  }
  LogInfo(EntityLog(entity), "entity " + entity + " loaded and balanced");
  finished_entities_.insert(entity);
  runs_.erase(entity);
  last_progress_ = Clock::now();
  // Its children in the wave may start now; after the last entity, reconcile.
  return StartReady();
}

Status Coordinator::OnReconciled(const v1::ReconcileResult& r) {
  if (!reconciling_ || static_cast<int>(r.wave()) != wave_) return Status::Ok();
  summary_.reports.push_back(r.report_path());
  summary_.reconciliation.push_back("wave " + plan_.waves[wave_].name + ": " +
                                    (r.passed() ? "PASS" : "FAIL") + " " + r.summary());
  for (auto& row : summary_.rows) {
    if (row.wave != wave_) continue;
    row.reconciled = r.passed();
    for (const auto& check : r.reference_checks()) {
      if (check.entity() != row.entity) continue;
      row.ri_check = check.verdict();
      row.unresolved_references = check.unresolved();
    }
  }
  if (!r.passed()) {
    Halt("reconciliation failed in wave " + plan_.waves[wave_].name + ": " + r.summary() + "see " +
         r.report_path());
    return Status::Ok();
  }
  LogInfo(log_, "wave " + plan_.waves[wave_].name + " reconciled: " + r.summary());
  SLUICE_RETURN_IF_ERROR(
      audit_->RecordWave(summary_.run_id, wave_, plan_.waves[wave_].name, "completed"));
  if (wave_ + 1 < static_cast<int>(plan_.waves.size())) {
    ++wave_;
    return StartWave();
  }
  reconciling_ = false;
  finished_ = true;
  return Status::Ok();
}

EntityRun* Coordinator::RunOf(const v1::BatchId& id) {
  if (static_cast<int>(id.wave()) != wave_ || id.run_id() != summary_.run_id) return nullptr;
  auto it = runs_.find(id.entity());
  return it == runs_.end() ? nullptr : &it->second;
}

uint64_t Coordinator::ExpectedEpoch(const EntityRun& run, const v1::BatchId& id) const {
  std::string name = BatchName(id);
  auto it = reissued_.find(name);
  if (it != reissued_.end()) return it->second;
  auto s = run.streams.find(id.source());
  if (s != run.streams.end()) return s->second.EpochFor(id.sequence());
  return run.resolve_epoch;  // deduper output
}

Status Coordinator::OnCommit(const std::string& from, v1::Commit&& moved) {
  EntityRun* run = RunOf(moved.batch());
  if (run == nullptr) return Status::Ok();  // a straggler from a finished entity
  auto rounds = dedup_.find(run->entity);
  if (rounds != dedup_.end() && rounds->second.IsRoundCommit(moved)) {
    // N dedup shards: relay each round; once all resolved, go on with
    // their combined resolution as one shard's.
    if (moved.epoch() != run->resolve_epoch || run->resolved) return Status::Ok();
    DedupShards::Step step = rounds->second.OnCommit(moved, &ledger_);
    if (!step.status.ok()) {
      Halt(step.status.message());
      return Status::Ok();
    }
    for (auto& lease : step.leases) pending_.push_back(std::move(lease));
    last_progress_ = Clock::now();
    if (!step.resolution) return Status::Ok();
    moved = std::move(*step.resolution);
  }
  auto shared = std::make_shared<const v1::Commit>(std::move(moved));
  const v1::Commit& c = *shared;
  if (c.stage() == "dedup_resolve") {
    if (c.epoch() != run->resolve_epoch || run->resolved) return Status::Ok();
    Status st = ledger_.Apply(c);
    if (!st.ok()) {
      Halt(st.message());
      return Status::Ok();
    }
    SLUICE_RETURN_IF_ERROR(audit_->RecordCommit(summary_.run_id, wave_, c));
    run->resolved = true;
    run->resolution_id = c.batch();
    run->phase = Phase::kOutput;
    uint64_t size = static_cast<uint64_t>(plan_.batch_size);
    run->output_batches = rounds != dedup_.end() ? rounds->second.outputs().size()
                                                 : (c.counts().out() + size - 1) / size;
    run->output_known = true;
    last_progress_ = Clock::now();
    return Status::Ok();
  }
  if (c.stage() == "validate") OnValidateCommit(from, *run, c);
  std::string name = BatchName(c.batch());
  uint64_t expected = ExpectedEpoch(*run, c.batch());
  if (c.epoch() != expected) {
    LogInfo(log_, "refused stale commit of " + name + " at " + c.stage() + " from " + from);
    return Status::Ok();
  }
  if (ledger_.Epoch(name) == 0) ledger_.Lease(name, expected);
  if (ledger_.Has(name, c.stage())) return Status::Ok();  // a duplicate
  Status st = ledger_.Apply(shared);
  if (st.code() == StatusCode::kFailedPrecondition) {
    LogInfo(log_, st.message());
    return Status::Ok();
  }
  if (!st.ok()) {
    Halt(st.message());
    return Status::Ok();
  }
  SLUICE_RETURN_IF_ERROR(audit_->RecordCommit(summary_.run_id, wave_, c));
  if (c.stage() == "load") {
    clock_.OnBatchLoaded();  // a test clock moves on
    // The window closed with this batch: pause at once, at this boundary,
    // not after whatever other commits of the entities in flight are queued.
    if (!halted_ && options_.window_closes_at && clock_.Now() >= *options_.window_closes_at) {
      Pause();
    }
  }
  last_progress_ = Clock::now();
  return Status::Ok();
}

Status Coordinator::OnStreamDone(const v1::StreamDone& d) {
  EntityRun* run = RunOf(d.last());
  if (run == nullptr) return Status::Ok();
  if (d.stage() == "extract") {
    auto it = run->streams.find(d.last().source());
    if (it == run->streams.end()) return Status::Ok();
    // Only the latest stream lease can end the stream.
    if (it->second.segments.empty() || it->second.segments.back().second != d.epoch()) {
      return Status::Ok();
    }
    it->second.done = true;
    it->second.batches = d.batches();
    LogInfo(EntityLog(run->entity), "source " + d.last().source() + " of " + run->entity +
                                        " extracted in " + std::to_string(d.batches()) +
                                        " batch(es)");
  }
  last_progress_ = Clock::now();
  return Status::Ok();
}

Status Coordinator::Handle(const std::string& sender, v1::Envelope& env) {
  // Heartbeats arrive from each worker's "<identity>/hb" socket.
  const bool hb_socket = sender.size() > 3 && sender.compare(sender.size() - 3, 3, "/hb") == 0;
  const std::string from = hb_socket ? sender.substr(0, sender.size() - 3) : sender;
  auto it = workers_.find(from);
  if (it != workers_.end()) it->second.last_seen = Clock::now();
  switch (env.body_case()) {
    case v1::Envelope::kRegister:
      return OnRegister(from, env.register_());
    case v1::Envelope::kHeartbeat: {
      v1::Envelope echo;
      echo.mutable_heartbeat()->set_sequence(env.heartbeat().sequence());
      if (it != workers_.end() && it->second.alive) (void)control_->Send(from, echo);
      return Status::Ok();
    }
    case v1::Envelope::kCommit:
      return OnCommit(from, std::move(*env.mutable_commit()));
    case v1::Envelope::kStreamDone:
      return OnStreamDone(env.stream_done());
    case v1::Envelope::kReconcileResult:
      return OnReconciled(env.reconcile_result());
    case v1::Envelope::kError: {
      const auto& e = env.error();
      Halt(from + " (" + e.stage() + "): " + e.message());
      return Status::Ok();
    }
    default:
      return Status::Ok();
  }
}

std::string Coordinator::Waiting() const {
  std::string s;
  auto add = [&s](const std::string& what) { s += (s.empty() ? "" : "; ") + what; };
  for (const auto& [entity, run] : runs_) {
    switch (run.phase) {
      case Phase::kIngest: {
        std::string sources;
        for (const auto& [source, st] : run.streams) {
          sources +=
              (sources.empty() ? "" : ", ") + source + (st.done ? " extracted" : " extracting");
        }
        add("ingesting " + entity + " (" + sources + ")");
        break;
      }
      case Phase::kResolve:
        add("waiting for the deduper to resolve " + entity);
        break;
      case Phase::kOutput: {
        uint64_t loaded = 0;
        for (uint64_t seq = 0; seq < run.output_batches; ++seq) {
          if (ledger_.Has(OutputBatch(entity, seq), "load")) ++loaded;
        }
        add("loading " + entity + " (" + std::to_string(loaded) + " of " +
            std::to_string(run.output_batches) + " batch(es) loaded)");
        break;
      }
    }
  }
  if (reconciling_) add("reconciling wave " + plan_.waves[wave_].name);
  if (s.empty()) s = "nothing in flight in wave " + plan_.waves[wave_].name;
  return s;
}

}  // namespace sluice::coordination
