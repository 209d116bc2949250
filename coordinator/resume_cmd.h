// `sluice run`'s production window guard and `sluice resume`.
#pragma once

#include <cstdint>
#include <string>

#include "common/plan/plan.h"
#include "coordinator/run_controller.h"

namespace sluice {

// Exit codes shared with cli.cc.
inline constexpr int kExitOutsideWindow = 4;  // outside the window, or paused at its end

// Checks the plan's production window against the run clock. Outside it,
// prints when it opens and returns kExitOutsideWindow (unless
// `ignore_window`); inside, sets options->window_closes_at. Returns 0 to go on.
int GuardWindow(const Plan& plan, bool ignore_window, RunOptions* options);

struct ResumeArgs {
  std::string run_id;
  std::string plan_path;  // default: the plan the run used
  std::string state_dir;  // default: the plan's, else .sluice
  bool json = false;
  bool ignore_window = false;
  std::string log_level = "warn";
  int stall_timeout = 120;
  uint32_t dedup_shards = 0;  // as `sluice run --dedup-shards`; 0: the plan's
};

// Continues a halted or paused run from its first wave that did not
// reconcile, as a new run linked to it: the completed waves are not loaded
// again. The plan is read again (the cause of the halt may have been fixed
// there) with the run's environment.
int CmdResume(const ResumeArgs& args);

}  // namespace sluice
