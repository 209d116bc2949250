// A dedup resolution arrives in parts of bounded size (resolve_parts.h):
// each is recorded in the audit store as it comes, the ledger keeps a digest,
// and the resolution counts (the entity goes on to its output) only once
// its last part has come and everything adds up. A resolution that does not
// come whole (the deduper died between parts and the resolve was leased
// again, a part was lost, the run halted) leaves nothing recorded.
#include "coordinator/coordinator.h"

namespace sluice::coordination {

Status Coordinator::OnResolvePart(EntityRun& run, const v1::Commit& part, uint64_t resolve_epoch) {
  if (part.epoch() != resolve_epoch || run.resolved) return Status::Ok();
  const int wave = waves_.wave();
  auto it = resolving_.find(run.entity);
  if (it == resolving_.end() || it->second.epoch() != part.epoch()) {
    // A resolution starts (again, under a new lease): what another one
    // recorded of this entity's resolution goes first.
    if (it != resolving_.end()) AbandonResolution(run.entity);
    SLUICE_RETURN_IF_ERROR(
        audit_->ForgetResolution(summary_.run_id, wave, run.entity, BatchName(part.batch())));
    it = resolving_.emplace(run.entity, ResolveParts(BatchName(part.batch()), part.epoch())).first;
  }
  ResolveParts& parts = it->second;
  Status st = parts.Take(part);
  if (!st.ok()) {
    AbandonResolution(run.entity);
    Halt(st.message());
    return Status::Ok();
  }
  SLUICE_RETURN_IF_ERROR(audit_->RecordCommit(summary_.run_id, wave, part));
  last_progress_ = Now();
  if (!parts.complete()) {
    MaybeDie(part.stage());  // a test fault may kill it between parts
    return Status::Ok();
  }
  st = ledger_.ApplyResolution(parts.name(), parts.TakeDigest());
  if (!st.ok()) {
    AbandonResolution(run.entity);
    Halt(st.message());
    return Status::Ok();
  }
  resolving_.erase(run.entity);
  waves_.Resolved(run, part);  // the last part carries the counts
  MaybeDie(part.stage());
  progress_.OnCommit(run.entity, part);
  progress_.SetPhase(run.entity, "output");
  progress_.SetOutputBatches(run.entity, run.output_batches);
  return Status::Ok();
}

void Coordinator::AbandonResolution(const std::string& entity) {
  auto it = resolving_.find(entity);
  if (it == resolving_.end()) return;
  Status st = audit_->ForgetResolution(summary_.run_id, waves_.wave(), entity, it->second.name());
  if (!st.ok())
    LogError(log_, "cannot forget the partial resolution of " + entity + ": " + st.ToString());
  resolving_.erase(it);
}

}  // namespace sluice::coordination
