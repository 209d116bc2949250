#include "loader/retirement.h"

#include <chrono>
#include <map>

namespace sluice {
namespace {

// Rows removed (or, `soft_delete`, marked) answer as one fate each.
void AddRetired(const std::vector<RetiredRow>& rows,
                const std::map<SourceKey, const v1::ParentFate*>& by_key, bool soft,
                v1::Commit* c) {
  for (const RetiredRow& row : rows) {
    const v1::ParentFate& why = *by_key.at({row.source, row.key});
    v1::Fate* f = c->add_fates();
    f->set_kind(why.kind());
    f->set_source(row.source);
    f->set_key(row.key);
    f->set_stage("load");
    f->set_rule(soft ? "row_soft_deleted" : "row_retired");
    f->set_target_id(row.target_id);
    const char* what = why.kind() == v1::FATE_REVIEW ? "holds the record for review"
                       : why.kind() == v1::FATE_DELETED_AT_SOURCE
                           ? "found the record deleted at its source"  // issue 18
                           : "rejects the record";
    f->set_reason("row " + std::to_string(row.target_id) + " that an earlier run loaded is " +
                  (soft ? "marked deleted" : "retired") + ": this run " + what + " (" +
                  why.stage() + ", " + why.rule() + ")");
  }
}

}  // namespace

Result<v1::Commit> RetireUnloadedRows(const Plan& plan, const std::string& run_id,
                                      const v1::ParentFates& fates, Target* target) {
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return RetireUnloadedRows(plan, run_id, fates, target, now);
}

Result<v1::Commit> RetireUnloadedRows(const Plan& plan, const std::string& run_id,
                                      const v1::ParentFates& fates, Target* target,
                                      int64_t now_micros) {
  const Entity* entity = plan.model.Find(fates.entity());
  if (entity == nullptr)
    return Status::NotFound("entity " + fates.entity() + " is not in the model");
  std::vector<SourceKey> keys;
  // Deleted at a source whose plan says `soft_delete: FIELD`, by field.
  std::map<std::string, std::vector<SourceKey>> soft;
  std::map<SourceKey, const v1::ParentFate*> by_key;
  keys.reserve(static_cast<size_t>(fates.fates_size()));
  for (const v1::ParentFate& f : fates.fates()) {
    SourceKey k{f.source(), f.key()};
    by_key.emplace(k, &f);
    const SourceSpec* source = plan.FindSource(f.source());
    if (f.kind() == v1::FATE_DELETED_AT_SOURCE && source != nullptr &&
        !source->soft_delete_field.empty()) {
      soft[source->soft_delete_field].push_back(std::move(k));
    } else {
      keys.push_back(std::move(k));
    }
  }
  SLUICE_RETURN_IF_ERROR(target->Prepare(*entity));
  // A target that cannot retire still answers (with no row), so the wave
  // goes on; its reconciler's row count judges what stayed.
  Result<std::vector<RetiredRow>> retired = target->RetireRows(run_id, *entity, keys);
  if (!retired.ok() && retired.status().code() != StatusCode::kFailedPrecondition) {
    return retired.status();
  }
  v1::Commit c;
  c.set_stage(kRetireStage);
  c.mutable_batch()->set_run_id(run_id);
  c.mutable_batch()->set_entity(entity->name);
  c.mutable_batch()->set_source(kRetireStage);
  c.mutable_counts()->set_in(static_cast<uint64_t>(fates.fates_size()));
  if (retired.ok()) AddRetired(*retired, by_key, false, &c);
  for (const auto& [field, marked_keys] : soft) {
    // Never a hard delete in its place: a target that cannot mark fails.
    SLUICE_ASSIGN_OR_RETURN(
        std::vector<RetiredRow> marked,
        target->SoftDeleteRows(run_id, *entity, field, marked_keys, now_micros));
    AddRetired(marked, by_key, true, &c);
  }
  c.mutable_counts()->set_out(static_cast<uint64_t>(c.fates_size()));
  return c;
}

}  // namespace sluice
