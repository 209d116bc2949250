#include "cli/compare_read.h"

#include <map>

#include "common/core/limits.h"
#include "loader/references.h"
#include "transformer/transform.h"
#include "validator/validate.h"

namespace sluice::cli {
namespace {

bool Terminal(const v1::Fate& f) {
  return f.kind() == v1::FATE_REJECTED || f.kind() == v1::FATE_REVIEW;
}

// "rejected by value_map: unmapped value 'XX' in map of specialty".
std::string Why(const v1::Fate& f) {
  std::string why = f.kind() == v1::FATE_REVIEW ? "held for review" : "rejected";
  if (!f.rule().empty()) why += " by " + f.rule();
  if (!f.reason().empty()) why += ": " + f.reason();
  return why;
}

// References of the entity to itself (`hcp.parent_id`): the loader settles
// them once the entity is in; here its rows are, so they are rewritten to
// target ids at once. A key that resolves to nothing is left as it is (and
// shows as a difference).
Status ResolveSelfReferences(const Plan& plan, const Entity& entity, Target* target,
                             RecordBatch* batch) {
  for (size_t c : SelfReferenceColumns(entity)) {
    std::map<std::string, std::map<std::string, int64_t>> wanted;  // parent source -> key -> id
    for (const Record& r : batch->records) {
      const Value& v = r.values[c];
      if (!v.is_null && !v.s.empty()) wanted[ParentSource(plan, r.source)][v.s] = 0;
    }
    for (auto& [source, keys] : wanted) {
      std::vector<std::string> list;
      for (const auto& [key, id] : keys) list.push_back(key);
      SLUICE_ASSIGN_OR_RETURN(auto ids, target->ResolveKeys(entity.name, source, list));
      for (size_t i = 0; i < list.size(); ++i) keys[list[i]] = ids[i];
    }
    for (Record& r : batch->records) {
      Value& v = r.values[c];
      if (v.is_null || v.s.empty()) continue;
      const int64_t id = wanted[ParentSource(plan, r.source)][v.s];
      if (id != 0) v.s = std::to_string(id);
    }
  }
  return Status::Ok();
}

// One source of the entity, batch by batch, as the pipeline maps it.
Status ReadSource(const Plan& plan, const Entity& entity, const SourceSpec& spec,
                  const v1::ReviewDecisions& decisions, EntityValidator* validator, Target* target,
                  LiveComparison* comparison, ComparedSide* side) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Source> source, OpenSource(spec));
  std::unique_ptr<EntityTransformer> mapper;
  const Schema schema = entity.ToSchema();
  const size_t rows =
      limits::BatchRows(static_cast<size_t>(plan.batch_size), source->schema().fields.size());
  RecordBatch raw, mapped;
  std::vector<v1::Fate> rejects, fates;
  std::vector<Record> kept;
  while (true) {
    raw.records.clear();
    rejects.clear();
    SLUICE_ASSIGN_OR_RETURN(bool got, source->Next(rows, &raw, &rejects));
    if (!got) break;
    raw.id.set_entity(entity.name);
    raw.id.set_source(spec.name);
    for (const v1::Fate& f : rejects) {
      SLUICE_RETURN_IF_ERROR(comparison->AddSourceReject(spec.name, f.key(), Why(f)));
      ++side->source_rejects;
    }
    if (mapper == nullptr) {
      SLUICE_ASSIGN_OR_RETURN(
          mapper, EntityTransformer::Create(plan, entity.name, spec.name, raw.schema, &decisions));
    }
    fates.clear();
    mapper->Apply(raw, &mapped, &fates);
    for (const v1::Fate& f : fates) {
      if (!Terminal(f)) continue;
      SLUICE_RETURN_IF_ERROR(comparison->AddSourceReject(spec.name, f.key(), Why(f)));
      ++side->source_rejects;
    }
    // The validator's record rules, as the deduper asks them (unique and
    // reference rules need the whole run: not judged here).
    std::vector<bool> judged_out(mapped.records.size(), false);
    for (size_t i = 0; i < mapped.records.size(); ++i) {
      if (auto fate = validator->Judge(mapped.records[i], schema)) {
        if (!Terminal(*fate)) continue;
        judged_out[i] = true;
        SLUICE_RETURN_IF_ERROR(
            comparison->AddSourceReject(spec.name, mapped.records[i].key, Why(*fate)));
        ++side->source_rejects;
      }
    }
    SLUICE_ASSIGN_OR_RETURN(ReferenceOutcome refs,
                            ResolveReferences(plan, entity, target, &mapped));
    for (const v1::Fate& f : refs.orphans) {
      SLUICE_RETURN_IF_ERROR(comparison->AddSourceReject(spec.name, f.key(), Why(f)));
      ++side->source_rejects;
    }
    SLUICE_RETURN_IF_ERROR(ResolveSelfReferences(plan, entity, target, &mapped));
    kept.clear();
    for (size_t i = 0; i < mapped.records.size(); ++i) {
      if (judged_out[i] || (!refs.orphaned.empty() && refs.orphaned[i])) continue;
      kept.push_back(std::move(mapped.records[i]));
    }
    side->source_records += kept.size();
    SLUICE_RETURN_IF_ERROR(comparison->AddSourceRecords(kept));
  }
  return Status::Ok();
}

}  // namespace

Result<ComparedSide> ReadBothSides(const Plan& plan, const Entity& entity,
                                   const std::set<std::string>& sources,
                                   const v1::ReviewDecisions& decisions, Target* target,
                                   LiveComparison* comparison) {
  ComparedSide side;
  ValidatorOptions options;
  options.today = RunDay("");
  options.decisions = &decisions;
  SLUICE_ASSIGN_OR_RETURN(auto validator, EntityValidator::Create(plan, entity.name, options));
  std::set<std::string> read;
  for (const Mapping* m : plan.MappingsFor(entity.name)) {
    if (!sources.empty() && !sources.count(m->source)) continue;
    const SourceSpec* spec = plan.FindSource(m->source);
    if (spec == nullptr) return Status::NotFound("source " + m->source + " is not in the plan");
    Status st =
        ReadSource(plan, entity, *spec, decisions, validator.get(), target, comparison, &side);
    SLUICE_RETURN_IF_ERROR(st.WithContext(entity.name + " from source " + m->source));
    read.insert(m->source);
  }
  uint64_t own_rows = 0;  // entries owning a row that exists
  SLUICE_RETURN_IF_ERROR(target->ScanRows(entity, [&](const TargetRow& row) {
    if (!row.merged && !row.values.empty()) ++own_rows;
    if (!sources.empty() && !read.count(row.source)) return;
    Status st = comparison->AddTargetRow(row);
    if (!st.ok()) side.note = st.message();
    ++side.target_entries;
  }));
  if (!side.note.empty()) return Status::IoError(side.note);
  // Rows without an entry are looked for only when the table holds more
  // rows than the entries own, as the reconciler does: the search is a
  // costly anti-join.
  auto rows = target->CountRows(entity);
  const bool strays = !rows.ok() || *rows > own_rows;
  if (sources.empty() && strays) {
    Status st = target->ScanRowsWithoutEntry(entity, [&](const TargetRow& row) {
      Status added = comparison->AddStrayRow(row);
      if (!added.ok()) side.note = added.message();
      ++side.stray_rows;
    });
    if (st.code() == StatusCode::kFailedPrecondition) {
      side.note = "this target cannot list rows without an entry";
    } else if (!st.ok()) {
      return st;
    } else if (!side.note.empty()) {
      return Status::IoError(side.note);
    }
  }
  return side;
}

}  // namespace sluice::cli
