#include "coordinator/cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/audit_store.h"
#include "common/connector.h"
#include "common/log.h"
#include "common/plan.h"
#include "coordinator/run_controller.h"
#include "coordinator/trace.h"

namespace sluice {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitInvalidPlan = 2;
constexpr int kExitHalted = 3;

// The audit store of a plan (its state dir) or of an explicit state dir.
Result<std::unique_ptr<AuditStore>> OpenAudit(const std::string& plan_path,
                                              const std::string& state_dir) {
  std::string dir = state_dir;
  if (dir.empty() && !plan_path.empty()) {
    SLUICE_ASSIGN_OR_RETURN(Plan plan, LoadPlan(plan_path));
    dir = plan.state_dir;
  }
  if (dir.empty()) dir = ".sluice";
  auto path = std::filesystem::path(dir) / "audit.db";
  if (!std::filesystem::exists(path)) return Status::NotFound("no audit store at " + path.string());
  return AuditStore::Open(path.string(), /*readonly=*/true);
}

int CmdRun(const std::string& plan_path, bool local, bool json, const std::string& state_dir,
           const std::string& bind, const std::vector<std::string>& faults,
           const std::string& log_level, int stall_timeout) {
  InitLogging("coordinator", ParseLogLevel(log_level));
  auto plan = LoadPlan(plan_path);
  if (!plan.ok()) {
    std::cerr << "sluice: the plan is invalid:\n" << plan.status().message() << "\n";
    if (json) {
      std::cout << nlohmann::json({{"run_id", nullptr},
                                   {"status", "invalid"},
                                   {"halt_reason", plan.status().message()},
                                   {"entities", nlohmann::json::array()}})
                       .dump()
                << "\n";
    }
    return kExitInvalidPlan;
  }
  if (!state_dir.empty()) plan->state_dir = std::filesystem::absolute(state_dir).string();
  RunOptions options;
  options.local = local;
  if (!bind.empty())
    options.control_bind = bind;
  else if (!local)
    options.control_bind = "tcp://0.0.0.0:5570";
  options.log_level = log_level;
  options.stall_timeout = std::chrono::seconds(stall_timeout);
  for (const auto& f : faults) {
    auto colon = f.find(':');
    if (colon == std::string::npos) {
      std::cerr << "sluice: --test-fault takes ROLE:SPEC, got '" << f << "'\n";
      return kExitInvalidPlan;
    }
    options.faults[f.substr(0, colon)] = f.substr(colon + 1);
  }
  auto summary = RunPlan(*plan, options);
  if (!summary.ok()) {
    std::cerr << "sluice: run failed: " << summary.status().ToString() << "\n";
    return kExitError;
  }
  std::cout << SummaryText(*summary);
  if (json) std::cout << SummaryJson(*summary) << "\n";
  std::cout.flush();
  return summary->status == "completed" ? kExitOk : kExitHalted;
}

int CmdPlanCheck(const std::string& plan_path) {
  auto plan = LoadPlan(plan_path);
  if (!plan.ok()) {
    std::cout << plan.status().message() << "\n";
    return kExitInvalidPlan;
  }
  std::cout << plan_path << ": ok (" << plan->sources.size() << " sources, "
            << plan->mappings.size() << " mappings, " << plan->waves.size() << " waves; plan hash "
            << plan->content_hash << ", model hash " << plan->model.content_hash << ")\n";
  return kExitOk;
}

int CmdRuns(const std::string& plan_path, const std::string& state_dir) {
  auto audit = OpenAudit(plan_path, state_dir);
  if (!audit.ok()) {
    std::cerr << "sluice: " << audit.status().message() << "\n";
    return kExitError;
  }
  auto runs = (*audit)->Runs();
  if (!runs.ok()) {
    std::cerr << "sluice: " << runs.status().message() << "\n";
    return kExitError;
  }
  std::printf("%-28s %-14s %-10s %-10s %10s  %s\n", "run", "plan", "env", "status", "seconds",
              "halt reason");
  for (const auto& r : *runs) {
    double secs = r.ended_ms > 0 ? (r.ended_ms - r.started_ms) / 1000.0 : 0;
    std::printf("%-28s %-14s %-10s %-10s %10.1f  %s\n", r.run_id.c_str(), r.plan_name.c_str(),
                r.environment.c_str(), r.status.c_str(), secs, r.halt_reason.c_str());
  }
  return kExitOk;
}

int CmdTrace(const std::string& entity, const std::string& source_key, const std::string& plan_path,
             const std::string& state_dir) {
  auto colon = source_key.find(':');
  if (colon == std::string::npos) {
    std::cerr << "sluice: trace takes SOURCE:KEY, got '" << source_key << "'\n";
    return kExitInvalidPlan;
  }
  auto audit = OpenAudit(plan_path, state_dir);
  if (!audit.ok()) {
    std::cerr << "sluice: " << audit.status().message() << "\n";
    return kExitError;
  }
  auto text =
      TraceRecord(**audit, entity, source_key.substr(0, colon), source_key.substr(colon + 1));
  if (!text.ok()) {
    std::cerr << "sluice: " << text.status().message() << "\n";
    return kExitError;
  }
  std::cout << *text;
  return kExitOk;
}

int CmdRollback(const std::string& run_id, const std::string& plan_arg,
                const std::string& state_dir) {
  // The run's own plan, unless another is given (e.g. after a move).
  std::string plan_path = plan_arg;
  if (plan_path.empty()) {
    auto audit = OpenAudit("", state_dir);
    if (!audit.ok()) {
      std::cerr << "sluice: " << audit.status().message() << " (give --plan or --state-dir)\n";
      return kExitError;
    }
    auto run = (*audit)->Run(run_id);
    if (!run.ok()) {
      std::cerr << "sluice: " << run.status().message() << "\n";
      return kExitError;
    }
    plan_path = run->plan_path;
  }
  auto plan = LoadPlan(plan_path);
  if (!plan.ok()) {
    std::cerr << "sluice: the plan is invalid:\n" << plan.status().message() << "\n";
    return kExitInvalidPlan;
  }
  if (!state_dir.empty()) plan->state_dir = std::filesystem::absolute(state_dir).string();
  auto audit_path = std::filesystem::path(plan->state_dir) / "audit.db";
  auto audit = AuditStore::Open(audit_path.string());
  if (!audit.ok()) {
    std::cerr << "sluice: " << audit.status().message() << "\n";
    return kExitError;
  }
  auto run = (*audit)->Run(run_id);
  if (!run.ok()) {
    std::cerr << "sluice: " << run.status().message() << "\n";
    return kExitError;
  }
  auto target = OpenTarget(plan->target);
  if (!target.ok()) {
    std::cerr << "sluice: " << target.status().message() << "\n";
    return kExitError;
  }
  // Children before parents: the reverse of the load order.
  std::vector<std::string> entities;
  for (const auto& wave : plan->waves) {
    for (const auto& e : wave.entities) entities.push_back(e);
  }
  for (auto it = entities.rbegin(); it != entities.rend(); ++it) {
    const Entity* entity = plan->model.Find(*it);
    if (entity == nullptr) continue;
    Status st = (*target)->Rollback(run_id, *entity);
    if (!st.ok()) {
      std::cerr << "sluice: rollback of " << *it << " failed: " << st.message() << "\n";
      return kExitError;
    }
    std::cout << "rolled back " << *it << " of run " << run_id << "\n";
  }
  Status st =
      (*audit)->EndRun(run_id, "rolled_back", run->halt_reason, run->summary_json, run->ended_ms);
  if (!st.ok()) {
    std::cerr << "sluice: " << st.message() << "\n";
    return kExitError;
  }
  std::cout << "run " << run_id << " rolled back: the target is as it was before the run\n";
  return kExitOk;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"sluice: consolidate legacy systems into one target, and prove nothing was lost"};
  app.require_subcommand(1);

  std::string plan_path, state_dir, bind, log_level = "warn";
  bool local = false, json = false;
  int stall_timeout = 120;
  std::vector<std::string> faults;
  auto* run = app.add_subcommand("run", "run a plan");
  run->add_option("plan", plan_path, "the plan YAML")->required();
  run->add_flag("--local", local, "start the coordinator and one of each worker on this machine");
  run->add_flag("--json", json, "print the summary as one JSON object on the last line");
  run->add_option("--state-dir", state_dir,
                  "audit store, shard logs and reports (default: the plan's)");
  run->add_option("--bind", bind, "control endpoint workers register with");
  run->add_option("--log-level", log_level, "coordinator and worker log level");
  run->add_option("--stall-timeout", stall_timeout, "seconds without progress before halting");
  run->add_option("--test-fault", faults, "test only: ROLE:SPEC fault injection")->group("");

  auto* plan = app.add_subcommand("plan", "work with plans");
  plan->require_subcommand(1);
  std::string check_path;
  auto* check = plan->add_subcommand("check", "validate a plan without running it");
  check->add_option("plan", check_path, "the plan YAML")->required();

  std::string runs_plan, runs_state;
  auto* runs = app.add_subcommand("runs", "list the runs recorded in the audit store");
  runs->add_option("--plan", runs_plan, "the plan whose state dir to read");
  runs->add_option("--state-dir", runs_state, "the state dir to read (default .sluice)");

  std::string trace_entity, trace_key, trace_plan, trace_state;
  auto* trace = app.add_subcommand("trace", "show where a record went and why");
  trace->add_option("entity", trace_entity, "the model entity")->required();
  trace->add_option("source_key", trace_key, "SOURCE:KEY")->required();
  trace->add_option("--plan", trace_plan, "the plan whose state dir to read");
  trace->add_option("--state-dir", trace_state, "the state dir to read (default .sluice)");

  std::string rb_run, rb_plan, rb_state;
  auto* rollback = app.add_subcommand("rollback", "restore the target to its state before a run");
  rollback->add_option("run", rb_run, "the run id (see `sluice runs`)")->required();
  rollback->add_option("--plan", rb_plan, "the plan (default: the one the run used)");
  rollback->add_option("--state-dir", rb_state, "the state dir holding the audit store");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitInvalidPlan;
  }
  if (*run)
    return CmdRun(plan_path, local, json, state_dir, bind, faults, log_level, stall_timeout);
  if (*check) return CmdPlanCheck(check_path);
  if (*runs) return CmdRuns(runs_plan, runs_state);
  if (*trace) return CmdTrace(trace_entity, trace_key, trace_plan, trace_state);
  if (*rollback) return CmdRollback(rb_run, rb_plan, rb_state);
  return kExitInvalidPlan;
}

}  // namespace sluice
