// What `sluice run` and `sluice resume` share: the production window guard
// before the run (docs/consolidation.md#the-production-window), and its
// summary and exit code after it.
#pragma once

#include "cli/command.h"
#include "common/plan/plan.h"
#include "coordinator/run_controller.h"

namespace sluice::cli {

// Checks the plan's production window against the run clock. Outside it,
// prints when it opens and returns kExitOutsideWindow (unless
// `ignore_window`); inside, sets options->window_closes_at. Returns kExitOk
// to go on.
int GuardWindow(CommandContext& ctx, const Plan& plan, bool ignore_window, RunOptions* options);

// Prints the summary of a run that ended (with `json`, also as one JSON
// object on the last line) and returns its exit code: kExitOk when it
// completed, kExitOutsideWindow when it paused at the end of the window,
// kExitHalted when it halted.
int ReportRun(CommandContext& ctx, const RunSummary& summary, bool json);

}  // namespace sluice::cli
