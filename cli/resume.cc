// `sluice resume RUN`: continues a halted or paused run as a new run
// (docs/consolidation.md#halt-and-resume), or an interrupted one (its
// coordinator died) in place (docs/operations.md#after-the-coordinator-died).
#include <algorithm>
#include <filesystem>
#include <map>

#include "cli/command.h"
#include "cli/run_common.h"
#include "cli/supervision.h"
#include "common/core/log.h"

namespace sluice::cli {
namespace {

struct ResumeArgs {
  std::string run_id;
  std::string plan_path;  // default: the plan the run used
  std::string state_dir;  // default: the plan's, else .sluice
  bool json = false;
  bool ignore_window = false;
  std::string log_level = "warn";
  int stall_timeout = 120;
  uint32_t dedup_shards = 0;  // as `sluice run --dedup-shards`; 0: the plan's
  bool local = false;         // start the coordinator's workers here (the default)
  std::string bind;           // not local: the workers (re)register there
  // CurveZMQ for workers on other machines, as `sluice run` takes them.
  std::string key_file;
  std::string authorized_keys;
  bool insecure = false;
  bool quiet = false;
  int register_timeout = 60;
};

// The first wave of `run_id` that did not reconcile, from its `waves` (wave
// -> name, status). The completed ones must still be the same waves in the
// plan, or skipping them would skip something else: InvalidArgument then.
Result<int> FirstWaveToRun(const Plan& plan, const std::string& run_id,
                           const std::map<int, std::pair<std::string, std::string>>& waves) {
  int start = 0;
  while (start < static_cast<int>(plan.waves.size())) {
    auto it = waves.find(start);
    if (it == waves.end() || it->second.second != "completed") break;
    if (it->second.first != plan.waves[start].name) {
      return Status::InvalidArgument("wave " + std::to_string(start) + " of run " + run_id +
                                     " was '" + it->second.first + "' but the plan's is now '" +
                                     plan.waves[start].name +
                                     "': the completed waves cannot be skipped safely");
    }
    ++start;
  }
  return start;
}

// How many dedup shards the run had: its coordinator's last recorded
// progress names its deduper workers; 0 when it recorded none.
uint32_t DedupShardsOf(const SupervisedRun& run) {
  std::optional<v1::RunProgress> p = RecordedProgress(run);
  if (!p) return 0;
  uint32_t shards = 0;
  for (const auto& w : p->workers()) {
    if (w.role() == "deduper") shards = std::max(shards, w.ordinal() + 1);
  }
  return shards;
}

// A run whose dead coordinator listened on every interface had workers on
// other machines: resuming it with local workers is a choice to say aloud.
Status CheckWhereWorkersAre(const ResumeArgs& args, const SupervisedRun& run) {
  if (args.local || !args.bind.empty() || !run.coordinator) return Status::Ok();
  const std::string& was = run.coordinator->control_endpoint;
  if (was.find("://0.0.0.0:") == std::string::npos && was.find("://*:") == std::string::npos) {
    return Status::Ok();
  }
  return Status::InvalidArgument(
      "run " + args.run_id + "'s coordinator listened on " + was +
      " for workers on other machines: give --bind " + was +
      " (with its --key and --authorized-keys) so that they register there again, or --local "
      "to continue it with workers started here");
}

// Continues the run from its first wave that did not reconcile, as a new run
// linked to it: the completed waves are not loaded again. The plan is read
// again (the cause of the halt may have been fixed there) with the run's
// environment.
int Resume(const ResumeArgs& args, CommandContext& ctx) {
  InitLogging("coordinator", ParseLogLevel(args.log_level));
  // The audit store: the given state dir, the given plan's, or .sluice.
  std::string state_dir = args.state_dir;
  if (state_dir.empty() && !args.plan_path.empty()) {
    auto plan = LoadPlan(args.plan_path);
    if (plan.ok()) state_dir = plan->state_dir;
  }
  if (Status st = ctx.OpenAudit("", state_dir, AuditAccess::kReadWrite); !st.ok()) {
    return ctx.Fail(st.message(), kExitError);
  }
  const LivenessProbe probe = ThisMachine();
  auto supervised = FindRun(ctx.audit(), args.run_id, probe);
  if (!supervised.ok()) return ctx.Fail(supervised.status().message(), kExitError);
  const RunRecord* run = &supervised->run;
  // An interrupted run (its coordinator died) continues in place; a halted
  // or paused one as a new run.
  const bool interrupted = supervised->status == "interrupted";
  if (supervised->status == "running") {
    return ctx.Fail("run " + args.run_id + " is running (its coordinator: " +
                        DescribeCoordinator(*supervised->coordinator, probe) +
                        "); halt it first with `sluice halt " + args.run_id + "`",
                    kExitError);
  }
  if (!interrupted && run->status != "halted" && run->status != "paused") {
    return ctx.Fail("run " + args.run_id + " is " + run->status +
                        ": only a halted, paused or interrupted run can be resumed",
                    kExitError);
  }
  if (Status st = CheckWhereWorkersAre(args, *supervised); !st.ok()) {
    return ctx.Fail(st.message(), kExitUsage);
  }
  const std::string environment = run->environment == "default" ? "" : run->environment;
  const std::string plan_path = args.plan_path.empty() ? run->plan_path : args.plan_path;
  if (Status st = ctx.LoadPlan(plan_path, environment); !st.ok()) return ctx.InvalidPlan(st);
  Plan& plan = ctx.plan();
  plan.state_dir = std::filesystem::absolute(state_dir).lexically_normal().string();
  auto waves = ctx.audit().Waves(args.run_id);
  if (!waves.ok()) return ctx.Fail(waves.status().message(), kExitError);
  auto start = FirstWaveToRun(plan, args.run_id, *waves);
  if (!start.ok()) return ctx.Fail(start.status().message(), kExitInvalidPlan);
  ctx.CloseAudit();  // the coordinator opens it for writing
  RunOptions options;
  options.local = args.bind.empty();
  if (!args.bind.empty()) options.control_bind = args.bind;
  if (Status st = ReadRunKeys(args.key_file, args.authorized_keys, args.insecure, &options);
      !st.ok()) {
    return ctx.Fail(st.message(), kExitUsage);
  }
  options.log_level = args.log_level;
  options.stall_timeout = std::chrono::seconds(args.stall_timeout);
  options.register_timeout = std::chrono::seconds(args.register_timeout);
  if (interrupted) {
    options.continue_run = args.run_id;
  } else {
    options.resumed_from = args.run_id;
  }
  options.start_wave = *start;
  // The shards the run had (its shard logs are theirs), unless told.
  uint32_t shards = args.dedup_shards != 0 ? args.dedup_shards : DedupShardsOf(*supervised);
  options.replicas["deduper"] = shards != 0 ? shards : static_cast<uint32_t>(plan.dedup_shards);
  if (int code = GuardWindow(ctx, plan, args.ignore_window, &options); code != kExitOk) {
    return code;
  }
  const std::string from =
      *start < static_cast<int>(plan.waves.size()) ? plan.waves[*start].name : "(none left)";
  if (interrupted) {
    ctx.out() << "continuing interrupted run " << args.run_id << " from wave " << from << " ("
              << *start << " completed wave(s) and the wave's finished entities not loaded again";
    if (supervised->coordinator) {
      ctx.out() << "; its coordinator, " << DescribeCoordinator(*supervised->coordinator, probe)
                << ", is gone";
    }
    ctx.out() << ")\n";
  } else {
    ctx.out() << "resuming run " << args.run_id << " from wave " << from << " (" << *start
              << " completed wave(s) not loaded again)\n";
  }
  ctx.out().flush();
  auto summary = RunSupervised(ctx, plan, options, args.quiet);
  if (!summary.ok()) {
    return ctx.Fail("run failed: " + RedactSecrets(summary.status().ToString(), plan.secret_values),
                    kExitError);
  }
  if (interrupted) return ReportRun(ctx, *summary, args.json, state_dir);
  // The resumed run is now history: `sluice runs` shows who continued it.
  if (ctx.OpenAudit("", state_dir, AuditAccess::kReadWrite).ok()) {
    Status st = ctx.audit().EndRun(args.run_id, "resumed", run->halt_reason, run->summary_json,
                                   run->ended_ms);
    if (!st.ok()) ctx.err() << "sluice: " << st.message() << "\n";
  }
  return ReportRun(ctx, *summary, args.json, state_dir);
}

}  // namespace

void AddResumeCommand(CommandSet& commands) {
  auto [resume, args] =
      commands.Add(nullptr, "resume", "continue a halted, paused or interrupted run", Resume);
  resume->add_option("run", args->run_id, "the run id (see `sluice runs`)")->required();
  resume->add_option("--plan", args->plan_path, "the plan (default: the one the run used)");
  resume->add_option("--state-dir", args->state_dir, "the state dir holding the audit store");
  resume->add_flag("--json", args->json, "print the summary as one JSON object last");
  resume->add_flag("--ignore-window", args->ignore_window, "run outside the production window");
  resume->add_option("--log-level", args->log_level, "coordinator and worker log level");
  resume
      ->add_option("--dedup-shards", args->dedup_shards,
                   "dedup shards for the resumed waves (default: as many as the run had; "
                   "docs/dedup.md#scale-out)")
      ->check(CLI::Range(1, 64));
  resume->add_option("--stall-timeout", args->stall_timeout,
                     "seconds without progress before halting");
  auto* local = resume->add_flag("--local", args->local,
                                 "start the coordinator and one of each worker on this machine, "
                                 "as `sluice run --local` (the default without --bind)");
  resume
      ->add_option("--bind", args->bind,
                   "not local: the control endpoint the run's workers register (and rejoin) on, "
                   "tcp://0.0.0.0:5570 (docs/operations.md#after-the-coordinator-died)")
      ->excludes(local);
  resume->add_option("--key", args->key_file,
                     "not local: the coordinator's CURVE key pair, NAME.key_secret");
  resume->add_option("--authorized-keys", args->authorized_keys,
                     "not local: the workers' CURVE public keys (as `sluice run`)");
  resume->add_flag("--insecure", args->insecure,
                   "plaintext sockets on a non-loopback --bind (as `sluice run`)");
  resume->add_flag("--quiet", args->quiet, "no progress display");
  resume
      ->add_option("--register-timeout", args->register_timeout,
                   "seconds to wait for every worker to register before giving up")
      ->check(CLI::Range(1, 86400));
}

}  // namespace sluice::cli
