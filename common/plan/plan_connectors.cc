// The sources and the target. What every source (target) has is checked
// here; which kinds exist, which keys each accepts and what else it checks
// come from the ConnectorCatalog (connector_catalog.h): this file names no
// kind.

#include <algorithm>
#include <filesystem>
#include <set>
#include <span>

#include "common/plan/plan_yaml.h"

namespace sluice::plan_yaml {
namespace {

namespace fs = std::filesystem;

// Keys every source has, whatever its kind, besides `path` or `dsn`.
// `region`: phone numbers (issue 4); `references_from`: consolidation.
// `incremental` and `deletions`: delta runs (issue 18, plan_delta.cc).
constexpr std::string_view kSourceKeys[] = {"kind",        "key",      "region", "references_from",
                                            "incremental", "deletions"};
// Keys read by a section of their own, not options.
constexpr std::string_view kStructuredKeys[] = {"incremental", "deletions"};
// Likewise for the target.
constexpr std::string_view kTargetKeys[] = {"kind"};

// The parser's side of ConnectorSettings: the options of one source or
// target, with the YAML node they were read from.
class YamlSettings : public ConnectorSettings {
 public:
  YamlSettings(const YAML::Node& node, const std::string& yaml_path, const std::string& path,
               std::map<std::string, std::string>* options, std::vector<PlanIssue>* issues)
      : node_(node), yaml_path_(yaml_path), path_(path), options_(options), issues_(issues) {}

  const std::string& yaml_path() const override { return yaml_path_; }
  const std::string& path() const override { return path_; }
  const std::map<std::string, std::string>& options() const override { return *options_; }

  // A value that is not text was reported by ReadOptions and is not read.
  std::optional<bool> Bool(std::string_view key, std::string_view wrong) override {
    if (!options_->count(std::string(key))) return std::nullopt;
    bool value = false;
    if (!YAML::convert<bool>::decode(Get(node_, key), value)) {
      Issue(key, std::string(wrong));
      return std::nullopt;
    }
    (*options_)[std::string(key)] = value ? "true" : "false";
    return value;
  }
  std::optional<int64_t> Int(std::string_view key) override {
    if (!options_->count(std::string(key))) return std::nullopt;
    std::optional<int64_t> value = ReadInt(node_, key, yaml_path_, Need::kOptional, issues_);
    if (value) (*options_)[std::string(key)] = std::to_string(*value);
    return value;
  }
  std::optional<double> Number(std::string_view key, std::string_view wrong) override {
    if (!options_->count(std::string(key))) return std::nullopt;
    double value = 0;
    if (!YAML::convert<double>::decode(Get(node_, key), value)) {
      Issue(key, std::string(wrong));
      return std::nullopt;
    }
    return value;
  }
  void Issue(std::string_view key, std::string message) override {
    AddIssue(issues_, key.empty() ? yaml_path_ : Child(yaml_path_, key), std::move(message));
  }

 private:
  const YAML::Node& node_;
  const std::string& yaml_path_;
  const std::string& path_;
  std::map<std::string, std::string>* options_;
  std::vector<PlanIssue>* issues_;
};

// "a", "a and b", "a, b and c".
std::string JoinAnd(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

// What sources, or the target, share while they are parsed.
struct Role {
  bool source;                               // else the target
  std::span<const std::string_view> shared;  // keys every one has
  std::vector<const ConnectorKind*> kinds;   // the kinds of this role

  const char* noun() const { return source ? "source" : "target"; }
  const ConnectorRole& Of(const ConnectorKind& kind) const {
    return source ? *kind.source : *kind.target;
  }
  bool Accepts(const ConnectorKind& kind, std::string_view key) const {
    if (key == (kind.server ? "dsn" : "path")) return true;
    if (std::find(shared.begin(), shared.end(), key) != shared.end()) return true;
    const std::vector<std::string>& keys = Of(kind).keys;
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  }
};

Role SourceRole(const ConnectorCatalog& connectors) {
  return {true, kSourceKeys, connectors.Sources()};
}
Role TargetRole(const ConnectorCatalog& connectors) {
  return {false, kTargetKeys, connectors.Targets()};
}

// Copies the scalar settings of `node` other than kind and path into
// `options`, as written.
void ReadOptions(const YAML::Node& node, const std::string& path,
                 std::map<std::string, std::string>* options, std::vector<PlanIssue>* issues) {
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) continue;  // reported by CheckKeys
    const std::string& key = kv.first.Scalar();
    if (key == "kind" || key == "path" || kv.second.IsNull() || options->count(key)) continue;
    if (std::find(std::begin(kStructuredKeys), std::end(kStructuredKeys), key) !=
        std::end(kStructuredKeys)) {
      continue;
    }
    if (!kv.second.IsScalar()) {
      AddIssue(issues, Child(path, key), "must be text");
      continue;
    }
    options->emplace(key, kv.second.Scalar());
  }
}

// Reports every key of `node` that no kind of `role` accepts (a typo), and
// every duplicate key.
void CheckKnownKeys(const YAML::Node& node, const std::string& path, const Role& role,
                    std::vector<PlanIssue>* issues) {
  std::vector<std::string> known(role.shared.begin(), role.shared.end());
  for (const ConnectorKind* k : role.kinds) {
    known.push_back(k->server ? "dsn" : "path");
    for (const std::string& key : role.Of(*k).keys) known.push_back(key);
  }
  const std::vector<std::string_view> views(known.begin(), known.end());
  CheckKeys(node, path, views, issues);
}

// Reports every key of `node` that `kind` does not accept but another kind
// does, naming those kinds ("only for postgres and sqlite sources").
void CheckKindKeys(const YAML::Node& node, const std::string& path, const Role& role,
                   const ConnectorKind& kind, std::vector<PlanIssue>* issues) {
  std::set<std::string> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar() || kv.second.IsNull()) continue;
    const std::string& key = kv.first.Scalar();
    // `path` of a server kind: CheckServerConnection says why it is not used.
    if (!seen.insert(key).second || key == "path" || role.Accepts(kind, key)) continue;
    std::vector<std::string> others;
    for (const ConnectorKind* k : role.kinds) {
      if (role.Accepts(*k, key)) others.push_back(k->name);
    }
    if (!others.empty()) {
      AddIssue(issues, Child(path, key), "only for " + JoinAnd(others) + " " + role.noun() + "s");
    }
  }
}

// The connection of a server kind: `dsn` is required and not empty, `path`
// has no meaning there.
void CheckServerConnection(const YAML::Node& node, const std::string& path,
                           const ConnectorKind& kind, const Role& role,
                           const std::map<std::string, std::string>& options,
                           std::vector<PlanIssue>* issues) {
  if (Get(node, "path").IsDefined()) {
    AddIssue(issues, Child(path, "path"),
             "not used by a " + kind.name + " " + role.noun() + " (it connects with 'dsn')");
  }
  if (!Get(node, "dsn").IsDefined()) {
    AddIssue(issues, Child(path, "dsn"),
             kind.dsn_help.empty() ? "missing" : "missing (" + kind.dsn_help + ")");
  } else if (options.count("dsn") && options.at("dsn").empty()) {
    AddIssue(issues, Child(path, "dsn"), "must not be empty");
  }
}

// What sources and the target share: the keys, the kind, the file or the
// server, and the options. Returns the kind, nullptr when it is missing or
// unknown (reported, listing the known kinds).
const ConnectorKind* ParseConnection(const YAML::Node& node, const std::string& path,
                                     const std::string& base_dir, const Role& role,
                                     std::string* kind_name, std::string* file,
                                     std::map<std::string, std::string>* options,
                                     std::vector<PlanIssue>* issues) {
  CheckKnownKeys(node, path, role, issues);
  std::optional<std::string> name = ReadText(node, "kind", path, Need::kRequired, issues);
  const ConnectorKind* kind = nullptr;
  for (const ConnectorKind* k : role.kinds) {
    if (name && k->name == *name) kind = k;
  }
  if (name && kind == nullptr) {
    std::string known;
    for (const ConnectorKind* k : role.kinds) known += (known.empty() ? "" : ", ") + k->name;
    AddIssue(
        issues, Child(path, "kind"),
        std::string("unknown ") + role.noun() + " kind '" + *name + "' (known: " + known + ")");
  }
  *kind_name = name.value_or("");
  if (kind != nullptr) CheckKindKeys(node, path, role, *kind, issues);
  // A file kind needs its file; a kind not known reads it when given.
  if (kind == nullptr || !kind->server) {
    const Need need = kind != nullptr ? Need::kRequired : Need::kOptional;
    if (auto p = ReadText(node, "path", path, need, issues)) {
      *file = ResolvePath(base_dir, *p);
      std::error_code ec;
      if (role.source && !fs::exists(*file, ec)) {
        AddIssue(issues, Child(path, "path"), "file not found: " + *file);
      }
    }
  }
  ReadOptions(node, path, options, issues);
  if (kind != nullptr && kind->server) {
    CheckServerConnection(node, path, *kind, role, *options, issues);
  }
  return kind;
}

// Runs the kind's own checks, if it has any.
void CheckKind(const YAML::Node& node, const std::string& path, const std::string& file,
               const ConnectorRole& role, std::map<std::string, std::string>* options,
               std::vector<PlanIssue>* issues) {
  if (!role.check) return;
  YamlSettings settings(node, path, file, options, issues);
  role.check(settings);
}

}  // namespace

void ParseSources(const YAML::Node& root, const std::string& base_dir,
                  const ConnectorCatalog& connectors, PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  YAML::Node sources = Get(root, "sources");
  if (!sources.IsDefined()) {
    AddIssue(issues, "sources", "missing");
    return;
  }
  if (!ExpectMap(sources, "sources", issues)) return;
  ctx->sources_loaded = true;
  if (sources.size() == 0) AddIssue(issues, "sources", "must not be empty");
  const Role role = SourceRole(connectors);
  for (const auto& kv : sources) {
    if (!kv.first.IsScalar()) {
      AddIssue(issues, "sources", "keys must be text");
      continue;
    }
    SourceSpec spec;
    spec.name = kv.first.Scalar();
    spec.yaml_path = Child("sources", spec.name);
    const std::string& path = spec.yaml_path;
    if (ctx->plan->FindSource(spec.name) != nullptr) {
      AddIssue(issues, "sources", "duplicate key '" + spec.name + "'");
      continue;
    }
    if (!IsPlainName(spec.name)) {
      AddIssue(issues, path,
               "not a valid source name (letters, digits and '_', not starting with a digit)");
    }
    const YAML::Node& node = kv.second;
    if (!ExpectMap(node, path, issues)) {
      ctx->plan->sources.push_back(std::move(spec));
      continue;
    }
    const ConnectorKind* kind =
        ParseConnection(node, path, base_dir, role, &spec.kind, &spec.path, &spec.options, issues);
    if (!Get(node, "key").IsDefined()) {
      AddIssue(issues, Child(path, "key"), "missing");
    } else if (spec.options.count("key") && spec.options.at("key").empty()) {
      AddIssue(issues, Child(path, "key"), "must not be empty");
    }
    if (kind != nullptr) CheckKind(node, path, spec.path, *kind->source, &spec.options, issues);
    ParseSourceDelta(node, &spec, issues);  // plan_delta.cc
    ctx->plan->sources.push_back(std::move(spec));
  }
  // Reference keys in a source name records of the source given here (its
  // own by default): a child table exported apart from its parents' table.
  for (const SourceSpec& s : ctx->plan->sources) {
    auto it = s.options.find("references_from");
    if (it != s.options.end() && ctx->plan->FindSource(it->second) == nullptr) {
      AddIssue(issues, Child(s.yaml_path, "references_from"),
               "unknown source '" + it->second + "'");
    }
  }
}

void ParseTarget(const YAML::Node& root, const std::string& base_dir,
                 const ConnectorCatalog& connectors, PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  TargetSpec& target = ctx->plan->target;
  YAML::Node node = Get(root, "target");
  if (!node.IsDefined()) {
    AddIssue(issues, "target", "missing");
    return;
  }
  if (!ExpectMap(node, "target", issues)) return;
  const ConnectorKind* kind =
      ParseConnection(node, target.yaml_path, base_dir, TargetRole(connectors), &target.kind,
                      &target.path, &target.options, issues);
  if (kind != nullptr) {
    CheckKind(node, target.yaml_path, target.path, *kind->target, &target.options, issues);
  }
}

}  // namespace sluice::plan_yaml
