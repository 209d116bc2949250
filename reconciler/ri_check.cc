#include "reconciler/ri_check.h"

#include <charconv>
#include <set>

#include "common/core/target_ids.h"

namespace sluice {

Result<ReferenceCheck> CheckReferences(const Model& model, const Entity& entity, Target* target,
                                       DifferenceLog* log) {
  ReferenceCheck check;
  std::vector<size_t> columns;
  std::set<std::string> parents;
  for (size_t c = 0; c < entity.fields.size(); ++c) {
    const ModelField& f = entity.fields[c];
    // Self-references (`hcp.parent_id`) too: the loader rewrites them to
    // ids of the entity's own rows.
    if (f.type != FieldType::kReference) continue;
    columns.push_back(c);
    parents.insert(f.references);
  }
  if (columns.empty()) return check;
  check.checked = true;
  // The ids of every parent row (merged keys point at their survivor's row,
  // which is a row too).
  std::map<std::string, TargetIdSet> ids;  // a bit per id: flat in the rows
  for (const std::string& name : parents) {
    const Entity* parent = model.Find(name);
    if (parent == nullptr) return Status::NotFound("ri_check: no entity '" + name + "'");
    SLUICE_RETURN_IF_ERROR(target->Prepare(*parent));
    auto& set = ids[name];
    SLUICE_RETURN_IF_ERROR(target->ScanRows(*parent, [&](const TargetRow& row) {
      if (!row.merged) set.Insert(row.target_id);
    }));
  }
  SLUICE_RETURN_IF_ERROR(target->ScanRows(entity, [&](const TargetRow& row) {
    if (row.merged) return;  // the survivor's row is checked under its own key
    for (size_t c : columns) {
      if (c >= row.values.size()) continue;
      const Value& v = row.values[c];
      if (v.is_null || v.s.empty()) continue;
      ++check.references;
      const ModelField& f = entity.fields[c];
      int64_t id = 0;
      auto [end, ec] = std::from_chars(v.s.data(), v.s.data() + v.s.size(), id);
      if (ec == std::errc() && end == v.s.data() + v.s.size() && ids[f.references].Contains(id)) {
        continue;
      }
      ++check.unresolved;
      ++check.unresolved_by_field[f.name];
      if (log != nullptr) {
        log->Add({row.source, row.key, kReferenceBroken, f.name, "a row of " + f.references, v.s});
      }
      if (check.examples.size() < 20) {
        check.examples.push_back(row.source + "/" + row.key + ": " + f.name + " -> " +
                                 f.references + " " + v.s);
      }
    }
  }));
  return check;
}

}  // namespace sluice
