#include "coordinator/cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/audit/audit_store.h"
#include "common/connectors/connector.h"
#include "common/core/log.h"
#include "common/plan/plan.h"
#include "common/runtime/test_fault.h"
#include "coordinator/cli_common.h"
#include "coordinator/dedup_cmd.h"
#include "coordinator/errors_cmd.h"
#include "coordinator/model_cmd.h"
#include "coordinator/plan_check_cmd.h"
#include "coordinator/profile_cmd.h"
#include "coordinator/resume_cmd.h"
#include "coordinator/review_cmd.h"
#include "coordinator/run_controller.h"
#include "coordinator/trace.h"

namespace sluice {
namespace {

// The audit store of a plan (its state dir) or of an explicit state dir.
Result<std::unique_ptr<AuditStore>> OpenAudit(const std::string& plan_path,
                                              const std::string& state_dir) {
  SLUICE_ASSIGN_OR_RETURN(std::string path, FindAuditStore(plan_path, state_dir));
  return AuditStore::Open(path, /*readonly=*/true);
}

int CmdRun(const std::string& plan_path, bool local, bool json, const std::string& state_dir,
           const std::string& bind, const std::vector<std::string>& faults,
           const std::string& log_level, int stall_timeout, const std::string& env,
           bool ignore_window, uint32_t dedup_shards) {
  InitLogging("coordinator", ParseLogLevel(log_level));
  auto plan = LoadPlan(plan_path, env);
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
  // Dedup scale-out (docs/dedup.md#scale-out): N dedup shards, fixed for the
  // run; the plan's `dedup_shards` unless the command line says otherwise.
  if (dedup_shards == 0) dedup_shards = static_cast<uint32_t>(plan->dedup_shards);
  options.replicas["deduper"] = dedup_shards;
  for (const auto& f : faults) {
    auto colon = f.find(':');
    if (colon == std::string::npos) {
      std::cerr << "sluice: --test-fault takes ROLE:SPEC, got '" << f << "'\n";
      return kExitInvalidPlan;
    }
    if (auto parsed = ParseTestFaults(f.substr(colon + 1)); !parsed.ok()) {
      std::cerr << "sluice: --test-fault " << f << ": " << parsed.status().message() << "\n";
      return kExitInvalidPlan;
    }
    options.faults[f.substr(0, colon)] = f.substr(colon + 1);
  }
  if (int code = GuardWindow(*plan, ignore_window, &options); code != 0) return code;
  auto summary = RunPlan(*plan, options);
  if (!summary.ok()) {
    std::cerr << "sluice: run failed: " << summary.status().ToString() << "\n";
    return kExitError;
  }
  std::cout << SummaryText(*summary);
  if (json) std::cout << SummaryJson(*summary) << "\n";
  std::cout.flush();
  if (summary->status == "paused") return kExitOutsideWindow;
  return summary->status == "completed" ? kExitOk : kExitHalted;
}

// The run history: one line per run with its counts from the run summary.
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
  auto when = [](int64_t ms) -> std::string {
    if (ms <= 0) return "-";
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
  };
  std::printf("%-28s %-14s %-8s %-19s %-19s %-11s %9s %9s %8s %8s %7s  %-16s  %s\n", "run", "plan",
              "env", "start (UTC)", "end (UTC)", "status", "extracted", "loaded", "merged",
              "rejected", "review", "model hash", "halt reason");
  for (const auto& r : *runs) {
    uint64_t n[5] = {0, 0, 0, 0, 0};
    auto summary = nlohmann::json::parse(r.summary_json, nullptr, false);
    if (summary.is_object() && summary["entities"].is_array()) {
      const char* fields[5] = {"extracted", "loaded", "merged", "rejected", "review"};
      for (const auto& e : summary["entities"]) {
        for (int i = 0; i < 5; ++i) {
          if (e.contains(fields[i]) && e[fields[i]].is_number())
            n[i] += e[fields[i]].get<uint64_t>();
        }
      }
    }
    std::printf("%-28s %-14s %-8s %-19s %-19s %-11s %9llu %9llu %8llu %8llu %7llu  %-16s  %s\n",
                r.run_id.c_str(), r.plan_name.c_str(),
                r.environment.empty() ? "-" : r.environment.c_str(), when(r.started_ms).c_str(),
                when(r.ended_ms).c_str(), r.status.c_str(), static_cast<unsigned long long>(n[0]),
                static_cast<unsigned long long>(n[1]), static_cast<unsigned long long>(n[2]),
                static_cast<unsigned long long>(n[3]), static_cast<unsigned long long>(n[4]),
                r.model_hash.empty() ? "-" : r.model_hash.c_str(), r.halt_reason.c_str());
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
  std::string env;
  bool ignore_window = false;
  run->add_option("--env", env, "the plan environment to run in (environments: in the plan)");
  run->add_flag("--ignore-window", ignore_window, "run outside the production window");
  uint32_t dedup_shards = 0;  // the plan's
  run->add_option("--dedup-shards", dedup_shards,
                  "dedup shards (processes) records are routed to by key (default: the plan's "
                  "dedup_shards, 1; docs/dedup.md#scale-out)")
      ->check(CLI::Range(1, 64));

  auto* plan = app.add_subcommand("plan", "work with plans");
  plan->require_subcommand(1);
  std::string check_path;
  auto* check = plan->add_subcommand("check", "validate a plan without running it");
  check->add_option("plan", check_path, "the plan YAML")->required();
  std::string check_env;
  check->add_option("--env", check_env, "check the plan as it applies in this environment");

  ResumeArgs resume_args;
  auto* resume = app.add_subcommand("resume", "continue a halted or paused run");
  resume->add_option("run", resume_args.run_id, "the run id (see `sluice runs`)")->required();
  resume->add_option("--plan", resume_args.plan_path, "the plan (default: the one the run used)");
  resume->add_option("--state-dir", resume_args.state_dir, "the state dir holding the audit store");
  resume->add_flag("--json", resume_args.json, "print the summary as one JSON object last");
  resume->add_flag("--ignore-window", resume_args.ignore_window,
                   "run outside the production window");
  resume->add_option("--log-level", resume_args.log_level, "coordinator and worker log level");
  resume
      ->add_option("--dedup-shards", resume_args.dedup_shards,
                   "dedup shards for the resumed waves (docs/dedup.md#scale-out)")
      ->check(CLI::Range(1, 64));
  resume->add_option("--stall-timeout", resume_args.stall_timeout,
                     "seconds without progress before halting");

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

  // Issue 6: the error log and the steward's review round trip.
  std::string err_run, err_csv, err_plan, err_state;
  ErrorFilter err_filter;
  bool err_trend = false;
  auto* errors = app.add_subcommand("errors", "list every failure of a run, or the trend per rule");
  errors->add_option("run", err_run, "the run id (see `sluice runs`)");
  errors->add_option("--rule", err_filter.rule, "only this rule");
  errors->add_option("--entity", err_filter.entity, "only this entity");
  errors->add_option("--csv", err_csv, "write every failure to this CSV file");
  errors->add_flag("--trend", err_trend, "failures per rule across the runs of the plan");
  errors->add_option("--plan", err_plan, "the plan (its state dir and name)");
  errors->add_option("--state-dir", err_state, "the state dir to read (default .sluice)");
  std::string rv_run, rv_out, rv_file, rv_plan, rv_state;
  auto* review = app.add_subcommand("review", "the data steward's review of held records");
  review->require_subcommand(1);
  review->add_option("--plan", rv_plan, "the plan (its state dir)");
  review->add_option("--state-dir", rv_state, "the state dir holding the audit store");
  auto* rv_export = review->add_subcommand("export", "write a run's held items to CSV");
  rv_export->add_option("run", rv_run, "the run id")->required();
  rv_export->add_option("--out", rv_out, "the CSV file to write")->required();
  rv_export->add_option("--plan", rv_plan, "the plan (its state dir)");
  rv_export->add_option("--state-dir", rv_state, "the state dir holding the audit store");
  auto* rv_import = review->add_subcommand("import", "store a steward's decisions from CSV");
  rv_import->add_option("file", rv_file, "the CSV file, as exported and filled in")->required();
  rv_import->add_option("--plan", rv_plan, "the plan (default: the one the file's run used)");
  rv_import->add_option("--state-dir", rv_state, "the state dir holding the audit store");

  // Issue 4: the model's DDL and source profiling (coordinator/model_cmd.cc, profile_cmd.cc).
  std::string ddl_model, ddl_target = "sqlite", ddl_schema = "public";
  auto* model = app.add_subcommand("model", "work with the canonical model");
  model->require_subcommand(1);
  auto* ddl = model->add_subcommand("ddl", "print the target tables the model creates");
  ddl->add_option("model", ddl_model, "the model YAML (or a plan, for its model)")->required();
  ddl->add_option("--target", ddl_target, "sqlite or postgres")
      ->check(CLI::IsMember({"sqlite", "postgres"}));
  ddl->add_option("--schema", ddl_schema, "postgres: the schema of the tables");
  ProfileArgs profile_args;
  auto* profile = app.add_subcommand("profile", "profile every source of a plan");
  profile->add_option("plan", profile_args.plan_path, "the plan YAML")->required();
  profile->add_flag("--json", profile_args.json, "print the profile as one JSON object");
  profile->add_option("--html", profile_args.html_path, "also write a self-contained HTML page");
  profile->add_option("--limit", profile_args.max_rows, "read at most this many rows per source");

  // Issue 5: expected comparisons per blocking rule (coordinator/dedup_cmd.cc).
  std::string de_plan, de_env;
  auto* dedup = app.add_subcommand("dedup", "fuzzy deduplication tools");
  dedup->require_subcommand(1);
  auto* de_estimate =
      dedup->add_subcommand("estimate", "candidate pairs per blocking rule, before a run");
  de_estimate->add_option("plan", de_plan, "the plan YAML")->required();
  de_estimate->add_option("--env", de_env, "the environment whose overrides apply");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitInvalidPlan;
  }
  if (*run)
    return CmdRun(plan_path, local, json, state_dir, bind, faults, log_level, stall_timeout, env,
                  ignore_window, dedup_shards);
  if (*check) return CmdPlanCheck(check_path, check_env);
  if (*resume) return CmdResume(resume_args);
  if (*runs) return CmdRuns(runs_plan, runs_state);
  if (*trace) return CmdTrace(trace_entity, trace_key, trace_plan, trace_state);
  if (*rollback) return CmdRollback(rb_run, rb_plan, rb_state);
  if (*errors) return CmdErrors(err_run, err_filter, err_csv, err_trend, err_plan, err_state);
  if (*rv_export) return CmdReviewExport(rv_run, rv_out, rv_plan, rv_state);
  if (*rv_import) return CmdReviewImport(rv_file, rv_plan, rv_state);
  if (*ddl) return CmdModelDdl(ddl_model, ddl_target, ddl_schema);
  if (*profile) return CmdProfile(profile_args);
  if (*de_estimate) return CmdDedupEstimate(de_plan, de_env);
  return kExitInvalidPlan;
}

}  // namespace sluice
