#include "loader/references.h"

#include <map>

#include "common/runtime/review_item.h"

namespace sluice {
namespace {

std::string ParentKey(const std::string& source, const std::string& key) {
  return source + '\x1f' + key;
}

}  // namespace

void ParentFates::Set(const v1::ParentFates& message) {
  auto& fates = by_entity_[message.entity()];
  fates.clear();
  fates.reserve(message.fates_size());
  for (const v1::ParentFate& f : message.fates()) fates[ParentKey(f.source(), f.key())] = f;
}

const v1::ParentFate* ParentFates::Find(const std::string& entity, const std::string& source,
                                        const std::string& key) const {
  auto e = by_entity_.find(entity);
  if (e == by_entity_.end()) return nullptr;
  auto it = e->second.find(ParentKey(source, key));
  return it == e->second.end() ? nullptr : &it->second;
}

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
               const std::string& why, ReferenceOutcome* out, const v1::ParentFate* parent) {
  std::string severity = rule != nullptr ? rule->severity : "error";
  v1::Fate f;
  f.set_source(r.source);
  f.set_key(r.key);
  f.set_stage("load");
  f.set_line(r.line);
  f.set_rule(rule != nullptr ? rule->name : "reference");
  f.set_field(field.name);
  f.set_value(value);
  std::string reason = "orphan reference: " + field.references + " " + value + " " + why;
  f.set_suggestion("correct the reference, or migrate " + field.references + " " + value +
                   " from " + from + " first");
  if (parent != nullptr) {
    // The parent exists in its source; it has no row because of its own fate.
    const std::string named = field.references + " " + from + ":" + value;
    if (parent->kind() == v1::FATE_REVIEW) {
      severity = "review";  // it may load after the steward's decision: so may the child
      reason = "parent " + named + " is held for review by " + parent->rule() +
               "; this record loads on the run after the steward's decision on it";
      f.set_suggestion("decide " + named +
                       " (sluice review export/import); this record then "
                       "loads with it on the next run");
    } else if (parent->kind() == v1::FATE_DELETED_AT_SOURCE) {  // issue 18, propagated
      reason = "parent " + named + " was deleted at its source and its row removed";
      f.set_suggestion("delete this record at its source too, or restore " + named);
    } else {
      reason = "parent " + named + " was rejected by " + parent->rule();
      f.set_suggestion("correct " + named + " (" + parent->rule() +
                       (parent->reason().empty() ? "" : ": " + parent->reason()) +
                       ") and migrate it again; this record follows it");
    }
  }
  if (severity == "warning") {
    f.set_kind(v1::FATE_WARNING);
    f.set_reason(reason + "; loaded with " + field.name + " NULL");
    out->warnings.push_back(std::move(f));
    return true;
  }
  f.set_reason(reason);
  if (severity == "review") {
    f.set_kind(v1::FATE_REVIEW);
    out->review_items.push_back(RecordReviewItem(entity.name, f, RecordJson(schema, r)));
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
                                           RecordBatch* batch, const ParentFates* parents) {
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
        const v1::ParentFate* parent =
            parents != nullptr ? parents->Find(field.references, from, v.s) : nullptr;
        if (AddOrphan(entity, field, rule, r, batch->schema, v.s, from,
                      "not found in source " + from, &out, parent)) {
          // Loaded all the same, without the dangling key.
          v = Value::Null();
          changed[i] = true;
          continue;
        }
        if (out.orphaned.empty()) out.orphaned.assign(batch->records.size(), false);
        out.orphaned[i] = true;
        continue;
      }
      if (out.parents.empty()) out.parents.resize(batch->records.size());
      std::string& named = out.parents[i];
      named += (named.empty() ? "" : "; ") + field.name + " -> " + field.references + " " +
               parent_source[r.source] + ":" + v.s + ", target id " + std::to_string(id);
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
