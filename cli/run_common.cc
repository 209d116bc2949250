#include "cli/run_common.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "cli/progress_display.h"
#include "cli/run_report.h"
#include "common/runtime/curve_keys.h"
#include "coordinator/window.h"

namespace sluice::cli {
namespace {

// The signal that asked the run to halt (0: none), and the run's id for
// the message of a second Ctrl-C. Set by the handler and the progress
// callback, read by the coordinator's loop and the handler.
std::atomic<int> g_interrupted{0};
char g_run_id[64] = {0};
std::atomic<bool> g_run_id_set{false};

void Say(const char* text) { (void)!write(STDERR_FILENO, text, std::strlen(text)); }

extern "C" void OnInterrupt(int sig) {
  if (g_interrupted.exchange(sig) == 0) {
    Say("\nsluice: halting the run cleanly (Ctrl-C again to exit at once; it stays resumable)\n");
    return;
  }
  // A second signal: out at once. The local workers die with this process;
  // the run is left `interrupted`, and `sluice resume` continues it.
  Say("\nsluice: exiting at once; continue the run with `sluice resume ");
  Say(g_run_id_set.load() ? g_run_id : "RUN");
  Say("`\n");
  _exit(130);
}

// Installs OnInterrupt for SIGINT and SIGTERM while it lives.
class InterruptHandlers {
 public:
  InterruptHandlers() {
    g_interrupted = 0;
    g_run_id_set = false;
    struct sigaction sa {};
    sa.sa_handler = OnInterrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~InterruptHandlers() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

}  // namespace

Status ReadRunKeys(const std::string& key_file, const std::string& authorized_keys, bool insecure,
                   RunOptions* options) {
  options->insecure = insecure;
  if (key_file.empty() && authorized_keys.empty()) return Status::Ok();
  if (options->local) {
    return Status::InvalidArgument(
        "--local makes its own keys for the run: --key and --authorized-keys are for workers "
        "on other machines");
  }
  if (key_file.empty() || authorized_keys.empty()) {
    return Status::InvalidArgument("--key and --authorized-keys go together");
  }
  SLUICE_ASSIGN_OR_RETURN(options->keys, ReadCurveSecretFile(key_file));
  SLUICE_ASSIGN_OR_RETURN(options->authorized_keys, ReadAuthorizedKeys(authorized_keys));
  return Status::Ok();
}

Result<RunSummary> RunSupervised(CommandContext& ctx, const Plan& plan, RunOptions options,
                                 bool quiet) {
  ProgressDisplay display(ctx.err(), ProgressDisplay::ModeFor(quiet));
  InterruptHandlers handlers;
  options.interrupted = &g_interrupted;
  options.on_progress = [&display](const v1::RunProgress& p) {
    if (!g_run_id_set.load() && p.run_id().size() < sizeof g_run_id) {
      std::memcpy(g_run_id, p.run_id().c_str(), p.run_id().size() + 1);
      g_run_id_set = true;
    }
    display.Show(p, std::chrono::steady_clock::now());
  };
  auto summary = RunPlan(plan, options);
  display.Close();
  return summary;
}

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

int ReportRun(CommandContext& ctx, const RunSummary& summary, bool json,
              const std::string& state_dir) {
  ctx.out() << SummaryText(summary);
  if (!state_dir.empty() && !summary.run_id.empty()) {
    if (auto page = WriteRunReportHtml(state_dir, summary.run_id); page.ok()) {
      ctx.out() << "report: " << *page << "\n";
    } else {
      ctx.err() << "sluice: cannot write the run report: " << page.status().message() << "\n";
    }
  }
  if (json) ctx.out() << SummaryJson(summary) << "\n";
  ctx.out().flush();
  if (summary.status == "completed") return kExitOk;
  return summary.status == "paused" ? kExitOutsideWindow : kExitHalted;
}

}  // namespace sluice::cli
