#include "loader/load_worker.h"

namespace sluice {

Status LoadLogic::Start(const WorkerContext& ctx) {
  ctx_ = ctx;
  SLUICE_ASSIGN_OR_RETURN(target_, OpenTarget(ctx_.plan.target));
  return Status::Ok();
}

v1::Commit LoadLogic::MakeLoadCommit(const Entity& entity, const RecordBatch& batch,
                                     const LoadOutcome& outcome) {
  std::vector<v1::Fate> fates = outcome.rejects;
  std::vector<Record> loaded;
  std::set<std::pair<std::string, std::string>> refused;
  for (const auto& f : outcome.rejects) refused.insert({f.source(), f.key()});
  std::map<std::string, int64_t> sums;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    const Record& r = batch.records[i];
    if (refused.count({r.source, r.key})) continue;
    v1::Fate f;
    f.set_kind(v1::FATE_LOADED);
    f.set_source(r.source);
    f.set_key(r.key);
    f.set_stage("load");
    f.set_line(r.line);
    f.set_target_id(i < outcome.target_ids.size() ? outcome.target_ids[i] : 0);
    f.set_content_hash(r.content_hash);
    if (i < outcome.actions.size()) {
      char a = outcome.actions[i];
      f.set_rule(a == LoadOutcome::kInserted  ? "inserted"
                 : a == LoadOutcome::kUpdated ? "updated"
                                              : "unchanged");
    }
    fates.push_back(std::move(f));
    for (size_t c = 0; c < batch.schema.fields.size(); ++c) {
      if (batch.schema.fields[c].type == FieldType::kDecimal && !r.values[c].is_null) {
        sums[batch.schema.fields[c].name] += r.values[c].i;
      }
    }
  }
  // Passed on = loaded; LOADED fates are terminal, so `out` stays 0 and the
  // ledger's in = out + loaded + rejected holds at this stage.
  v1::Commit c = MakeCommit("load", batch, {}, fates);
  auto* counts = c.mutable_counts();
  counts->set_inserted(outcome.inserted);
  counts->set_updated(outcome.updated);
  counts->set_unchanged(outcome.unchanged);
  for (const auto& f : entity.fields) {
    if (f.type == FieldType::kDecimal) (*c.mutable_decimal_sums())[f.name] = sums[f.name];
  }
  return c;
}

Status LoadLogic::OnBatch(RecordBatch batch, StageEmitter& out) {
  if (halted_) return Status::Ok();  // nothing more is loaded after a halt
  const Entity* entity = ctx_.plan.model.Find(batch.id.entity());
  if (entity == nullptr) return Status::NotFound("entity " + batch.id.entity() + " is not in the model");
  if (!prepared_.count(entity->name)) {
    SLUICE_RETURN_IF_ERROR(target_->Prepare(*entity));
    prepared_.insert(entity->name);
  }
  SLUICE_ASSIGN_OR_RETURN(LoadOutcome outcome, target_->Load(ctx_.run_id, *entity, batch));
  out.Commit(MakeLoadCommit(*entity, batch, outcome));
  return Status::Ok();
}

}  // namespace sluice
