#include "loader/retirement.h"

#include <map>

namespace sluice {

Result<v1::Commit> RetireUnloadedRows(const Plan& plan, const std::string& run_id,
                                      const v1::ParentFates& fates, Target* target) {
  const Entity* entity = plan.model.Find(fates.entity());
  if (entity == nullptr)
    return Status::NotFound("entity " + fates.entity() + " is not in the model");
  std::vector<SourceKey> keys;
  std::map<SourceKey, const v1::ParentFate*> by_key;
  keys.reserve(static_cast<size_t>(fates.fates_size()));
  for (const v1::ParentFate& f : fates.fates()) {
    keys.push_back({f.source(), f.key()});
    by_key.emplace(keys.back(), &f);
  }
  SLUICE_RETURN_IF_ERROR(target->Prepare(*entity));
  // A target that cannot retire still answers (with no row), so the wave
  // goes on; its reconciler's row count judges what stayed.
  Result<std::vector<RetiredRow>> retired = target->RetireRows(run_id, *entity, keys);
  if (!retired.ok() && retired.status().code() != StatusCode::kFailedPrecondition) {
    return retired.status();
  }
  const std::vector<RetiredRow> rows =
      retired.ok() ? std::move(retired).value() : std::vector<RetiredRow>{};
  v1::Commit c;
  c.set_stage(kRetireStage);
  c.mutable_batch()->set_run_id(run_id);
  c.mutable_batch()->set_entity(entity->name);
  c.mutable_batch()->set_source(kRetireStage);
  c.mutable_counts()->set_in(static_cast<uint64_t>(fates.fates_size()));
  c.mutable_counts()->set_out(rows.size());
  for (const RetiredRow& row : rows) {
    const v1::ParentFate& why = *by_key.at({row.source, row.key});
    v1::Fate* f = c.add_fates();
    f->set_kind(why.kind());
    f->set_source(row.source);
    f->set_key(row.key);
    f->set_stage("load");
    f->set_rule("row_retired");
    f->set_target_id(row.target_id);
    const char* what = why.kind() == v1::FATE_REVIEW ? "holds the record for review"
                       : why.kind() == v1::FATE_DELETED_AT_SOURCE
                           ? "found the record deleted at its source"  // issue 18
                           : "rejects the record";
    f->set_reason("row " + std::to_string(row.target_id) +
                  " that an earlier run loaded is retired: this run " + what + " (" + why.stage() +
                  ", " + why.rule() + ")");
  }
  return c;
}

}  // namespace sluice
