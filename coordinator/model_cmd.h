// `sluice model ddl MODEL --target sqlite|postgres`: the tables a target
// creates from the canonical model, printed as SQL (docs/plan.md#the-model).
#pragma once

#include <string>

#include "common/plan/plan.h"
#include "common/core/status.h"

namespace sluice {

// The DDL of every entity of `model` for `target` ("sqlite" or "postgres";
// `schema` is the PostgreSQL schema), in model order, each statement ending
// with ";\n", headed by a comment naming the model's content hash. The
// statements are the ones the targets run (SqliteEntityDdl, PgEntity).
Result<std::string> ModelDdl(const Model& model, const std::string& target,
                             const std::string& schema);

// Reads a model file, or the model of a plan file (a YAML with `mappings`).
Result<Model> LoadModelOrPlanModel(const std::string& path);

// The CLI command; returns the process exit code (2 for an invalid model).
int CmdModelDdl(const std::string& path, const std::string& target, const std::string& schema);

}  // namespace sluice
