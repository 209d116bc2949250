#include "loader/load_worker.h"

#include <algorithm>
#include <map>
#include <string_view>

#include "common/audit/loaded_pack.h"
#include "loader/references.h"
#include "loader/retirement.h"

namespace sluice {

Status LoadLogic::Start(const WorkerContext& ctx) {
  ctx_ = ctx;
  SLUICE_ASSIGN_OR_RETURN(target_, OpenTarget(ctx_.plan.target));
  if (target_->ConcurrentLoads()) {
    // Two connections of their own: one batch's transaction runs on the
    // server while the next one's rows are sent on the other.
    constexpr int kPipelineDepth = 2;
    std::vector<std::unique_ptr<Target>> targets;
    for (int i = 0; i < kPipelineDepth; ++i) {
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Target> t, OpenTarget(ctx_.plan.target));
      targets.push_back(std::move(t));
    }
    pipeline_ = std::make_unique<LoadPipeline>(std::move(targets));
  }
  self_refs_ = std::make_unique<SelfReferences>(&ctx_.plan, ctx_.run_id, target_.get());
  return Status::Ok();
}

v1::Commit LoadLogic::MakeLoadCommit(const Entity& entity, const RecordBatch& batch,
                                     const LoadOutcome& outcome,
                                     const std::vector<std::string>* parents) {
  // Passed on = loaded; LOADED fates are terminal, so `out` stays 0 and the
  // ledger's in = out + loaded + rejected holds at this stage. The LOADED
  // fates are built in place, after the rejections, rather than copied.
  v1::Commit c = MakeCommit("load", batch, {}, outcome.rejects);
  // Warnings (orphans loaded with a NULL reference) are not terminal: their
  // records still get a LOADED fate.
  std::set<std::pair<std::string_view, std::string_view>> refused;
  for (const auto& f : outcome.rejects) {
    if (f.kind() != v1::FATE_WARNING) refused.emplace(f.source(), f.key());
  }
  std::vector<size_t> decimals;
  for (size_t col = 0; col < batch.schema.fields.size(); ++col) {
    if (batch.schema.fields[col].type == FieldType::kDecimal) decimals.push_back(col);
  }
  std::vector<int64_t> sums(decimals.size(), 0);
  // The LOADED fates go packed in one string (loaded_pack.h), not as a
  // v1::Fate each: the coordinator stores them as a pack all the same.
  std::string* packed = c.mutable_loaded_fates();
  packed->reserve(batch.records.size() * 256);
  LoadedWireWriter wire(packed);
  for (size_t i = 0; i < batch.records.size(); ++i) {
    const Record& r = batch.records[i];
    if (!refused.empty() && refused.count({r.source, r.key})) continue;
    std::string_view rule;
    if (i < outcome.actions.size()) {
      char a = outcome.actions[i];
      rule = a == LoadOutcome::kInserted  ? "inserted"
             : a == LoadOutcome::kUpdated ? "updated"
                                          : "unchanged";
    }
    const std::string_view parent =
        parents != nullptr && i < parents->size() ? std::string_view((*parents)[i]) : "";
    // What was loaded, for the reconciler's field-level differences (issue 17).
    wire.Add(r.source, r.key, i < outcome.target_ids.size() ? outcome.target_ids[i] : 0,
             r.content_hash, rule, parent, r.line,
             [&](std::string* out) { EncodeCanonical(batch.schema, r.values, out); });
    for (size_t d = 0; d < decimals.size(); ++d) {
      const Value& v = r.values[decimals[d]];
      if (!v.is_null) sums[d] += v.i;
    }
  }
  auto* counts = c.mutable_counts();
  counts->set_inserted(outcome.inserted);
  counts->set_updated(outcome.updated);
  counts->set_unchanged(outcome.unchanged);
  std::map<std::string, int64_t> by_name;
  for (size_t d = 0; d < decimals.size(); ++d)
    by_name[batch.schema.fields[decimals[d]].name] = sums[d];
  for (const auto& f : entity.fields) {
    if (f.type == FieldType::kDecimal) (*c.mutable_decimal_sums())[f.name] = by_name[f.name];
  }
  return c;
}

bool LoadLogic::Pipelined(const Entity& entity) const {
  if (pipeline_ == nullptr) return false;
  for (const Entity& e : ctx_.plan.model.entities) {
    for (const ModelField& f : e.fields) {
      if (f.type != FieldType::kReference) continue;
      if (e.name == entity.name || f.references == entity.name) return false;
    }
  }
  return true;
}

Status LoadLogic::EmitLoads(std::vector<FinishedLoad> done, StageEmitter& out) {
  Status first;
  for (FinishedLoad& f : done) {
    if (!f.outcome.ok()) {
      if (first.ok()) first = f.outcome.status();
      continue;
    }
    const Entity* entity = ctx_.plan.model.Find(f.entity);
    if (entity == nullptr) return Status::Internal("entity " + f.entity + " left the model");
    out.Commit(MakeLoadCommit(*entity, f.batch, *f.outcome));
  }
  return first;
}

Status LoadLogic::Drain(StageEmitter& out) {
  if (pipeline_ == nullptr || pipeline_->in_flight() == 0) return Status::Ok();
  std::vector<FinishedLoad> done;
  pipeline_->Collect(/*wait=*/true, &done);
  return EmitLoads(std::move(done), out);
}

Status LoadLogic::OnTick(StageEmitter& out) {
  if (pipeline_ == nullptr || pipeline_->in_flight() == 0) return Status::Ok();
  std::vector<FinishedLoad> done;
  pipeline_->Collect(/*wait=*/false, &done);
  return EmitLoads(std::move(done), out);
}

void LoadLogic::OnHalt(const std::string& reason) {
  halted_ = true;
  if (self_refs_) self_refs_->Clear();
  // Nothing more is reported after a halt; a load that commits meanwhile is
  // found applied (a replay) when the run resumes, or undone by rollback.
  std::vector<FinishedLoad> dropped;
  if (pipeline_) pipeline_->Collect(/*wait=*/true, &dropped);
}

Status LoadLogic::OnControl(const v1::Envelope& message, StageEmitter& out) {
  if (message.has_parent_fates() && message.parent_fates().run_id() == ctx_.run_id) {
    SLUICE_RETURN_IF_ERROR(Drain(out));
    parents_.Set(message.parent_fates());
    // The same records' rows of earlier runs go (loader/retirement.h).
    SLUICE_ASSIGN_OR_RETURN(
        v1::Commit retired,
        RetireUnloadedRows(ctx_.plan, ctx_.run_id, message.parent_fates(), target_.get()));
    out.Commit(std::move(retired));
  }
  return Status::Ok();
}

Status LoadLogic::OnBatch(RecordBatch batch, StageEmitter& out) {
  if (halted_) return Status::Ok();  // nothing more is loaded after a halt
  const Entity* entity = ctx_.plan.model.Find(batch.id.entity());
  if (entity == nullptr)
    return Status::NotFound("entity " + batch.id.entity() + " is not in the model");
  if (!prepared_.count(entity->name)) {
    // The entities that refer to it first: a row this load retires for a
    // survivor takes the references to it along (Target::Prepare).
    for (const Entity& other : ctx_.plan.model.entities) {
      for (const ModelField& f : other.fields) {
        if (f.type != FieldType::kReference || f.references != entity->name) continue;
        SLUICE_RETURN_IF_ERROR(target_->Prepare(other));
        break;
      }
    }
    SLUICE_RETURN_IF_ERROR(target_->Prepare(*entity));
    prepared_.insert(entity->name);
  }
  if (Pipelined(*entity)) {
    std::vector<FinishedLoad> done;
    pipeline_->Start(ctx_.run_id, *entity, std::move(batch), &done);
    return EmitLoads(std::move(done), out);
  }
  SLUICE_RETURN_IF_ERROR(Drain(out));
  // Parents' target ids replace the children's source keys; orphans are
  // rejected or held here (or loaded with a NULL reference under a warning
  // rule) and the rest of the batch loads without them. Records referencing
  // their own entity wait in self_refs_ for their parents.
  SLUICE_ASSIGN_OR_RETURN(ReferenceOutcome refs,
                          ResolveReferences(ctx_.plan, *entity, target_.get(), &batch, &parents_));
  const std::vector<bool> deferred = SelfReferences::Deferred(*entity, batch, refs.orphaned);
  const bool defer = std::find(deferred.begin(), deferred.end(), true) != deferred.end();
  const v1::BatchId id = batch.id;
  LoadOutcome outcome;
  std::vector<Record> kept_records;
  const std::vector<Record>* loaded = &batch.records;
  if (refs.orphans.empty() && !defer) {
    SLUICE_ASSIGN_OR_RETURN(outcome, target_->Load(ctx_.run_id, *entity, batch));
  } else {
    RecordBatch kept;
    kept.id = batch.id;
    kept.epoch = batch.epoch;
    kept.range = batch.range;
    kept.schema = batch.schema;
    auto skipped = [&](size_t i) {
      return (!refs.orphaned.empty() && refs.orphaned[i]) || deferred[i];
    };
    for (size_t i = 0; i < batch.records.size(); ++i) {
      if (!skipped(i)) kept.records.push_back(batch.records[i]);
    }
    SLUICE_ASSIGN_OR_RETURN(LoadOutcome part, target_->Load(ctx_.run_id, *entity, kept));
    // The outcome again per record of the whole batch, the others included.
    outcome = part;
    outcome.target_ids.clear();
    outcome.actions.clear();
    for (size_t i = 0, k = 0; i < batch.records.size(); ++i) {
      const bool skip = skipped(i);
      outcome.target_ids.push_back(skip || k >= part.target_ids.size() ? 0 : part.target_ids[k]);
      outcome.actions.push_back(skip || k >= part.actions.size() ? LoadOutcome::kUnchanged
                                                                 : part.actions[k]);
      if (!skip) ++k;
    }
    kept_records = std::move(kept.records);
    loaded = &kept_records;
  }
  for (v1::Fate& f : refs.orphans) outcome.rejects.push_back(std::move(f));
  for (v1::Fate& f : refs.warnings) outcome.rejects.push_back(std::move(f));
  if (defer) {
    self_refs_->Loaded(id, *loaded);
    self_refs_->Hold(*entity, std::move(batch), std::move(outcome), std::move(refs.review_items),
                     deferred);
  } else {
    v1::Commit commit = MakeLoadCommit(*entity, batch, outcome, &refs.parents);
    for (v1::ReviewItem& item : refs.review_items) *commit.add_review_items() = std::move(item);
    out.Commit(std::move(commit));
    if (!self_refs_->Holding(id)) return Status::Ok();
    self_refs_->Loaded(id, *loaded);
  }
  // This batch may have brought the parents of held records.
  SLUICE_ASSIGN_OR_RETURN(std::vector<SettledBatch> settled, self_refs_->Settle(*entity, id));
  for (SettledBatch& s : settled) {
    v1::Commit commit = MakeLoadCommit(*entity, s.batch, s.outcome);
    for (v1::ReviewItem& item : s.review_items) *commit.add_review_items() = std::move(item);
    out.Commit(std::move(commit));
  }
  return Status::Ok();
}

}  // namespace sluice
