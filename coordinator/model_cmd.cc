#include "coordinator/model_cmd.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "common/connectors/postgres/postgres_load.h"
#include "common/connectors/sqlite/sqlite_target.h"

namespace sluice {

Result<std::string> ModelDdl(const Model& model, const std::string& target,
                             const std::string& schema) {
  std::string out = "-- sluice model, content hash " + model.content_hash + "\n";
  int ordinal = 0;
  for (const Entity& e : model.entities) {
    if (target == "sqlite") {
      out += SqliteEntityDdl(e) + ";\n";
    } else if (target == "postgres") {
      out += PgEntity::Build(e, schema, ordinal++).create_table + ";\n";
    } else {
      return Status::InvalidArgument("unknown target '" + target + "' (sqlite or postgres)");
    }
  }
  return out;
}

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

int CmdModelDdl(const std::string& path, const std::string& target, const std::string& schema) {
  auto model = LoadModelOrPlanModel(path);
  if (!model.ok()) {
    std::cerr << "sluice: " << model.status().message() << "\n";
    return 2;
  }
  auto ddl = ModelDdl(*model, target, schema);
  if (!ddl.ok()) {
    std::cerr << "sluice: " << ddl.status().message() << "\n";
    return 2;
  }
  std::cout << *ddl;
  return 0;
}

}  // namespace sluice
