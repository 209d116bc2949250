#include "coordinator/resume_cmd.h"

#include <filesystem>
#include <iostream>

#include "common/audit/audit_store.h"
#include "common/core/log.h"
#include "coordinator/cli_common.h"
#include "coordinator/window.h"

namespace sluice {

int GuardWindow(const Plan& plan, bool ignore_window, RunOptions* options) {
  if (!plan.window || ignore_window) return 0;
  auto clock = RunClock::FromEnvironment();
  if (!clock.ok()) {
    std::cerr << "sluice: " << clock.status().message() << "\n";
    return kExitError;
  }
  auto pos = LocateInWindow(*plan.window, clock->Now());
  if (!pos.ok()) {
    std::cerr << "sluice: " << pos.status().message() << "\n";
    return kExitInvalidPlan;
  }
  if (!pos->open) {
    std::cerr << "sluice: outside the production window " << pos->span
              << (plan.environment.empty() ? "" : " of environment " + plan.environment)
              << "; it opens at " << FormatInZone(pos->opens_at, plan.window->tz)
              << ". Run then, or give --ignore-window.\n";
    return kExitOutsideWindow;
  }
  options->window_closes_at = pos->closes_at;
  options->window_text = pos->span;
  return 0;
}

int CmdResume(const ResumeArgs& args) {
  InitLogging("coordinator", ParseLogLevel(args.log_level));
  // The audit store: the given state dir, the given plan's, or .sluice.
  std::string state_dir = args.state_dir;
  if (state_dir.empty() && !args.plan_path.empty()) {
    auto plan = LoadPlan(args.plan_path);
    if (plan.ok()) state_dir = plan->state_dir;
  }
  if (state_dir.empty()) state_dir = ".sluice";
  const auto audit_path = std::filesystem::path(state_dir) / "audit.db";
  if (!std::filesystem::exists(audit_path)) {
    std::cerr << "sluice: no audit store at " << audit_path.string()
              << " (give --state-dir or --plan)\n";
    return kExitError;
  }
  std::unique_ptr<AuditStore> audit;
  {
    auto opened = AuditStore::Open(audit_path.string());
    if (!opened.ok()) {
      std::cerr << "sluice: " << opened.status().message() << "\n";
      return kExitError;
    }
    audit = std::move(opened).value();
  }
  auto run = audit->Run(args.run_id);
  if (!run.ok()) {
    std::cerr << "sluice: " << run.status().message() << "\n";
    return kExitError;
  }
  if (run->status != "halted" && run->status != "paused") {
    std::cerr << "sluice: run " << args.run_id << " is " << run->status
              << ": only a halted or paused run can be resumed\n";
    return kExitError;
  }
  const std::string environment = run->environment == "default" ? "" : run->environment;
  const std::string plan_path = args.plan_path.empty() ? run->plan_path : args.plan_path;
  auto plan = LoadPlan(plan_path, environment);
  if (!plan.ok()) {
    std::cerr << "sluice: the plan is invalid:\n" << plan.status().message() << "\n";
    return kExitInvalidPlan;
  }
  plan->state_dir = std::filesystem::absolute(state_dir).lexically_normal().string();
  auto waves = audit->Waves(args.run_id);
  if (!waves.ok()) {
    std::cerr << "sluice: " << waves.status().message() << "\n";
    return kExitError;
  }
  // The first wave that did not reconcile; the completed ones must still be
  // the same waves in the plan, or skipping them would skip something else.
  int start = 0;
  while (start < static_cast<int>(plan->waves.size())) {
    auto it = waves->find(start);
    if (it == waves->end() || it->second.second != "completed") break;
    if (it->second.first != plan->waves[start].name) {
      std::cerr << "sluice: wave " << start << " of run " << args.run_id << " was '"
                << it->second.first << "' but the plan's is now '" << plan->waves[start].name
                << "': the completed waves cannot be skipped safely\n";
      return kExitInvalidPlan;
    }
    ++start;
  }
  audit.reset();  // the coordinator opens it for writing
  RunOptions options;
  options.local = true;
  options.log_level = args.log_level;
  options.stall_timeout = std::chrono::seconds(args.stall_timeout);
  options.resumed_from = args.run_id;
  options.start_wave = start;
  const uint32_t dedup_shards =
      args.dedup_shards != 0 ? args.dedup_shards : static_cast<uint32_t>(plan->dedup_shards);
  options.replicas["deduper"] = dedup_shards;
  if (int code = GuardWindow(*plan, args.ignore_window, &options); code != 0) return code;
  std::cout << "resuming run " << args.run_id << " from wave "
            << (start < static_cast<int>(plan->waves.size()) ? plan->waves[start].name
                                                             : std::string("(none left)"))
            << " (" << start << " completed wave(s) not loaded again)\n";
  auto summary = RunPlan(*plan, options);
  if (!summary.ok()) {
    std::cerr << "sluice: run failed: "
              << RedactSecrets(summary.status().ToString(), plan->secret_values) << "\n";
    return kExitError;
  }
  // The resumed run is now history: `sluice runs` shows who continued it.
  if (auto reopened = AuditStore::Open(audit_path.string()); reopened.ok()) {
    Status st = (*reopened)->EndRun(args.run_id, "resumed", run->halt_reason, run->summary_json,
                                    run->ended_ms);
    if (!st.ok()) std::cerr << "sluice: " << st.message() << "\n";
  }
  std::cout << SummaryText(*summary);
  if (args.json) std::cout << SummaryJson(*summary) << "\n";
  std::cout.flush();
  if (summary->status == "completed") return kExitOk;
  return summary->status == "paused" ? kExitOutsideWindow : kExitHalted;
}

}  // namespace sluice
