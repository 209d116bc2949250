// Recovery from a dead worker, and the leases the coordinator sends. A dead
// worker's work is leased again (under new epochs, lease_book.h) for every
// entity in flight in the wave, each according to where that entity is.
#include <filesystem>
#include <set>

#include "coordinator/coordinator.h"
#include "coordinator/dedup_shards.h"

namespace sluice::coordination {

v1::Lease Coordinator::Reissue(const v1::BatchId& id, Stage from_stage, v1::Lease::Kind kind) {
  // The batch is accounted afresh from `from_stage` on, under a new epoch:
  // what the old epoch recorded is forgotten and its late commits refused.
  v1::Lease lease = leases_.Reissue(id, kind);
  const std::string name = BatchName(id);
  ledger_.Lease(name, lease.epoch(), from_stage);
  Status st = audit_->DeleteBatchFates(summary_.run_id, name);
  if (!st.ok()) LogError(log_, st.ToString());
  return lease;
}

void Coordinator::Recover(const std::string& role) {
  auto& runs = waves_.runs();
  LogWarn(log_, "recovering from the loss of the " + role + " (" + std::to_string(runs.size()) +
                    " entit" + (runs.size() == 1 ? "y" : "ies") + " in flight)");
  for (auto& [entity, run] : runs) RecoverEntity(run, role);
  if (role == "extractor") RequeuePinChecks();      // pin_check.cc
  if (role == "extractor") RequeueDeletionScans();  // delta.cc
  if (waves_.reconciling() && role == "reconciler" && pin_checks_.empty()) LeaseReconcile();
}

void Coordinator::RecoverEntity(EntityRun& run, const std::string& role) {
  const std::string& entity = run.entity;
  const bool feeds_dedup = role == "extractor" || role == "transformer" || role == "deduper";
  const bool after_dedup = role == "deduper" || role == "validator" || role == "loader";
  if (run.phase == Phase::kIngest) {
    if (role == "extractor") {
      for (auto& [source, stream] : run.streams) {
        if (stream.done) continue;
        // Resume after the last batch whose extraction was committed. The
        // line there is not known here (first_line 0): a text source counts
        // it on Seek, so that the rows after it keep their line numbers
        // (and a row without a key its `line:N` key).
        uint64_t seq = 0;
        v1::BatchRange resume;
        while (const v1::BatchRange* r =
                   ledger_.Range(BatchName(waves_.IngestId(entity, source, seq)))) {
          resume.set_begin_offset(r->end_offset());
          ++seq;
        }
        leases_.LeaseStream(waves_.IngestId(entity, source, seq), resume);
      }
    }
    if (feeds_dedup) {
      for (auto& [source, stream] : run.streams) {
        for (uint64_t seq = 0;; ++seq) {
          const v1::BatchId id = waves_.IngestId(entity, source, seq);
          const std::string name = BatchName(id);
          const v1::BatchRange* range = ledger_.Range(name);
          if (range == nullptr) break;
          if (ledger_.Has(name, Stage::kDedupIngest)) continue;
          v1::Lease lease = Reissue(id, Stage::kExtract, v1::Lease::KIND_EXTRACT_BATCH);
          *lease.mutable_range() = *range;
          leases_.Queue("extractor", std::move(lease));
        }
      }
    }
    return;
  }
  if (!run.resolved && run.shards && after_dedup) {
    // N dedup shards mid-resolve: bring each dead shard's replacement back
    // into the current round; the others go on (dedup_shards.h). A shard
    // that resolved already emits before the others: what it emitted to a
    // dead validator or loader is emitted again.
    for (const auto& [id, w] : roster_.workers()) {
      if (w.role != "deduper") continue;
      if (role == "deduper" ? w.alive : !run.shards->Resolved(w.ordinal)) continue;
      std::vector<v1::BatchId> resend;
      const std::string to = DedupShards::Identity(w.ordinal);
      for (auto& [shard, lease] : run.shards->Redrive(w.ordinal, &resend)) {
        leases_.Queue(std::move(shard), std::move(lease));
      }
      for (const v1::BatchId& b : resend) {
        if (ledger_.Has(BatchName(b), Stage::kLoad)) continue;
        leases_.Queue(to, Reissue(b, Stage::kDedupOutput, v1::Lease::KIND_RESEND));
      }
    }
  } else if (!run.resolved && role == "deduper") {
    LeaseResolve(run);
  } else if (run.resolved && after_dedup) {
    // On N dedup shards a batch is resent by the shard that emitted it,
    // which a replacement first rebuilds from every shard's edges.
    std::set<uint32_t> rebuilt;
    for (uint64_t seq = 0; seq < run.output_batches; ++seq) {
      const v1::BatchId id = waves_.OutputId(run, seq);
      if (ledger_.Has(BatchName(id), Stage::kLoad)) continue;
      std::string to = "deduper";
      if (dedup_shards_ > 1 && run.shards) {
        const uint32_t shard = run.shards->OutputShard(seq);
        to = DedupShards::Identity(shard);
        auto rebuild = run.shards->RebuildLease(shard, leases_.ResolveEpoch(id));
        if (role == "deduper" && rebuild && rebuilt.insert(shard).second) {
          leases_.Queue(to, std::move(*rebuild));
        }
      }
      leases_.Queue(to, Reissue(id, Stage::kDedupOutput, v1::Lease::KIND_RESEND));
    }
  }
}

Status Coordinator::DispatchLeases() {
  for (auto& [identity, lease] : leases_.Assign(roster_)) {
    v1::Envelope env;
    *env.mutable_lease() = std::move(lease);
    pins_.Fill(env.mutable_lease());   // extraction: the source as the run first read it
    delta_.Fill(env.mutable_lease());  // and above the run's mark (issue 18)
    NoteLease(identity, env.lease());
    poison_.Leased(identity, env.lease());
    if (DedupShards::NeedsPeers(env.lease())) {
      // Where each dedup shard serves members (and rows) now, not when leased.
      DedupShards::FillPeers(roster_.MemberEndpoints(dedup_shards_), env.mutable_lease());
      if (keys_) {
        for (const std::string& key : roster_.MemberKeys(dedup_shards_)) {
          env.mutable_lease()->add_dedup_peer_keys(key);
        }
      }
    }
    // A worker gone since its last message: what it held, this lease
    // included, is leased again.
    SLUICE_ASSIGN_OR_RETURN(bool sent, SendToWorker(identity, env));
    if (!sent) continue;
    if (env.lease().kind() == v1::Lease::KIND_RESOLVE) MaybeDie("resolve");
    if (env.lease().kind() == v1::Lease::KIND_RECONCILE) MaybeDie("reconcile");
  }
  return Status::Ok();
}

Result<bool> Coordinator::SendToWorker(const std::string& identity, const v1::Envelope& env) {
  Status sent = control_->Send(identity, env);
  if (sent.code() != StatusCode::kUnavailable) {
    SLUICE_RETURN_IF_ERROR(sent);
    return true;
  }
  LogWarn(log_, "worker " + identity + " is unreachable: " + sent.message());
  OnDeath(identity);
  if (!options_.local) roster_.NextGeneration(identity);
  return false;
}

void Coordinator::LeaseResolve(EntityRun& run) {
  run.shards.reset();  // an earlier resolve's rounds and output names
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_RESOLVE);
  *lease.mutable_batch() = waves_.OutputId(run, 0);
  lease.mutable_batch()->set_source("");
  lease.set_epoch(leases_.OpenResolve(lease.batch()));
  if (dedup_shards_ > 1) {
    // Four rounds over the shards (dedup_shards.h); a resolve leased again
    // starts over on every shard.
    // The shards' resolutions wait in the state folder until all came.
    run.shards.emplace(dedup_shards_, static_cast<uint64_t>(plan_.batch_size),
                       (std::filesystem::path(plan_.state_dir) / "resolving" / run.entity).string(),
                       resolve_part_bytes_);
    // A fuzzy spec: the transformers sent each shard its home records and
    // rows only; the pre-round brings the guest rows where they pair.
    const auto spec = plan_.dedup.find(run.entity);
    const bool preround = spec != plan_.dedup.end() && spec->second.fuzzy();
    for (auto& [identity, round] :
         run.shards->StartResolve(lease.batch(), lease.epoch(), preround)) {
      leases_.Queue(std::move(identity), std::move(round));
    }
    return;
  }
  leases_.Queue("deduper", std::move(lease));
}

void Coordinator::LeaseReconcile() {
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_RECONCILE);
  lease.mutable_batch()->set_run_id(summary_.run_id);
  lease.mutable_batch()->set_wave(static_cast<uint32_t>(waves_.wave()));
  reconcile_epoch_ = leases_.NextEpoch();  // only its holder's result is believed
  lease.set_epoch(reconcile_epoch_);
  StartReconcileFeed();
  leases_.Queue("reconciler", std::move(lease));
}

}  // namespace sluice::coordination
