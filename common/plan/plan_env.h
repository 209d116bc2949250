// The parts of a plan that depend on where it runs: environments (overlays
// over the plan), secrets (`${env:NAME}`, `${file:PATH}`) and the production
// window. Internal to the plan parser (plan.cc); not part of sluice's
// interface.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "common/plan/plan_yaml.h"

namespace sluice::plan_yaml {

// Top-level keys an environment may override: every plan key but
// `environments` itself.
extern const std::vector<std::string_view> kOverridableKeys;

// Reads the names under `environments:` into plan.environment_names and, when
// `environment` is not empty, returns `root` with that environment's
// settings merged over it (mappings key by key, everything else replaced)
// and without `environments`. Returns `root` itself when `environment` is "".
YAML::Node ApplyEnvironment(const YAML::Node& root, const std::string& environment,
                            PlanContext* ctx);

// Resolves every secret reference in the text values of `node` (in place),
// reporting failures at their YAML path. Values go to plan.secret_values.
void ResolveNodeSecrets(YAML::Node node, const std::string& path, const std::string& base_dir,
                        PlanContext* ctx);

// Reads `window: {start, end, tz}` into plan.window.
void ParseWindow(const YAML::Node& root, PlanContext* ctx);

}  // namespace sluice::plan_yaml
