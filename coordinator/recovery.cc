// Worker liveness, recovery from a dead worker, and the leases the
// coordinator sends. A dead worker's work is leased again for every entity
// in flight in the wave, each according to where that entity is.
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
  LogWarn(log_, "recovering from the loss of the " + role + " (" + std::to_string(runs_.size()) +
                    " entit" + (runs_.size() == 1 ? "y" : "ies") + " in flight)");
  for (auto& [entity, run] : runs_) RecoverEntity(run, role);
  if (reconciling_ && role == "reconciler") LeaseReconcile();
}

void Coordinator::RecoverEntity(EntityRun& run, const std::string& role) {
  const std::string& entity = run.entity;
  if (run.phase == Phase::kIngest) {
    if (role == "extractor") {
      for (auto& [source, stream] : run.streams) {
        if (stream.done) continue;
        // Resume after the last batch whose extraction was committed.
        uint64_t seq = 0;
        v1::BatchRange resume;
        while (const v1::BatchRange* r = ledger_.Range(IngestBatch(entity, source, seq))) {
          resume.set_begin_offset(r->end_offset());
          ++seq;
        }
        if (seq > 0) {
          const v1::BatchRange* last = ledger_.Range(IngestBatch(entity, source, seq - 1));
          resume.set_first_line(last->first_line());  // refined by the source on Seek
        }
        uint64_t epoch = NextEpoch();
        stream.segments.emplace_back(seq, epoch);
        LeaseStream(run, source, epoch, resume, seq);
      }
    }
    if (role == "extractor" || role == "transformer" || role == "deduper") {
      for (auto& [source, stream] : run.streams) {
        for (uint64_t seq = 0;; ++seq) {
          std::string name = IngestBatch(entity, source, seq);
          const v1::BatchRange* range = ledger_.Range(name);
          if (range == nullptr) break;
          if (ledger_.Has(name, "dedup_ingest")) continue;
          v1::Lease lease =
              Reissue(IngestId(entity, source, seq), "extract", v1::Lease::KIND_EXTRACT_BATCH);
          *lease.mutable_range() = *range;
          pending_.push_back({"extractor", lease});
        }
      }
    }
  } else if (run.phase == Phase::kResolve || run.phase == Phase::kOutput) {
    if (!run.resolved && dedup_.count(entity) &&
        (role == "deduper" || role == "validator" || role == "loader")) {
      // N dedup shards mid-resolve: bring each dead shard's replacement back
      // into the current round; the others go on (dedup_shards.h). A shard
      // that resolved already emits before the others: what it emitted to a
      // dead validator or loader is emitted again.
      for (const auto& [id, w] : workers_) {
        if (w.role != "deduper") continue;
        if (role == "deduper" ? w.alive : !dedup_.at(entity).Resolved(w.ordinal)) continue;
        std::vector<v1::BatchId> resend;
        const std::string to = DedupShards::Identity(w.ordinal);
        for (auto& lease : dedup_.at(entity).Redrive(w.ordinal, &resend)) {
          pending_.push_back(std::move(lease));
        }
        for (const v1::BatchId& b : resend) {
          if (ledger_.Has(BatchName(b), "load")) continue;
          pending_.push_back({to, Reissue(b, "dedup", v1::Lease::KIND_RESEND)});
        }
      }
    } else if (!run.resolved && role == "deduper") {
      LeaseResolve(run);
    } else if (run.resolved && (role == "deduper" || role == "validator" || role == "loader")) {
      // On N dedup shards a batch is resent by the shard that emitted it,
      // which a replacement first rebuilds from every shard's edges.
      const bool multi = dedup_shards_ > 1 && dedup_.count(entity);
      std::set<uint32_t> rebuilt;
      for (uint64_t seq = 0; seq < run.output_batches; ++seq) {
        if (ledger_.Has(OutputBatch(entity, seq), "load")) continue;
        const v1::BatchId id = OutputId(entity, seq);
        std::string to = "deduper";
        if (multi) {
          const uint32_t shard = DedupShards::ShardOf(id);
          to = DedupShards::Identity(shard);
          auto rebuild = dedup_.at(entity).RebuildLease(shard, run.resolve_epoch);
          if (role == "deduper" && rebuild && rebuilt.insert(shard).second) {
            pending_.push_back({to, *rebuild});
          }
        }
        pending_.push_back({to, Reissue(id, "dedup", v1::Lease::KIND_RESEND)});
      }
    }
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
      if ((w.role == role || w.identity == role) && w.alive && w.replied) live.push_back(&w);
    }
    if (!live.empty()) target = live[round_robin_++ % live.size()];
    if (target == nullptr) {
      waiting.emplace_back(role, lease);
      continue;
    }
    v1::Envelope env;
    *env.mutable_lease() = lease;
    if (lease.dedup_round() == 4) {
      // Where each dedup shard serves members now, not when leased.
      std::vector<std::string> peers(dedup_shards_);
      for (const auto& [id, w] : workers_) {
        if (w.role == "deduper" && w.ordinal < peers.size()) peers[w.ordinal] = w.member_endpoint;
      }
      DedupShards::FillPeers(peers, env.mutable_lease());
    }
    SLUICE_RETURN_IF_ERROR(control_->Send(target->identity, env));
  }
  pending_ = std::move(waiting);
  return Status::Ok();
}

void Coordinator::LeaseStream(const EntityRun& run, const std::string& source, uint64_t epoch,
                              const v1::BatchRange& from, uint64_t first_sequence) {
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_EXTRACT_SOURCE);
  *lease.mutable_batch() = IngestId(run.entity, source, 0);
  lease.set_epoch(epoch);
  *lease.mutable_range() = from;
  lease.set_next_sequence(first_sequence);
  pending_.push_back({"extractor", lease});
}

void Coordinator::LeaseResolve(EntityRun& run) {
  dedup_.erase(run.entity);  // an earlier resolve's rounds and output names
  run.resolve_epoch = NextEpoch();
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_RESOLVE);
  *lease.mutable_batch() = OutputId(run.entity, 0);
  lease.mutable_batch()->set_source("");
  lease.set_epoch(run.resolve_epoch);
  if (dedup_shards_ > 1) {
    // Four rounds over the shards (dedup_shards.h); a resolve leased again
    // starts over on every shard.
    auto& shards = dedup_[run.entity] =
        DedupShards(dedup_shards_, static_cast<uint64_t>(plan_.batch_size));
    for (auto& [identity, round] : shards.StartResolve(lease.batch(), run.resolve_epoch)) {
      pending_.push_back({identity, round});
    }
    return;
  }
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

v1::BatchId Coordinator::IngestId(const std::string& entity, const std::string& source,
                                  uint64_t seq) const {
  v1::BatchId id;
  id.set_run_id(summary_.run_id);
  id.set_wave(static_cast<uint32_t>(wave_));
  id.set_entity(entity);
  id.set_source(source);
  id.set_sequence(seq);
  return id;
}

}  // namespace sluice::coordination
