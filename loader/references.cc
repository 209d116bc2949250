#include "loader/references.h"

#include <map>
#include <nlohmann/json.hpp>

namespace sluice {
namespace {

// The record's values, {"field": "text" or null}, as review items carry them.
std::string RecordJson(const Record& rec, const Schema& schema) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < schema.fields.size() && i < rec.values.size(); ++i) {
    auto text = FormatValue(schema.fields[i], rec.values[i]);
    j[schema.fields[i].name] = text ? nlohmann::json(*text) : nlohmann::json(nullptr);
  }
  return j.dump();
}

}  // namespace

const RuleSpec* FindReferenceRule(const Plan& plan, const std::string& entity,
                                  const std::string& field) {
  auto it = plan.rules.find(entity);
  if (it == plan.rules.end()) return nullptr;
  for (const RuleSpec& rule : it->second) {
    if (rule.kind == "reference" && rule.field == field) return &rule;
  }
  return nullptr;
}

bool AddOrphan(const Entity& entity, const ModelField& field, const RuleSpec* rule, const Record& r,
               const Schema& schema, const std::string& value, const std::string& from,
               const std::string& why, ReferenceOutcome* out) {
  const std::string severity = rule != nullptr ? rule->severity : "error";
  v1::Fate f;
  f.set_source(r.source);
  f.set_key(r.key);
  f.set_stage("load");
  f.set_line(r.line);
  f.set_rule(rule != nullptr ? rule->name : "reference");
  f.set_field(field.name);
  f.set_value(value);
  const std::string reason = "orphan reference: " + field.references + " " + value + " " + why;
  f.set_suggestion("correct the reference, or migrate " + field.references + " " + value +
                   " from " + from + " first");
  if (severity == "warning") {
    f.set_kind(v1::FATE_WARNING);
    f.set_reason(reason + "; loaded with " + field.name + " NULL");
    out->warnings.push_back(std::move(f));
    return true;
  }
  f.set_reason(reason);
  if (severity == "review") {
    f.set_kind(v1::FATE_REVIEW);
    v1::ReviewItem& item = out->review_items.emplace_back();
    item.set_kind("record");
    item.set_entity(entity.name);
    item.set_source(r.source);
    item.set_key(r.key);
    item.set_stage("load");
    item.set_rule(f.rule());
    item.set_field(f.field());
    item.set_value(f.value());
    item.set_reasons(f.reason());
    item.set_suggestion(f.suggestion());
    item.set_record_json(RecordJson(r, schema));
  } else {
    f.set_kind(v1::FATE_REJECTED);
  }
  out->orphans.push_back(std::move(f));
  return false;
}

std::vector<size_t> SelfReferenceColumns(const Entity& entity) {
  std::vector<size_t> columns;
  for (size_t c = 0; c < entity.fields.size(); ++c) {
    const ModelField& f = entity.fields[c];
    if (f.type == FieldType::kReference && f.references == entity.name) columns.push_back(c);
  }
  return columns;
}

std::string ParentSource(const Plan& plan, const std::string& source) {
  const SourceSpec* spec = plan.FindSource(source);
  return spec != nullptr ? spec->Option("references_from", source) : source;
}

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
    const RuleSpec* rule = FindReferenceRule(plan, entity.name, field.name);
    // One lookup per distinct (source, key): children of one parent share it.
    std::map<std::string, std::map<std::string, int64_t>> wanted;  // source -> key -> id
    for (const Record& r : batch->records) {
      const Value& v = r.values[c];
      if (!v.is_null && !v.s.empty()) wanted[r.source][v.s] = 0;
    }
    std::map<std::string, std::string> parent_source;  // child's source -> parents' source
    for (auto& [source, keys] : wanted) {
      parent_source[source] = ParentSource(plan, source);
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
        if (!out.orphaned.empty() && out.orphaned[i]) continue;  // one terminal reason per record
        const std::string& from = parent_source[r.source];
        if (AddOrphan(entity, field, rule, r, batch->schema, v.s, from,
                      "not found in source " + from, &out)) {
          // Loaded all the same, without the dangling key.
          v = Value::Null();
          changed[i] = true;
          continue;
        }
        if (out.orphaned.empty()) out.orphaned.assign(batch->records.size(), false);
        out.orphaned[i] = true;
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
