// The plan: top-level keys, the model reference, sources, target and waves.
// The per-entity sections live in plan_entities.cc, the model in model.cc.

#include "common/plan/plan.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/core/hash.h"
#include "common/plan/plan_env.h"
#include "common/plan/plan_yaml.h"
#include "common/audit/sqlite_util.h"

namespace sluice {

using plan_yaml::AddIssue;
using plan_yaml::Child;
using plan_yaml::Get;
using plan_yaml::Item;
using plan_yaml::Need;
using plan_yaml::ParseWaves;
using plan_yaml::PlanContext;

namespace fs = std::filesystem;

std::string SourceSpec::Option(const std::string& name, const std::string& fallback) const {
  auto it = options.find(name);
  return it == options.end() ? fallback : it->second;
}

const SourceSpec* Plan::FindSource(const std::string& name) const {
  for (const SourceSpec& s : sources) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const Mapping* Plan::FindMapping(const std::string& entity, const std::string& source) const {
  for (const Mapping& m : mappings) {
    if (m.entity == entity && m.source == source) return &m;
  }
  return nullptr;
}

std::vector<const Mapping*> Plan::MappingsFor(const std::string& entity) const {
  std::vector<const Mapping*> out;
  for (const Mapping& m : mappings) {
    if (m.entity == entity) out.push_back(&m);
  }
  return out;
}

namespace {

// Connector settings a source may carry, whatever its kind: those the
// connectors in this build read. A connector that reads a new setting adds
// its name here, so that typos stay detectable. File kinds need `path`;
// server kinds (IsServerKind) need the libpq connection string `dsn` instead.
constexpr std::string_view kSourceKeys[] = {"kind",           "path",   "key",   "delimiter",
                                            "quote",          "header", "table", "query",
                                            "encoding",       "dsn",
                                            "region",  // region: phone numbers (issue 4)
                                            "references_from"};
// Likewise for the target. All but `kind` and `path` are read by the
// postgres target only (IsServerKind); the sqlite target reads `path` alone.
constexpr std::string_view kTargetKeys[] = {
    "kind",         "path",          "dsn",         "schema", "max_rows_per_second",
    "max_attempts", "retry_base_ms", "retry_max_ms"};

// Kinds that connect to a database server (`dsn`) rather than read a file.
bool IsServerKind(const std::string& kind) { return kind == "postgres"; }

// The connection string of a server kind: required and not empty; `path`
// has no meaning there. `what` is "source" or "target".
void CheckServerConnection(const YAML::Node& node, const std::string& path, const std::string& kind,
                           const char* what, const std::map<std::string, std::string>& options,
                           std::vector<PlanIssue>* issues) {
  if (Get(node, "path").IsDefined()) {
    AddIssue(issues, Child(path, "path"),
             std::string("not used by a ") + kind + " " + what + " (it connects with 'dsn')");
  }
  if (!Get(node, "dsn").IsDefined()) {
    AddIssue(issues, Child(path, "dsn"),
             "missing (a libpq connection string, e.g. 'host=db1 port=5432 dbname=crm')");
  } else if (options.count("dsn") && options.at("dsn").empty()) {
    AddIssue(issues, Child(path, "dsn"), "must not be empty");
  }
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  fs::path p(path);
  if (p.is_absolute() || base_dir.empty()) return p.lexically_normal().string();
  return (fs::path(base_dir) / p).lexically_normal().string();
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Copies the scalar settings of `node` other than kind and path into
// `options`, as written.
void ReadOptions(const YAML::Node& node, const std::string& path,
                 std::map<std::string, std::string>* options, std::vector<PlanIssue>* issues) {
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) continue;  // reported by CheckKeys
    const std::string& key = kv.first.Scalar();
    if (key == "kind" || key == "path" || kv.second.IsNull() || options->count(key)) continue;
    if (!kv.second.IsScalar()) {
      AddIssue(issues, Child(path, key), "must be text");
      continue;
    }
    options->emplace(key, kv.second.Scalar());
  }
}

// The settings every connector shares the meaning of. Only scalar values are
// looked at: ReadOptions reported the others.
void CheckSourceOptions(const YAML::Node& node, const std::string& path,
                        std::map<std::string, std::string>* options,
                        std::vector<PlanIssue>* issues) {
  if (!Get(node, "key").IsDefined()) {
    AddIssue(issues, Child(path, "key"), "missing");
  } else if (options->count("key") && options->at("key").empty()) {
    AddIssue(issues, Child(path, "key"), "must not be empty");
  }
  for (const char* key : {"delimiter", "quote"}) {
    auto it = options->find(key);
    if (it != options->end() && it->second.size() != 1) {
      AddIssue(issues, Child(path, key), "must be a single character");
    }
  }
  // Written back as "true"/"false", the spelling connectors read.
  if (auto it = options->find("header"); it != options->end()) {
    bool header = false;
    if (YAML::convert<bool>::decode(Get(node, "header"), header)) {
      it->second = header ? "true" : "false";
    } else {
      AddIssue(issues, Child(path, "header"), "must be true or false");
    }
  }
}

// Reads `model:`, a file path or an inline mapping. Returns the model's text.
std::string ParseModelKey(const YAML::Node& root, const std::string& base_dir, PlanContext* ctx) {
  YAML::Node node = Get(root, "model");
  std::vector<PlanIssue>* issues = ctx->issues;
  std::string text;
  YAML::Node model_node;
  bool have_node = false;
  if (!node.IsDefined()) {
    AddIssue(issues, "model", "missing");
  } else if (node.IsScalar()) {
    const std::string path = Resolve(base_dir, node.Scalar());
    if (std::optional<std::string> read = ReadFile(path)) {
      text = std::move(*read);
      try {
        model_node = YAML::Load(text);
        have_node = true;
      } catch (const YAML::Exception& e) {
        issues->push_back(plan_yaml::YamlErrorIssue(e, "model"));
      }
    } else {
      AddIssue(issues, "model", "file not found: " + path);
    }
  } else if (node.IsMap()) {
    model_node = node;
    have_node = true;
    text = YAML::Dump(node);
  } else {
    AddIssue(issues, "model", "must be a file path or a mapping");
  }
  if (have_node) {
    ctx->plan->model = plan_yaml::ParseModelNode(model_node, "model", &ctx->untyped, issues);
    // With no readable entities at all, mentions of entities are not checked.
    ctx->model_loaded = Get(model_node, "entities").IsMap();
  }
  ctx->plan->model.content_hash = plan_yaml::Hex64(Hash64(text));
  return text;
}

// A SQLite source's table must exist: a typo there would otherwise surface
// only when the extractor starts. The file's absence is reported elsewhere.
void CheckSqliteTable(const SourceSpec& spec, std::vector<PlanIssue>* issues) {
  std::error_code ec;
  if (spec.path.empty() || !fs::is_regular_file(spec.path, ec)) return;
  auto db = SqliteDb::Open(spec.path, /*readonly=*/true);
  if (!db.ok()) {
    AddIssue(issues, Child(spec.yaml_path, "path"),
             "cannot open the SQLite database: " + db.status().message());
    return;
  }
  auto st =
      (*db)->Prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1");
  if (!st.ok()) {
    AddIssue(issues, Child(spec.yaml_path, "path"),
             "not a readable SQLite database: " + st.status().message());
    return;
  }
  std::string table = spec.Option("table");
  if (auto dot = table.find('.'); dot != std::string::npos) table = table.substr(dot + 1);
  Status bound = st->Bind(1, std::string_view(table));
  Result<bool> found = bound.ok() ? st->Step() : Result<bool>(bound);
  if (!found.ok()) {
    AddIssue(issues, Child(spec.yaml_path, "path"),
             "not a readable SQLite database: " + found.status().message());
  } else if (!*found) {
    AddIssue(issues, Child(spec.yaml_path, "table"),
             "table '" + spec.Option("table") + "' not found in " + spec.path);
  }
}

void ParseSources(const YAML::Node& root, const std::string& base_dir, PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  YAML::Node sources = Get(root, "sources");
  if (!sources.IsDefined()) {
    AddIssue(issues, "sources", "missing");
    return;
  }
  if (!plan_yaml::ExpectMap(sources, "sources", issues)) return;
  ctx->sources_loaded = true;
  if (sources.size() == 0) AddIssue(issues, "sources", "must not be empty");
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
    if (!plan_yaml::IsPlainName(spec.name)) {
      AddIssue(issues, path,
               "not a valid source name (letters, digits and '_', not starting with a digit)");
    }
    const YAML::Node& node = kv.second;
    if (!plan_yaml::ExpectMap(node, path, issues)) {
      ctx->plan->sources.push_back(std::move(spec));
      continue;
    }
    plan_yaml::CheckKeys(node, path, kSourceKeys, issues);
    spec.kind = plan_yaml::ReadText(node, "kind", path, Need::kRequired, issues).value_or("");
    const bool server = IsServerKind(spec.kind);
    if (server) {
      // Checked below, once the options are read.
    } else if (auto p = plan_yaml::ReadText(node, "path", path, Need::kRequired, issues)) {
      spec.path = Resolve(base_dir, *p);
      std::error_code ec;
      if (!fs::exists(spec.path, ec)) {
        AddIssue(issues, Child(path, "path"), "file not found: " + spec.path);
      }
    }
    ReadOptions(node, path, &spec.options, issues);
    CheckSourceOptions(node, path, &spec.options, issues);
    if (server) {
      CheckServerConnection(node, path, spec.kind, "source", spec.options, issues);
    } else if (Get(node, "dsn").IsDefined()) {
      AddIssue(issues, Child(path, "dsn"), "only for postgres sources");
    }
    if (spec.kind == "sqlite" || server) {
      const bool table = spec.options.count("table") > 0;
      const bool query = spec.options.count("query") > 0;
      if (!table && !query) AddIssue(issues, path, "needs 'table' or 'query'");
      if (table && query) AddIssue(issues, path, "use 'table' or 'query', not both");
      if (spec.kind == "sqlite" && table && !query) CheckSqliteTable(spec, issues);
    }
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

// The rate limit (rows per second, 0 for none) and the retry bounds (whole
// numbers: at least 1 attempt, backoffs of 0 ms or more). Connectors read
// them from `options` with std::strtod and std::stoll, so the whole numbers
// are written back in decimal as YAML read them ("0x10" -> "16").
void CheckTargetLimits(const YAML::Node& node, std::map<std::string, std::string>* options,
                       std::vector<PlanIssue>* issues) {
  if (options->count("max_rows_per_second")) {
    double rate = 0;
    if (!YAML::convert<double>::decode(Get(node, "max_rows_per_second"), rate) ||
        !std::isfinite(rate) || rate < 0) {
      AddIssue(issues, "target.max_rows_per_second",
               "must be a number of rows per second, 0 or more (0: no limit)");
    }
  }
  std::map<std::string, int64_t> read;
  for (const auto& [key, min] : {std::pair<const char*, int64_t>{"max_attempts", 1},
                                 {"retry_base_ms", 0},
                                 {"retry_max_ms", 0}}) {
    auto n = plan_yaml::ReadInt(node, key, "target", Need::kOptional, issues);
    if (!n) continue;
    if (*n < min) {
      AddIssue(issues, Child("target", key), "must be " + std::to_string(min) + " or more");
      continue;
    }
    read[key] = *n;
    (*options)[key] = std::to_string(*n);
  }
  if (read.count("retry_base_ms") && read.count("retry_max_ms") &&
      read["retry_base_ms"] > read["retry_max_ms"]) {
    AddIssue(issues, "target", "retry_base_ms is greater than retry_max_ms");
  }
}

void ParseTarget(const YAML::Node& root, const std::string& base_dir, PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  TargetSpec& target = ctx->plan->target;
  YAML::Node node = Get(root, "target");
  if (!node.IsDefined()) {
    AddIssue(issues, "target", "missing");
    return;
  }
  if (!plan_yaml::ExpectMap(node, "target", issues)) return;
  plan_yaml::CheckKeys(node, "target", kTargetKeys, issues);
  target.kind = plan_yaml::ReadText(node, "kind", "target", Need::kRequired, issues).value_or("");
  const bool server = IsServerKind(target.kind);
  if (!server) {
    if (auto p = plan_yaml::ReadText(node, "path", "target", Need::kRequired, issues)) {
      target.path = Resolve(base_dir, *p);
    }
  }
  ReadOptions(node, "target", &target.options, issues);
  if (server) {
    CheckServerConnection(node, "target", target.kind, "target", target.options, issues);
    if (auto it = target.options.find("schema"); it != target.options.end()) {
      if (!plan_yaml::IsPlainName(it->second)) {
        AddIssue(issues, "target.schema",
                 "not a valid schema name (letters, digits and '_', not starting with a digit)");
      }
    }
    CheckTargetLimits(node, &target.options, issues);
  } else {
    for (const std::string_view key : kTargetKeys) {
      if (key != "kind" && key != "path" && Get(node, key).IsDefined()) {
        AddIssue(issues, Child("target", key), "only for postgres targets");
      }
    }
  }
}

// The default plan name: the plan's folder ("examples/quickstart" ->
// "quickstart").
std::string DefaultName(const std::string& base_dir) {
  std::string name = fs::path(base_dir).lexically_normal().filename().string();
  if (name.empty() || name == "." || name == "..") {
    name = fs::path(base_dir).lexically_normal().parent_path().filename().string();
  }
  return name.empty() || name == "." || name == ".." ? "plan" : name;
}

void ParseTopLevel(const YAML::Node& root, const std::string& base_dir, PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  Plan& plan = *ctx->plan;
  plan_yaml::CheckKeys(
      root, "",
      {"name", "version", "batch_size", "dedup_shards", "state_dir", "model", "sources", "mappings",
       "dedup", "validation", "target", "waves", "environments", "window"},
      issues);
  plan.name = plan_yaml::ReadText(root, "name", "", Need::kOptional, issues)
                  .value_or(DefaultName(base_dir));
  if (plan.name.empty()) AddIssue(issues, "name", "must not be empty");
  if (auto v = plan_yaml::ReadInt(root, "version", "", Need::kOptional, issues); v && *v != 1) {
    AddIssue(issues, "version", "unsupported version " + std::to_string(*v) + " (only 1)");
  }
  if (auto n = plan_yaml::ReadInt(root, "batch_size", "", Need::kOptional, issues)) {
    if (*n < 1 || *n > 1000000) {
      AddIssue(issues, "batch_size", "must be between 1 and 1000000");
    } else {
      plan.batch_size = *n;
    }
  }
  if (auto n = plan_yaml::ReadInt(root, "dedup_shards", "", Need::kOptional, issues)) {
    if (*n < 1 || *n > 64) {
      AddIssue(issues, "dedup_shards", "must be between 1 and 64");
    } else {
      plan.dedup_shards = *n;
    }
  }
  std::string state_dir =
      plan_yaml::ReadText(root, "state_dir", "", Need::kOptional, issues).value_or(".sluice");
  if (state_dir.empty()) AddIssue(issues, "state_dir", "must not be empty");
  plan.state_dir = Resolve(base_dir, state_dir.empty() ? ".sluice" : state_dir);
}

}  // namespace

namespace {

// `path` is `prefix` or lies under it ("target.path" under "target").
bool Under(const std::string& path, const std::string& prefix) {
  if (path.compare(0, prefix.size(), prefix) != 0) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '.' || path[prefix.size()] == '[';
}

// Issues from `first` on that lie under a value the environment set move
// under `environments.<name>.`, where that value is written; issues under
// a secret left unresolved (a note says why) are dropped.
void LocateIssues(const PlanContext& ctx, const std::string& environment, size_t first,
                  size_t first_note, std::vector<PlanIssue>* issues) {
  std::vector<PlanIssue> kept(issues->begin(), issues->begin() + static_cast<long>(first));
  for (size_t i = first; i < issues->size(); ++i) {
    PlanIssue issue = (*issues)[i];
    // The notes still hold paths of the merged plan here.
    bool covered = false;
    for (size_t n = first_note; ctx.secret_notes != nullptr && n < ctx.secret_notes->size(); ++n) {
      covered = covered || Under(issue.path, (*ctx.secret_notes)[n].path);
    }
    if (covered) continue;
    for (const std::string& set : ctx.overridden) {
      if (!issue.path.empty() && Under(issue.path, set)) {
        issue.path = "environments." + environment + "." + issue.path;
        break;
      }
    }
    kept.push_back(std::move(issue));
  }
  *issues = std::move(kept);
  if (ctx.secret_notes == nullptr) return;
  for (size_t n = first_note; n < ctx.secret_notes->size(); ++n) {
    PlanIssue& note = (*ctx.secret_notes)[n];
    for (const std::string& set : ctx.overridden) {
      if (Under(note.path, set)) {
        note.path = "environments." + environment + "." + note.path;
        break;
      }
    }
  }
}

Plan ParsePlanWith(const std::string& yaml_text, const std::string& base_dir,
                   std::vector<PlanIssue>* issues, std::vector<PlanIssue>* secret_notes,
                   const std::string& environment) {
  Plan plan;
  plan.base_dir = base_dir;
  plan.yaml_text = yaml_text;
  PlanContext ctx;
  ctx.plan = &plan;
  ctx.issues = issues;
  ctx.secret_notes = secret_notes;
  const size_t first_issue = issues->size();
  const size_t first_note = secret_notes != nullptr ? secret_notes->size() : 0;
  std::string model_text;
  try {
    YAML::Node root = YAML::Load(yaml_text);
    if (!root.IsMap()) {
      AddIssue(issues, "", "a plan must be a yaml mapping");
    } else {
      if (!environment.empty() || Get(root, "environments").IsDefined()) {
        root = plan_yaml::ApplyEnvironment(root, environment, &ctx);
        // Workers parse the plan as it applies here, environment included,
        // with the secrets still unresolved.
        if (!environment.empty()) {
          YAML::Emitter out;
          out << root;
          plan.yaml_text = std::string(out.c_str()) + "\n";
        }
      }
      plan_yaml::ResolveNodeSecrets(root, "", base_dir, &ctx);
      ParseTopLevel(root, base_dir, &ctx);
      plan_yaml::ParseWindow(root, &ctx);
      model_text = ParseModelKey(root, base_dir, &ctx);
      ParseSources(root, base_dir, &ctx);
      plan_yaml::ParseMappings(root, &ctx);
      plan_yaml::ParseDedup(root, &ctx);
      plan_yaml::ParseValidation(root, &ctx);
      ParseTarget(root, base_dir, &ctx);
      ParseWaves(root, &ctx);
    }
  } catch (const YAML::Exception& e) {
    issues->push_back(plan_yaml::YamlErrorIssue(e, ""));
  }
  LocateIssues(ctx, environment, first_issue, first_note, issues);
  plan.content_hash = plan_yaml::Hex64(Hash64(plan.yaml_text + model_text));
  return plan;
}

}  // namespace

Plan ParsePlan(const std::string& yaml_text, const std::string& base_dir,
               std::vector<PlanIssue>* issues, const std::string& environment) {
  return ParsePlanWith(yaml_text, base_dir, issues, nullptr, environment);
}

Plan ParsePlanForCheck(const std::string& yaml_text, const std::string& base_dir,
                       std::vector<PlanIssue>* issues, std::vector<PlanIssue>* secret_notes,
                       const std::string& environment) {
  return ParsePlanWith(yaml_text, base_dir, issues, secret_notes, environment);
}

Result<Plan> LoadPlan(const std::string& path, const std::string& environment) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound(path + ": file not found");
  std::optional<std::string> text = ReadFile(path);
  if (!text) return Status::IoError(path + ": cannot read the file");
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = fs::path(path);
  std::vector<PlanIssue> issues;
  Plan plan = ParsePlan(*text, abs.lexically_normal().parent_path().string(), &issues, environment);
  plan.path = path;
  if (issues.empty()) return plan;
  std::string message;
  for (const PlanIssue& issue : issues) {
    if (!message.empty()) message += '\n';
    message +=
        path + ": " +
        RedactSecrets(issue.path.empty() ? issue.message : issue.ToString(), plan.secret_values);
  }
  return Status::InvalidArgument(message);
}

}  // namespace sluice
