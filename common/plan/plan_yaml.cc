#include "common/plan/plan_yaml.h"

#include <cstdio>
#include <filesystem>
#include <set>

#include "common/core/nearest.h"
#include "common/core/utf8.h"

namespace sluice::plan_yaml {

std::string Child(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out = path;
  out += '.';
  out += key;
  return out;
}

std::string Item(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

void AddIssue(std::vector<PlanIssue>* issues, std::string path, std::string message) {
  issues->push_back({std::move(path), std::move(message)});
}

bool ExpectMap(const YAML::Node& node, const std::string& path, std::vector<PlanIssue>* issues) {
  if (node.IsMap()) return true;
  AddIssue(issues, path, "must be a mapping");
  return false;
}

bool ExpectList(const YAML::Node& node, const std::string& path, std::vector<PlanIssue>* issues) {
  if (node.IsSequence()) return true;
  AddIssue(issues, path, "must be a list");
  return false;
}

void CheckKeys(const YAML::Node& node, const std::string& path,
               std::span<const std::string_view> known, std::vector<PlanIssue>* issues) {
  if (!node.IsMap()) return;
  std::set<std::string> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      AddIssue(issues, path, "keys must be text");
      continue;
    }
    const std::string& key = kv.first.Scalar();
    if (!seen.insert(key).second) {
      AddIssue(issues, path, "duplicate key '" + key + "'");
      continue;
    }
    bool ok = false;
    for (std::string_view k : known) ok = ok || k == key;
    if (!ok) AddIssue(issues, path, "unknown key '" + key + "'");
  }
}

YAML::Node Get(const YAML::Node& node, std::string_view key) {
  if (!node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  // First occurrence wins; CheckKeys reports duplicates.
  for (const auto& kv : node) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) {
      if (kv.second.IsNull()) break;
      return kv.second;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::optional<std::string> ReadText(const YAML::Node& map, std::string_view key,
                                    const std::string& path, Need need,
                                    std::vector<PlanIssue>* issues) {
  YAML::Node v = Get(map, key);
  if (!v.IsDefined()) {
    if (need == Need::kRequired) AddIssue(issues, Child(path, key), "missing");
    return std::nullopt;
  }
  if (!v.IsScalar()) {
    AddIssue(issues, Child(path, key), "must be text");
    return std::nullopt;
  }
  if (need == Need::kRequired && v.Scalar().empty()) {
    AddIssue(issues, Child(path, key), "must not be empty");
    return std::nullopt;
  }
  return v.Scalar();
}

std::optional<bool> ReadBool(const YAML::Node& map, std::string_view key, const std::string& path,
                             std::vector<PlanIssue>* issues) {
  YAML::Node v = Get(map, key);
  if (!v.IsDefined()) return std::nullopt;
  bool b = false;
  if (!v.IsScalar() || !YAML::convert<bool>::decode(v, b)) {
    AddIssue(issues, Child(path, key), "must be true or false");
    return std::nullopt;
  }
  return b;
}

std::optional<int64_t> ReadInt(const YAML::Node& map, std::string_view key, const std::string& path,
                               Need need, std::vector<PlanIssue>* issues) {
  YAML::Node v = Get(map, key);
  if (!v.IsDefined()) {
    if (need == Need::kRequired) AddIssue(issues, Child(path, key), "missing");
    return std::nullopt;
  }
  int64_t i = 0;
  if (!v.IsScalar() || !YAML::convert<int64_t>::decode(v, i)) {
    AddIssue(issues, Child(path, key), "must be an integer");
    return std::nullopt;
  }
  return i;
}

std::optional<char> ReadChar(const YAML::Node& map, std::string_view key, const std::string& path,
                             bool allow_empty, std::vector<PlanIssue>* issues) {
  YAML::Node v = Get(map, key);
  if (!v.IsDefined()) return std::nullopt;
  if (v.IsScalar() && v.Scalar().size() == 1) return v.Scalar()[0];
  if (v.IsScalar() && v.Scalar().empty() && allow_empty) return '\0';
  AddIssue(issues, Child(path, key), "must be a single character");
  return std::nullopt;
}

std::optional<std::vector<std::string>> ReadTextList(const YAML::Node& map, std::string_view key,
                                                     const std::string& path, Need need,
                                                     bool allow_scalar,
                                                     std::vector<PlanIssue>* issues) {
  const std::string at = Child(path, key);
  YAML::Node v = Get(map, key);
  if (!v.IsDefined()) {
    if (need == Need::kRequired) AddIssue(issues, at, "missing");
    return std::nullopt;
  }
  if (allow_scalar && v.IsScalar()) return std::vector<std::string>{v.Scalar()};
  if (!v.IsSequence()) {
    AddIssue(issues, at, allow_scalar ? "must be text or a list" : "must be a list");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].IsScalar()) {
      AddIssue(issues, Item(at, i), "must be text");
      continue;
    }
    out.push_back(v[i].Scalar());
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> ReadTextMap(
    const YAML::Node& map, std::string_view key, const std::string& path,
    std::vector<PlanIssue>* issues) {
  const std::string at = Child(path, key);
  YAML::Node v = Get(map, key);
  if (!v.IsDefined()) return std::nullopt;
  if (!ExpectMap(v, at, issues)) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> seen;
  for (const auto& kv : v) {
    if (!kv.first.IsScalar()) {
      AddIssue(issues, at, "keys must be text");
      continue;
    }
    const std::string& from = kv.first.Scalar();
    if (!seen.insert(from).second) {
      AddIssue(issues, at, "duplicate key '" + from + "'");
      continue;
    }
    if (!kv.second.IsScalar()) {
      AddIssue(issues, Child(at, from), "must be text");
      continue;
    }
    out.emplace_back(from, kv.second.Scalar());
  }
  return out;
}

std::string Hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute() || base_dir.empty()) return p.lexically_normal().string();
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

PlanIssue YamlErrorIssue(const YAML::Exception& e, const std::string& path) {
  std::string message = "invalid yaml";
  if (!e.mark.is_null()) {
    message += " at line " + std::to_string(e.mark.line + 1) + ", column " +
               std::to_string(e.mark.column + 1);
  }
  // yaml-cpp may quote one byte of a multi-byte character ("unknown escape
  // character: \xC3"): issues are printed and sent, so they stay valid UTF-8.
  return {path, message + ": " + ToValidUtf8(e.msg)};
}

const Entity* PlanContext::FindEntity(const std::string& name, const std::string& path) const {
  if (!model_loaded) return nullptr;
  const Entity* e = plan->model.Find(name);
  if (e == nullptr) AddIssue(issues, path, "unknown entity '" + name + "'");
  return e;
}

const SourceSpec* PlanContext::FindSource(const std::string& name, const std::string& path) const {
  if (!sources_loaded) return nullptr;
  const SourceSpec* s = plan->FindSource(name);
  if (s == nullptr) AddIssue(issues, path, "unknown source '" + name + "'");
  return s;
}

const ModelField* PlanContext::FindField(const Entity* entity, const std::string& name,
                                         const std::string& path) const {
  if (entity == nullptr) return nullptr;
  const ModelField* f = entity->Find(name);
  if (f == nullptr) {
    std::vector<std::string> names;
    for (const ModelField& field : entity->fields) names.push_back(field.name);
    std::optional<std::string> near = NearestValue(name, names);
    AddIssue(issues, path,
             "entity '" + entity->name + "' has no field '" + name + "'" +
                 (near ? " (did you mean '" + *near + "'?)" : ""));
  }
  return f;
}

}  // namespace sluice::plan_yaml

namespace sluice {

bool IsPlainName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace sluice
