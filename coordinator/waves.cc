#include "coordinator/coordinator.h"

namespace sluice::coordination {

Status Coordinator::CheckWorkers() {
  for (const auto& [identity, how] : launcher_.Reap()) {
    auto it = workers_.find(identity);
    if (it == workers_.end()) continue;
    LogWarn(log_, "worker " + identity + " " + how);
    OnDeath(it->second, how);
    if (options_.local && !halted_) {
      if (++it->second.generation > options_.max_restarts) {
        Halt("worker " + identity + " keeps dying (" + how + "); gave up after " +
             std::to_string(options_.max_restarts) + " restarts");
        return Status::Ok();
      }
      SLUICE_RETURN_IF_ERROR(StartLocal(it->second));
    }
  }
  auto now = Clock::now();
  for (auto& [id, w] : workers_) {
    if (w.alive && now - w.last_seen > options_.worker_timeout) {
      LogWarn(log_, "worker " + id + " missed its heartbeats");
      OnDeath(w, "heartbeat timeout");
      ++w.generation;
    }
  }
  return Status::Ok();
}

void Coordinator::OnDeath(Worker& w, const std::string& how) {
  if (!w.alive) return;
  w.alive = false;
  w.replied = false;
  if (!started_run_ || halted_ || finished_) return;
  // Whatever the dead worker held or had in flight is leased again.
  Recover(w.role);
}

v1::Lease Coordinator::Reissue(const v1::BatchId& id, const std::string& from_stage,
                               v1::Lease::Kind kind) {
  // The batch is accounted afresh from `from_stage` on, under a new epoch:
  // what the old epoch recorded is forgotten and its late commits refused.
  const std::string name = BatchName(id);
  uint64_t epoch = NextEpoch();
  reissued_[name] = epoch;
  ledger_.Lease(name, epoch, from_stage);
  Status st = audit_->DeleteBatchFates(summary_.run_id, name);
  if (!st.ok()) LogError(log_, st.ToString());
  v1::Lease lease;
  lease.set_kind(kind);
  *lease.mutable_batch() = id;
  lease.set_epoch(epoch);
  return lease;
}

void Coordinator::Recover(const std::string& role) {
  LogWarn(log_, "recovering from the loss of a " + role);
  if (phase_ == Phase::kIngest) {
    if (role == "extractor") {
      for (auto& [source, stream] : streams_) {
        if (stream.done) continue;
        // Resume after the last batch whose extraction was committed.
        uint64_t seq = 0;
        v1::BatchRange resume;
        while (const v1::BatchRange* r = ledger_.Range(IngestBatch(source, seq))) {
          resume.set_begin_offset(r->end_offset());
          ++seq;
        }
        if (seq > 0) {
          const v1::BatchRange* last = ledger_.Range(IngestBatch(source, seq - 1));
          resume.set_first_line(last->first_line());  // refined by the source on Seek
        }
        uint64_t epoch = NextEpoch();
        stream.segments.emplace_back(seq, epoch);
        LeaseStream(source, epoch, resume, seq);
      }
    }
    if (role == "extractor" || role == "transformer" || role == "deduper") {
      for (auto& [source, stream] : streams_) {
        for (uint64_t seq = 0;; ++seq) {
          std::string name = IngestBatch(source, seq);
          const v1::BatchRange* range = ledger_.Range(name);
          if (range == nullptr) break;
          if (ledger_.Has(name, "dedup_ingest")) continue;
          v1::Lease lease =
              Reissue(IngestId(source, seq), "extract", v1::Lease::KIND_EXTRACT_BATCH);
          *lease.mutable_range() = *range;
          pending_.push_back({"extractor", lease});
        }
      }
    }
  } else if (phase_ == Phase::kResolve || phase_ == Phase::kOutput) {
    if (!resolved_ && role == "deduper") {
      LeaseResolve();
    } else if (resolved_ && (role == "deduper" || role == "validator" || role == "loader")) {
      for (uint64_t seq = 0; seq < output_batches_; ++seq) {
        std::string name = OutputBatch(seq);
        if (ledger_.Has(name, "load")) continue;
        pending_.push_back({"deduper", Reissue(OutputId(seq), "dedup", v1::Lease::KIND_RESEND)});
      }
    }
  } else if (phase_ == Phase::kReconcile && role == "reconciler") {
    LeaseReconcile();
  }
}

Status Coordinator::DispatchLeases() {
  std::deque<std::pair<std::string, v1::Lease>> waiting;
  while (!pending_.empty()) {
    auto [role, lease] = pending_.front();
    pending_.pop_front();
    Worker* target = nullptr;
    // Round-robin over the live workers of the role.
    std::vector<Worker*> live;
    for (auto& [id, w] : workers_) {
      if (w.role == role && w.alive && w.replied) live.push_back(&w);
    }
    if (!live.empty()) target = live[round_robin_++ % live.size()];
    if (target == nullptr) {
      waiting.emplace_back(role, lease);
      continue;
    }
    v1::Envelope env;
    *env.mutable_lease() = lease;
    SLUICE_RETURN_IF_ERROR(control_->Send(target->identity, env));
  }
  pending_ = std::move(waiting);
  return Status::Ok();
}

void Coordinator::LeaseStream(const std::string& source, uint64_t epoch, const v1::BatchRange& from,
                              uint64_t first_sequence) {
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_EXTRACT_SOURCE);
  *lease.mutable_batch() = IngestId(source, 0);
  lease.set_epoch(epoch);
  *lease.mutable_range() = from;
  lease.set_next_sequence(first_sequence);
  pending_.push_back({"extractor", lease});
}

void Coordinator::LeaseResolve() {
  resolve_epoch_ = NextEpoch();
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_RESOLVE);
  *lease.mutable_batch() = OutputId(0);
  lease.mutable_batch()->set_source("");
  lease.set_epoch(resolve_epoch_);
  pending_.push_back({"deduper", lease});
}

void Coordinator::LeaseReconcile() {
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_RECONCILE);
  lease.mutable_batch()->set_run_id(summary_.run_id);
  lease.mutable_batch()->set_wave(static_cast<uint32_t>(wave_));
  lease.set_epoch(NextEpoch());
  pending_.push_back({"reconciler", lease});
}

v1::BatchId Coordinator::IngestId(const std::string& source, uint64_t seq) const {
  v1::BatchId id;
  id.set_run_id(summary_.run_id);
  id.set_wave(static_cast<uint32_t>(wave_));
  id.set_entity(Entity());
  id.set_source(source);
  id.set_sequence(seq);
  return id;
}

std::string Coordinator::IngestBatch(const std::string& source, uint64_t seq) const {
  return BatchName(IngestId(source, seq));
}

Status Coordinator::StartEntity() {
  phase_ = Phase::kIngest;
  streams_.clear();
  resolved_ = false;
  output_known_ = false;
  output_batches_ = 0;
  log_.wave = wave_;
  log_.entity = Entity();
  for (const Mapping* m : plan_.MappingsFor(Entity())) {
    Stream s;
    s.source = m->source;
    uint64_t epoch = NextEpoch();
    s.segments.emplace_back(0, epoch);
    streams_[m->source] = s;
    LeaseStream(m->source, epoch, v1::BatchRange(), 0);
  }
  LogInfo(log_, "wave " + plan_.waves[wave_].name + ": entity " + Entity() + " from " +
                    std::to_string(streams_.size()) + " source(s)");
  return Status::Ok();
}

Status Coordinator::Advance() {
  if (phase_ == Phase::kIngest) {
    for (const auto& [source, s] : streams_) {
      if (!s.done) return Status::Ok();
      for (uint64_t seq = 0; seq < s.batches; ++seq) {
        if (!ledger_.Has(IngestBatch(source, seq), "dedup_ingest")) return Status::Ok();
      }
    }
    phase_ = Phase::kResolve;
    LeaseResolve();
    return Status::Ok();
  }
  if (phase_ == Phase::kResolve || phase_ == Phase::kOutput) {
    if (!resolved_ || !output_known_) return Status::Ok();
    SLUICE_RETURN_IF_ERROR(CheckValidationGate());
    if (halted_) return Status::Ok();
    for (uint64_t seq = 0; seq < output_batches_; ++seq) {
      if (!ledger_.Has(OutputBatch(seq), "load")) return Status::Ok();
    }
    return FinishEntity();
  }
  return Status::Ok();
}

Status Coordinator::FinishEntity() {
  std::vector<std::string> ingest, output;
  for (const auto& [source, s] : streams_) {
    for (uint64_t seq = 0; seq < s.batches; ++seq) ingest.push_back(IngestBatch(source, seq));
  }
  for (uint64_t seq = 0; seq < output_batches_; ++seq) output.push_back(OutputBatch(seq));
  std::string resolution = BatchName(resolution_id_);
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
    r.entity = Entity();
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
    s.entity = Entity();
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
  sums[Entity()] = ledger_.DecimalSums(output);
  SLUICE_RETURN_IF_ERROR(audit_->WriteLedger(rows, sums));
  if (!unbalanced.empty()) {
    Halt("conservation broken for " + Entity() + ": " + unbalanced);
    return Status::Ok();
  }
  LogInfo(log_, "entity " + Entity() + " loaded and balanced");
  if (entity_index_ + 1 < plan_.waves[wave_].entities.size()) {
    ++entity_index_;
    return StartEntity();
  }
  phase_ = Phase::kReconcile;
  LeaseReconcile();
  return Status::Ok();
}

Status Coordinator::OnReconciled(const v1::ReconcileResult& r) {
  if (phase_ != Phase::kReconcile || static_cast<int>(r.wave()) != wave_) return Status::Ok();
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
    entity_index_ = 0;
    return StartEntity();
  }
  finished_ = true;
  return Status::Ok();
}

uint64_t Coordinator::ExpectedEpoch(const v1::BatchId& id) const {
  std::string name = BatchName(id);
  auto it = reissued_.find(name);
  if (it != reissued_.end()) return it->second;
  auto s = streams_.find(id.source());
  if (s != streams_.end()) return s->second.EpochFor(id.sequence());
  return resolve_epoch_;  // deduper output
}

bool Coordinator::Current(const v1::BatchId& id) const {
  return static_cast<int>(id.wave()) == wave_ && id.run_id() == summary_.run_id &&
         id.entity() == Entity();
}

Status Coordinator::OnCommit(const std::string& from, v1::Commit&& moved) {
  auto shared = std::make_shared<const v1::Commit>(std::move(moved));
  const v1::Commit& c = *shared;
  if (!Current(c.batch())) return Status::Ok();  // a straggler from a finished entity
  if (c.stage() == "dedup_resolve") {
    if (c.epoch() != resolve_epoch_ || resolved_) return Status::Ok();
    Status st = ledger_.Apply(c);
    if (!st.ok()) {
      Halt(st.message());
      return Status::Ok();
    }
    SLUICE_RETURN_IF_ERROR(audit_->RecordCommit(summary_.run_id, wave_, c));
    resolved_ = true;
    resolution_id_ = c.batch();
    phase_ = Phase::kOutput;
    uint64_t size = static_cast<uint64_t>(plan_.batch_size);
    output_batches_ = (c.counts().out() + size - 1) / size;
    output_known_ = true;
    last_progress_ = Clock::now();
    return Status::Ok();
  }
  if (c.stage() == "validate") OnValidateCommit(from, c);
  std::string name = BatchName(c.batch());
  uint64_t expected = ExpectedEpoch(c.batch());
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
  if (c.stage() == "load") clock_.OnBatchLoaded();  // a test clock moves on
  last_progress_ = Clock::now();
  return Status::Ok();
}

Status Coordinator::OnStreamDone(const v1::StreamDone& d) {
  if (!Current(d.last())) return Status::Ok();
  if (d.stage() == "extract") {
    auto it = streams_.find(d.last().source());
    if (it == streams_.end()) return Status::Ok();
    // Only the latest stream lease can end the stream.
    if (it->second.segments.empty() || it->second.segments.back().second != d.epoch()) {
      return Status::Ok();
    }
    it->second.done = true;
    it->second.batches = d.batches();
    LogInfo(log_, "source " + d.last().source() + " extracted in " + std::to_string(d.batches()) +
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
  switch (phase_) {
    case Phase::kIngest: {
      std::string s = "ingesting " + Entity() + ": ";
      for (const auto& [source, st] : streams_) {
        s += source + (st.done ? " extracted" : " extracting") + "; ";
      }
      return s;
    }
    case Phase::kResolve:
      return "waiting for the deduper to resolve " + Entity();
    case Phase::kOutput:
      return "loading " + Entity();
    case Phase::kReconcile:
      return "reconciling wave " + plan_.waves[wave_].name;
  }
  return "";
}

}  // namespace sluice::coordination
