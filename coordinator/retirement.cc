// Issue 23, "a stale row cannot outlive its fate": an entity loaded and
// balanced whose records this run rejected or held may have rows that
// earlier runs loaded for them. Before the entity finishes (and before its
// children start and the wave reconciles) one loader retires those rows
// (loader/retirement.h) and answers with a `retire` commit, recorded here
// in the audit store.
#include "common/connectors/connector.h"
#include "coordinator/coordinator.h"

namespace sluice::coordination {

Result<bool> Coordinator::StartRetirement(EntityRun& run) {
  SLUICE_ASSIGN_OR_RETURN(v1::Envelope env, CollectParentFates(run.entity));
  if (env.parent_fates().fates_size() == 0) return false;
  // Kept with the parent fates: the entity's children are sent the same
  // message, and a loader that registers later gets it (SendParentFatesTo)
  // and answers, should the one asked die first.
  parent_fates_[run.entity] = env;
  // One loader retires; several would race for the same rows.
  for (const auto& [identity, w] : roster_.workers()) {
    if (w.role == "loader" && w.alive && w.replied) {
      SLUICE_RETURN_IF_ERROR(control_->Send(identity, env));
      break;
    }
  }
  run.retiring = true;
  progress_.SetPhase(run.entity, "retire");
  last_progress_ = Now();
  return true;
}

Status Coordinator::OnRowsRetired(const std::string& from, const v1::Commit& c) {
  const Worker* w = roster_.Find(from);
  if (w == nullptr || w->role != "loader" || c.batch().run_id() != summary_.run_id) {
    return Status::Ok();
  }
  const std::string& entity = c.batch().entity();
  // Rows removed are recorded whoever removed them: a second answer (a
  // child's parent fates) finds none left.
  if (c.fates_size() > 0) {
    SLUICE_RETURN_IF_ERROR(audit_->RecordRetiredRows(summary_.run_id, waves_.wave(), c));
    LogInfo(EntityLog(entity), "entity " + entity + ": " + std::to_string(c.fates_size()) +
                                   " row(s) of earlier runs retired by " + from +
                                   " (records rejected or held in this run)");
  }
  auto it = waves_.runs().find(entity);
  if (it == waves_.runs().end() || !it->second.retiring) return Status::Ok();
  it->second.retiring = false;
  return CompleteEntity(entity);
}

}  // namespace sluice::coordination
