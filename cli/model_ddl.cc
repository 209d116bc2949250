// `sluice model ddl MODEL --target sqlite|postgres`: the tables a target
// creates from the canonical model, printed as SQL (docs/plan.md#the-model).
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "cli/command.h"
#include "common/connectors/connector.h"

namespace sluice::cli {
namespace {

struct ModelDdlArgs {
  std::string path;  // a model file, or a plan (for its model)
  std::string target = "sqlite";
  std::string schema = "public";  // postgres: the schema of the tables
};

// The DDL of every entity of `model` for `target` (`schema` is the PostgreSQL
// schema): the statements that target runs, from its registration (TargetDdl).
Result<std::string> ModelDdl(const Model& model, const std::string& target,
                             const std::string& schema) {
  return TargetDdl(model, TargetSpec{target, "", {{"schema", schema}}});
}

// Reads a model file, or the model of a plan file (a YAML with `mappings`).
Result<Model> LoadModelOrPlanModel(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + ": cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  bool is_plan = false;
  try {
    YAML::Node root = YAML::Load(text.str());
    is_plan = root.IsMap() && root["mappings"];
  } catch (const YAML::Exception&) {
    // ParseModel reports it with its position.
  }
  if (is_plan) {
    SLUICE_ASSIGN_OR_RETURN(Plan plan, LoadPlan(path));
    return plan.model;
  }
  std::vector<PlanIssue> issues;
  Model model = ParseModel(text.str(), &issues);
  if (issues.empty()) return model;
  std::string message;
  for (const PlanIssue& issue : issues) {
    message += (message.empty() ? "" : "\n") + path + ": " + issue.ToString();
  }
  return Status::InvalidArgument(message);
}

int ModelDdlCommand(const ModelDdlArgs& args, CommandContext& ctx) {
  auto model = LoadModelOrPlanModel(args.path);
  if (!model.ok()) return ctx.Fail(model.status().message(), kExitInvalidPlan);
  auto ddl = ModelDdl(*model, args.target, args.schema);
  if (!ddl.ok()) return ctx.Fail(ddl.status().message(), kExitInvalidPlan);
  ctx.out() << *ddl;
  return kExitOk;
}

}  // namespace

void AddModelDdlCommand(CommandSet& commands) {
  auto [ddl, args] = commands.Add(commands.Group("model", "work with the canonical model"), "ddl",
                                  "print the target tables the model creates", ModelDdlCommand);
  ddl->add_option("model", args->path, "the model YAML (or a plan, for its model)")->required();
  ddl->add_option("--target", args->target, "sqlite or postgres")
      ->check(CLI::IsMember(DdlTargetKinds()));
  ddl->add_option("--schema", args->schema, "postgres: the schema of the tables");
}

}  // namespace sluice::cli
