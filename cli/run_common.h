// What `sluice run` and `sluice resume` share: the production window guard
// before the run (docs/consolidation.md#the-production-window), the run
// supervised from the terminal (docs/operations.md), and its summary and
// exit code after it.
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

// The coordinator's CURVE settings into `options` (`sluice run` and
// `resume` --key, --authorized-keys, --insecure): the key pair and the
// workers' public keys go together, and a local run takes neither (it makes
// keys of its own). InvalidArgument with the reason otherwise.
Status ReadRunKeys(const std::string& key_file, const std::string& authorized_keys, bool insecure,
                   RunOptions* options);

// Runs `plan` as RunPlan does, supervised from this terminal: its live
// progress on stderr (cli/progress_display.h; nothing when `quiet`), and
// Ctrl-C or SIGTERM halting it cleanly, resumable. A second Ctrl-C exits at
// once: the run is then `interrupted` and `sluice resume` continues it.
Result<RunSummary> RunSupervised(CommandContext& ctx, const Plan& plan, RunOptions options,
                                 bool quiet);

// Prints the summary of a run that ended (with `json`, also as one JSON
// object on the last line) and returns its exit code: kExitOk when it
// completed, kExitOutsideWindow when it paused at the end of the window,
// kExitHalted when it halted (or another coordinator took it over).
// With `state_dir`, also writes the run's HTML report (cli/run_report.h)
// beside its wave reports and prints its path (issue 17).
int ReportRun(CommandContext& ctx, const RunSummary& summary, bool json,
              const std::string& state_dir = "");

}  // namespace sluice::cli
