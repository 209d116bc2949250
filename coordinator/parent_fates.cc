// Issue 14: before an entity loads, every loader learns which records of the
// entities it references have no row of their own (rejected, or held for
// review), so that a child of one follows its parent's fate instead of being
// called an orphan (loader/references.h, docs/consolidation.md).
#include <algorithm>
#include <set>

#include "coordinator/coordinator.h"

namespace sluice::coordination {

Result<v1::Envelope> Coordinator::CollectParentFates(const std::string& parent) const {
  v1::Envelope env;
  v1::ParentFates* out = env.mutable_parent_fates();
  out->set_run_id(summary_.run_id);
  out->set_entity(parent);
  int wave = -1;
  for (size_t w = 0; w < plan_.waves.size(); ++w) {
    const auto& entities = plan_.waves[w].entities;
    if (std::find(entities.begin(), entities.end(), parent) != entities.end()) {
      wave = static_cast<int>(w);
    }
  }
  if (wave < 0 || wave > waves_.wave())
    return env;  // not migrated by this plan: orphans stay orphans
  // A wave before a resume's start was migrated by the run it resumed.
  const std::string run = wave < options_.start_wave && !options_.resumed_from.empty()
                              ? options_.resumed_from
                              : summary_.run_id;
  SLUICE_RETURN_IF_ERROR(audit_->ForEachUnloadedFate(run, wave, parent, [&](const FateRow& row) {
    v1::ParentFate* f = out->add_fates();
    f->set_source(row.fate.source());
    f->set_key(row.fate.key());
    f->set_kind(row.fate.kind());
    f->set_rule(row.fate.rule());
    f->set_stage(row.fate.stage());
    f->set_reason(row.fate.reason());
  }));
  return env;
}

Status Coordinator::SendParentFates(const std::string& child) {
  const Entity* entity = plan_.model.Find(child);
  if (entity == nullptr) return Status::Ok();
  std::set<std::string> parents;
  for (const ModelField& f : entity->fields) {
    // A reference to the entity itself is settled by the loader as its
    // rows arrive (loader/self_references.h).
    if (f.type == FieldType::kReference && f.references != child) parents.insert(f.references);
  }
  for (const std::string& parent : parents) {
    auto it = parent_fates_.find(parent);
    if (it == parent_fates_.end()) {
      SLUICE_ASSIGN_OR_RETURN(v1::Envelope env, CollectParentFates(parent));
      it = parent_fates_.emplace(parent, std::move(env)).first;
    }
    for (const auto& [identity, w] : roster_.workers()) {
      if (w.role == "loader" && w.alive && w.replied) {
        SLUICE_RETURN_IF_ERROR(SendToWorker(identity, it->second).status());
      }
    }
  }
  return Status::Ok();
}

Status Coordinator::SendParentFatesTo(const std::string& identity) {
  for (const auto& [parent, env] : parent_fates_) {
    SLUICE_ASSIGN_OR_RETURN(bool sent, SendToWorker(identity, env));
    if (!sent) break;
  }
  return Status::Ok();
}

}  // namespace sluice::coordination
