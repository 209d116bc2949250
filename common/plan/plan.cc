// The plan: top-level keys and the model reference. The sources and the
// target live in plan_connectors.cc, the per-entity sections in
// plan_entities.cc, the model in model.cc.

#include "common/plan/plan.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/audit/sqlite_util.h"
#include "common/core/hash.h"
#include "common/plan/plan_env.h"
#include "common/plan/plan_yaml.h"

namespace sluice {

using plan_yaml::AddIssue;
using plan_yaml::Child;
using plan_yaml::Get;
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

std::optional<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
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
    const std::string path = plan_yaml::ResolvePath(base_dir, node.Scalar());
    if (std::optional<std::string> read = ReadFile(path)) {
      text = std::move(*read);
      have_node = plan_yaml::LoadYaml(text, "model", &model_node, issues);
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
       "dedup", "validation", "target", "waves", "environments", "window", "pii", "segments"},
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
  plan.state_dir = plan_yaml::ResolvePath(base_dir, state_dir.empty() ? ".sluice" : state_dir);
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
                   const std::string& environment, const ConnectorCatalog& connectors) {
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
    YAML::Node root;
    if (!plan_yaml::LoadYaml(yaml_text, "", &root, issues)) {
      // Reported with its line and column.
    } else if (!root.IsMap()) {
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
      plan_yaml::ParseSources(root, base_dir, connectors, &ctx);
      plan_yaml::ParseMappings(root, &ctx);
      plan_yaml::CheckSoftDeletes(&ctx);
      plan_yaml::ParseDedup(root, &ctx);
      plan_yaml::ParseValidation(root, &ctx);
      plan_yaml::ParseTarget(root, base_dir, connectors, &ctx);
      ParseWaves(root, &ctx);
      plan_yaml::ParsePii(root, &ctx);
      plan_yaml::ParseSegments(root, &ctx);
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
               std::vector<PlanIssue>* issues, const std::string& environment,
               const ConnectorCatalog& connectors) {
  return ParsePlanWith(yaml_text, base_dir, issues, nullptr, environment, connectors);
}

Plan ParsePlanForCheck(const std::string& yaml_text, const std::string& base_dir,
                       std::vector<PlanIssue>* issues, std::vector<PlanIssue>* secret_notes,
                       const std::string& environment, const ConnectorCatalog& connectors) {
  return ParsePlanWith(yaml_text, base_dir, issues, secret_notes, environment, connectors);
}

Result<Plan> LoadPlan(const std::string& path, const std::string& environment,
                      const ConnectorCatalog& connectors) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound(path + ": file not found");
  std::optional<std::string> text = ReadFile(path);
  if (!text) return Status::IoError(path + ": cannot read the file");
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = fs::path(path);
  std::vector<PlanIssue> issues;
  Plan plan = ParsePlan(*text, abs.lexically_normal().parent_path().string(), &issues, environment,
                        connectors);
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
