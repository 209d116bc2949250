#include "loader/references.h"

#include <map>

namespace sluice {

Result<ReferenceOutcome> ResolveReferences(const Plan& plan, const Entity& entity, Target* target,
                                           RecordBatch* batch) {
  ReferenceOutcome out;
  std::vector<size_t> columns;
  for (size_t c = 0; c < entity.fields.size(); ++c) {
    const ModelField& f = entity.fields[c];
    if (f.type == FieldType::kReference && f.references != entity.name) columns.push_back(c);
  }
  if (columns.empty() || batch->records.empty()) return out;
  std::vector<bool> changed(batch->records.size(), false);
  for (size_t c : columns) {
    const ModelField& field = entity.fields[c];
    // One lookup per distinct (source, key): children of one parent share it.
    std::map<std::string, std::map<std::string, int64_t>> wanted;  // source -> key -> id
    for (const Record& r : batch->records) {
      const Value& v = r.values[c];
      if (!v.is_null && !v.s.empty()) wanted[r.source][v.s] = 0;
    }
    std::map<std::string, std::string> parent_source;  // child's source -> parents' source
    for (auto& [source, keys] : wanted) {
      const SourceSpec* spec = plan.FindSource(source);
      parent_source[source] = spec != nullptr ? spec->Option("references_from", source) : source;
      std::vector<std::string> list;
      list.reserve(keys.size());
      for (const auto& [key, id] : keys) list.push_back(key);
      SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                              target->ResolveKeys(field.references, parent_source[source], list));
      for (size_t i = 0; i < list.size(); ++i) keys[list[i]] = ids[i];
    }
    for (size_t i = 0; i < batch->records.size(); ++i) {
      Record& r = batch->records[i];
      Value& v = r.values[c];
      if (v.is_null || v.s.empty()) continue;
      const int64_t id = wanted[r.source][v.s];
      if (id == 0) {
        if (out.orphaned.empty()) out.orphaned.assign(batch->records.size(), false);
        if (out.orphaned[i]) continue;  // one reason per record
        out.orphaned[i] = true;
        v1::Fate f;
        f.set_kind(v1::FATE_REJECTED);
        f.set_source(r.source);
        f.set_key(r.key);
        f.set_stage("load");
        f.set_line(r.line);
        f.set_rule("reference");
        f.set_field(field.name);
        f.set_value(v.s);
        const std::string& from = parent_source[r.source];
        f.set_reason("orphan reference: " + field.references + " " + v.s + " not found in source " +
                     from);
        f.set_suggestion("correct the reference, or migrate " + field.references + " " + v.s +
                         " from " + from + " first");
        out.orphans.push_back(std::move(f));
        continue;
      }
      v.s = std::to_string(id);
      changed[i] = true;
      ++out.rewritten;
    }
  }
  for (size_t i = 0; i < batch->records.size(); ++i) {
    if (changed[i]) {
      Record& r = batch->records[i];
      r.content_hash = ContentHash(batch->schema, r.values);
    }
  }
  return out;
}

}  // namespace sluice
