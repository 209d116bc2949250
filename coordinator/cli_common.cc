#include "coordinator/cli_common.h"

#include <filesystem>

#include "common/plan/plan.h"

namespace sluice {

Result<std::string> FindAuditStore(const std::string& plan_path, const std::string& state_dir) {
  std::string dir = state_dir;
  if (dir.empty() && !plan_path.empty()) {
    SLUICE_ASSIGN_OR_RETURN(Plan plan, LoadPlan(plan_path));
    dir = plan.state_dir;
  }
  if (dir.empty()) dir = ".sluice";
  auto path = std::filesystem::path(dir) / "audit.db";
  if (!std::filesystem::exists(path)) return Status::NotFound("no audit store at " + path.string());
  return path.string();
}

}  // namespace sluice
