#include "cli/run_common.h"

#include "coordinator/window.h"

namespace sluice::cli {

int GuardWindow(CommandContext& ctx, const Plan& plan, bool ignore_window, RunOptions* options) {
  if (!plan.window || ignore_window) return kExitOk;
  auto clock = RunClock::FromEnvironment();
  if (!clock.ok()) return ctx.Fail(clock.status().message(), kExitError);
  auto pos = LocateInWindow(*plan.window, clock->Now());
  if (!pos.ok()) return ctx.Fail(pos.status().message(), kExitInvalidPlan);
  if (!pos->open) {
    ctx.err() << "sluice: outside the production window " << pos->span
              << (plan.environment.empty() ? "" : " of environment " + plan.environment)
              << "; it opens at " << FormatInZone(pos->opens_at, plan.window->tz)
              << ". Run then, or give --ignore-window.\n";
    return kExitOutsideWindow;
  }
  options->window_closes_at = pos->closes_at;
  options->window_text = pos->span;
  return kExitOk;
}

int ReportRun(CommandContext& ctx, const RunSummary& summary, bool json) {
  ctx.out() << SummaryText(summary);
  if (json) ctx.out() << SummaryJson(summary) << "\n";
  ctx.out().flush();
  if (summary.status == "completed") return kExitOk;
  return summary.status == "paused" ? kExitOutsideWindow : kExitHalted;
}

}  // namespace sluice::cli
