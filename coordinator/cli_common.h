// What the `sluice` subcommands share: exit codes and where the audit store is.
#pragma once

#include <string>

#include "common/core/status.h"

namespace sluice {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitInvalidPlan = 2;
inline constexpr int kExitHalted = 3;

// The audit store file (`<state dir>/audit.db`) of `state_dir` when given,
// else of the plan's state dir, else of `.sluice`. NotFound when there is no
// store there; the plan's parse error when the plan is needed and invalid.
Result<std::string> FindAuditStore(const std::string& plan_path, const std::string& state_dir);

}  // namespace sluice
