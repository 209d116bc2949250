// `sluice plan check PLAN [--env NAME]` (docs/plan.md#checking-a-plan).
#pragma once

#include <string>
#include <vector>

namespace sluice {

// What `plan check` prints and returns.
struct PlanCheckReport {
  std::vector<std::string> problems;  // "<file>: <yaml path>: <message>"
  std::vector<std::string> notes;     // "<file>: note: <yaml path>: <message>"
  std::vector<std::string> summary;   // the "ok" lines, when there is no problem
  int exit_code = 0;                  // 0 clean, 2 problems (kExitInvalidPlan)
};

// With `environment`, checks the plan as it applies there: every secret must
// resolve, as for `sluice run --env`. Without, checks the plan as written
// (as `sluice run PLAN` reads it: its secrets must resolve) and as it applies
// in each of its environments, where a secret the environment sets that
// cannot be resolved on this machine is a note naming its YAML path (never a
// value), not a problem. A problem found only in an environment's merged
// plan, at a path the environment does not set, says in which environment
// (" (environment prod)").
PlanCheckReport CheckPlanFile(const std::string& plan_path, const std::string& environment);

// Prints the report (problems and notes on stdout) and returns its exit code.
int CmdPlanCheck(const std::string& plan_path, const std::string& environment);

}  // namespace sluice
