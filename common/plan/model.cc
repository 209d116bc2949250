// The canonical model: entities and their typed fields, parsed from YAML.

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <set>

#include "common/core/hash.h"
#include "common/plan/plan.h"
#include "common/plan/plan_yaml.h"

namespace sluice {

using plan_yaml::AddIssue;
using plan_yaml::Child;
using plan_yaml::Need;

Schema Entity::ToSchema() const {
  Schema schema;
  schema.fields.reserve(fields.size());
  for (const ModelField& f : fields)
    schema.fields.push_back({f.name, f.type, f.precision, f.scale});
  return schema;
}

const ModelField* Entity::Find(const std::string& field) const {
  for (const ModelField& f : fields) {
    if (f.name == field) return &f;
  }
  return nullptr;
}

const Entity* Model::Find(const std::string& entity) const {
  for (const Entity& e : entities) {
    if (e.name == entity) return &e;
  }
  return nullptr;
}

namespace {

constexpr char kTypeList[] = "string, int, decimal(p,s), date, timestamp, bool, enum, reference";

// Reads a non-negative integer at text[*pos], skipping spaces around it.
std::optional<int> ReadSmallInt(const std::string& text, size_t* pos) {
  while (*pos < text.size() && text[*pos] == ' ') ++*pos;
  int v = 0;
  auto [end, ec] = std::from_chars(text.data() + *pos, text.data() + text.size(), v);
  if (ec != std::errc() || end == text.data() + *pos) return std::nullopt;
  *pos = end - text.data();
  while (*pos < text.size() && text[*pos] == ' ') ++*pos;
  return v;
}

Status ParseDecimalType(const std::string& text, ModelField* field) {
  // "decimal(12,2)", spaces allowed inside the parentheses.
  size_t pos = 7;
  while (pos < text.size() && text[pos] == ' ') ++pos;
  if (pos == text.size()) {
    return Status::InvalidArgument("decimal needs a precision and a scale, e.g. decimal(12,2)");
  }
  const Status bad = Status::InvalidArgument("bad decimal type '" + text +
                                             "', expected decimal(p,s), e.g. decimal(12,2)");
  if (text[pos++] != '(') return bad;
  std::optional<int> p = ReadSmallInt(text, &pos);
  if (!p || pos >= text.size() || text[pos++] != ',') return bad;
  std::optional<int> s = ReadSmallInt(text, &pos);
  if (!s || pos + 1 != text.size() || text[pos] != ')') return bad;
  if (*p < 1 || *p > 18) return Status::InvalidArgument("decimal precision must be 1..18");
  if (*s < 0 || *s > *p) return Status::InvalidArgument("decimal scale must be 0..precision");
  field->type = FieldType::kDecimal;
  field->precision = *p;
  field->scale = *s;
  return Status::Ok();
}

// Parses one field: a mapping, or a type alone ("count: int").
ModelField ParseField(const std::string& entity, const std::string& name, const YAML::Node& node,
                      const std::string& path, std::set<std::string>* untyped,
                      std::vector<PlanIssue>* issues) {
  ModelField f;
  f.name = name;
  if (!plan_yaml::IsPlainName(name)) {
    AddIssue(issues, path,
             "not a valid field name (letters, digits and '_', not starting with a digit)");
  }
  std::optional<std::string> type;
  YAML::Node map;  // stays undefined for the shorthand
  if (node.IsScalar()) {
    type = node.Scalar();
  } else if (node.IsMap()) {
    map = node;
    plan_yaml::CheckKeys(
        node, path,
        {"type", "required", "max_length", "pii", "owner", "description", "values", "entity"},
        issues);
    type = plan_yaml::ReadText(node, "type", path, Need::kRequired, issues);
  } else {
    AddIssue(issues, path, "must be a type or a mapping");
  }
  const std::string type_path = node.IsMap() ? Child(path, "type") : path;
  bool typed = false;
  if (type) {
    Status st = ParseFieldType(*type, &f);
    if (st.ok()) {
      typed = true;
    } else {
      AddIssue(issues, type_path, st.message());
    }
  }
  if (!typed) untyped->insert(entity + "." + name);
  if (!map.IsDefined()) {
    if (typed && f.type == FieldType::kEnum) AddIssue(issues, path, "enum needs values");
    if (typed && f.type == FieldType::kReference) AddIssue(issues, path, "reference needs entity");
    return f;
  }

  f.required = plan_yaml::ReadBool(map, "required", path, issues).value_or(false);
  f.pii = plan_yaml::ReadBool(map, "pii", path, issues).value_or(false);
  f.owner = plan_yaml::ReadText(map, "owner", path, Need::kOptional, issues).value_or("");
  f.description =
      plan_yaml::ReadText(map, "description", path, Need::kOptional, issues).value_or("");
  if (auto n = plan_yaml::ReadInt(map, "max_length", path, Need::kOptional, issues)) {
    if (*n < 1) {
      AddIssue(issues, Child(path, "max_length"), "must be at least 1");
    } else if (typed && f.type != FieldType::kString && f.type != FieldType::kEnum) {
      AddIssue(issues, Child(path, "max_length"), "only for string and enum fields");
    } else {
      f.max_length = *n;
    }
  }

  auto values = plan_yaml::ReadTextList(map, "values", path, Need::kOptional, false, issues);
  if (values && typed && f.type != FieldType::kEnum) {
    AddIssue(issues, Child(path, "values"), "only for enum fields");
  } else if (typed && f.type == FieldType::kEnum) {
    if (!values || values->empty()) {
      AddIssue(issues, Child(path, "values"), values ? "must not be empty" : "missing");
    } else {
      std::set<std::string> seen;
      for (size_t i = 0; i < values->size(); ++i) {
        if (!seen.insert((*values)[i]).second) {
          AddIssue(issues, plan_yaml::Item(Child(path, "values"), i),
                   "duplicate value '" + (*values)[i] + "'");
        }
      }
      f.enum_values = std::move(*values);
    }
  }

  auto parent = plan_yaml::ReadText(
      map, "entity", path,
      typed && f.type == FieldType::kReference ? Need::kRequired : Need::kOptional, issues);
  if (parent && typed && f.type != FieldType::kReference) {
    AddIssue(issues, Child(path, "entity"), "only for reference fields");
  } else if (parent) {
    f.references = *parent;
  }
  return f;
}

Entity ParseEntity(const std::string& name, const YAML::Node& node, const std::string& path,
                   std::set<std::string>* untyped, std::vector<PlanIssue>* issues) {
  Entity e;
  e.name = name;
  if (!plan_yaml::IsPlainName(name)) {
    AddIssue(issues, path,
             "not a valid entity name (letters, digits and '_', not starting with a digit)");
  }
  if (!plan_yaml::ExpectMap(node, path, issues)) return e;
  plan_yaml::CheckKeys(node, path, {"description", "fields"}, issues);
  e.description =
      plan_yaml::ReadText(node, "description", path, Need::kOptional, issues).value_or("");
  const std::string fields_path = Child(path, "fields");
  YAML::Node fields = plan_yaml::Get(node, "fields");
  if (!fields.IsDefined()) {
    AddIssue(issues, fields_path, "missing");
    return e;
  }
  if (!plan_yaml::ExpectMap(fields, fields_path, issues)) return e;
  std::set<std::string> seen;
  for (const auto& kv : fields) {
    if (!kv.first.IsScalar()) {
      AddIssue(issues, fields_path, "keys must be text");
      continue;
    }
    const std::string& fname = kv.first.Scalar();
    if (!seen.insert(fname).second) {
      AddIssue(issues, fields_path, "duplicate field '" + fname + "'");
      continue;
    }
    e.fields.push_back(
        ParseField(name, fname, kv.second, Child(fields_path, fname), untyped, issues));
  }
  if (e.fields.empty()) AddIssue(issues, fields_path, "must not be empty");
  return e;
}

// Reports references to unknown entities and reference cycles between
// entities (a self-reference, such as a parent hcp, is allowed).
void CheckReferences(const Model& model, const std::string& entities_path,
                     std::vector<PlanIssue>* issues) {
  std::map<std::string, const Entity*> by_name;
  for (const Entity& e : model.entities) by_name.emplace(e.name, &e);
  auto field_path = [&](const Entity& e, const ModelField& f) {
    return Child(Child(Child(Child(entities_path, e.name), "fields"), f.name), "entity");
  };
  for (const Entity& e : model.entities) {
    for (const ModelField& f : e.fields) {
      if (f.type == FieldType::kReference && !f.references.empty() &&
          !by_name.count(f.references)) {
        AddIssue(issues, field_path(e, f), "unknown entity '" + f.references + "'");
      }
    }
  }
  // Depth-first search; an edge back to an entity on the stack closes a cycle.
  std::map<std::string, int> state;  // 0 new, 1 on the stack, 2 done
  std::vector<std::string> stack;
  std::function<void(const Entity&)> visit = [&](const Entity& e) {
    state[e.name] = 1;
    stack.push_back(e.name);
    for (const ModelField& f : e.fields) {
      if (f.type != FieldType::kReference || f.references == e.name) continue;
      auto it = by_name.find(f.references);
      if (it == by_name.end()) continue;
      if (state[f.references] == 1) {
        std::string cycle;
        auto from = std::find(stack.begin(), stack.end(), f.references);
        for (auto s = from; s != stack.end(); ++s) cycle += *s + " -> ";
        AddIssue(issues, field_path(e, f), "reference cycle: " + cycle + f.references);
      } else if (state[f.references] == 0) {
        visit(*it->second);
      }
    }
    stack.pop_back();
    state[e.name] = 2;
  };
  for (const Entity& e : model.entities) {
    if (state[e.name] == 0) visit(e);
  }
}

}  // namespace

Status ParseFieldType(const std::string& text, ModelField* field) {
  static constexpr std::pair<std::string_view, FieldType> kSimple[] = {
      {"string", FieldType::kString},       {"int", FieldType::kInt},   {"date", FieldType::kDate},
      {"timestamp", FieldType::kTimestamp}, {"bool", FieldType::kBool}, {"enum", FieldType::kEnum},
      {"reference", FieldType::kReference}};
  field->precision = 0;
  field->scale = 0;
  for (const auto& [name, type] : kSimple) {
    if (text == name) {
      field->type = type;
      return Status::Ok();
    }
  }
  if (text.rfind("decimal", 0) == 0) return ParseDecimalType(text, field);
  return Status::InvalidArgument("unknown type '" + text + "' (" + kTypeList + ")");
}

namespace plan_yaml {

Model ParseModelNode(const YAML::Node& node, const std::string& path,
                     std::set<std::string>* untyped, std::vector<PlanIssue>* issues) {
  Model model;
  if (!ExpectMap(node, path, issues)) return model;
  CheckKeys(node, path, {"entities"}, issues);
  const std::string entities_path = Child(path, "entities");
  YAML::Node entities = Get(node, "entities");
  if (!entities.IsDefined()) {
    AddIssue(issues, entities_path, "missing");
    return model;
  }
  if (!ExpectMap(entities, entities_path, issues)) return model;
  std::set<std::string> seen;
  for (const auto& kv : entities) {
    if (!kv.first.IsScalar()) {
      AddIssue(issues, entities_path, "keys must be text");
      continue;
    }
    const std::string& name = kv.first.Scalar();
    if (!seen.insert(name).second) {
      AddIssue(issues, entities_path, "duplicate entity '" + name + "'");
      continue;
    }
    model.entities.push_back(
        ParseEntity(name, kv.second, Child(entities_path, name), untyped, issues));
  }
  if (model.entities.empty()) AddIssue(issues, entities_path, "must not be empty");
  CheckReferences(model, entities_path, issues);
  return model;
}

}  // namespace plan_yaml

Model ParseModel(const std::string& yaml_text, std::vector<PlanIssue>* issues) {
  Model model;
  std::set<std::string> untyped;
  try {
    YAML::Node root;
    if (plan_yaml::LoadYaml(yaml_text, "", &root, issues)) {
      model = plan_yaml::ParseModelNode(root, "", &untyped, issues);
    }
  } catch (const YAML::Exception& e) {
    issues->push_back(plan_yaml::YamlErrorIssue(e, ""));
  }
  model.content_hash = plan_yaml::Hex64(Hash64(yaml_text));
  return model;
}

}  // namespace sluice
