// `sluice run PLAN`: runs a plan, locally (--local) or with workers that
// register on --bind, shows its progress while it runs and prints its
// summary (docs/architecture.md, docs/operations.md).
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/run_common.h"
#include "common/core/log.h"
#include "common/runtime/test_fault.h"

namespace sluice::cli {
namespace {

struct RunArgs {
  std::string plan_path;
  bool local = false;
  bool json = false;
  std::string state_dir;  // default: the plan's
  std::string bind;
  std::string log_level = "warn";
  int stall_timeout = 120;
  std::vector<std::string> faults;  // test only: ROLE:SPEC
  std::string env;
  bool ignore_window = false;
  uint32_t dedup_shards = 0;  // 0: the plan's
  // CurveZMQ (docs/architecture.md#security): the deployment's keys, never the plan's.
  std::string key_file;         // the coordinator's NAME.key_secret
  std::string authorized_keys;  // the workers' public keys: a folder of NAME.key, or a list
  bool insecure = false;        // plaintext on a non-loopback --bind, or an unsealed --local
  bool quiet = false;           // no progress display
  int register_timeout = 60;    // seconds for the workers to register
  bool full = false;            // issue 18: extract incremental sources whole
};

int Run(const RunArgs& args, CommandContext& ctx) {
  InitLogging("coordinator", ParseLogLevel(args.log_level));
  if (Status st = ctx.LoadPlan(args.plan_path, args.env); !st.ok()) {
    ctx.InvalidPlan(st);
    if (args.json) {
      ctx.out() << nlohmann::json({{"run_id", nullptr},
                                   {"status", "invalid"},
                                   {"halt_reason", st.message()},
                                   {"entities", nlohmann::json::array()}})
                       .dump()
                << "\n";
    }
    return kExitInvalidPlan;
  }
  Plan& plan = ctx.plan();
  if (!args.state_dir.empty()) plan.state_dir = std::filesystem::absolute(args.state_dir).string();
  RunOptions options;
  options.local = args.local;
  if (!args.bind.empty())
    options.control_bind = args.bind;
  else if (!args.local)
    options.control_bind = "tcp://0.0.0.0:5570";
  options.log_level = args.log_level;
  options.stall_timeout = std::chrono::seconds(args.stall_timeout);
  if (Status st = ReadRunKeys(args.key_file, args.authorized_keys, args.insecure, &options);
      !st.ok())
    return ctx.Fail(st.message(), kExitUsage);
  options.register_timeout = std::chrono::seconds(args.register_timeout);
  options.full = args.full;
  // Dedup scale-out (docs/dedup.md#scale-out): N dedup shards, fixed for the
  // run; the plan's `dedup_shards` unless the command line says otherwise.
  options.replicas["deduper"] =
      args.dedup_shards != 0 ? args.dedup_shards : static_cast<uint32_t>(plan.dedup_shards);
  for (const auto& f : args.faults) {
    auto colon = f.find(':');
    if (colon == std::string::npos) {
      return ctx.Fail("--test-fault takes ROLE:SPEC, got '" + f + "'", kExitUsage);
    }
    if (auto parsed = ParseTestFaults(f.substr(colon + 1)); !parsed.ok()) {
      return ctx.Fail("--test-fault " + f + ": " + parsed.status().message(), kExitUsage);
    }
    options.faults[f.substr(0, colon)] = f.substr(colon + 1);
  }
  if (int code = GuardWindow(ctx, plan, args.ignore_window, &options); code != kExitOk) {
    return code;
  }
  auto summary = RunSupervised(ctx, plan, options, args.quiet);
  if (!summary.ok()) {
    // Neither --local nor a worker's endpoint: perhaps --local was meant.
    const bool bare = !args.local && args.bind.empty() && args.key_file.empty() && !args.insecure;
    return ctx.Fail("run failed: " + summary.status().ToString() +
                        (bare ? "; to run every worker on this machine: --local" : ""),
                    kExitError);
  }
  return ReportRun(ctx, *summary, args.json, plan.state_dir);
}

}  // namespace

void AddRunCommand(CommandSet& commands) {
  auto [run, args] = commands.Add(nullptr, "run", "run a plan", Run);
  run->add_option("plan", args->plan_path, "the plan YAML")->required();
  run->add_flag("--local", args->local,
                "start the coordinator and one of each worker on this machine");
  run->add_flag("--json", args->json, "print the summary as one JSON object on the last line");
  run->add_option("--state-dir", args->state_dir,
                  "audit store, shard logs and reports (default: the plan's)");
  run->add_option("--bind", args->bind, "control endpoint workers register with");
  run->add_option("--log-level", args->log_level, "coordinator and worker log level");
  run->add_option("--stall-timeout", args->stall_timeout,
                  "seconds without progress before halting");
  run->add_option("--test-fault", args->faults, "test only: ROLE:SPEC fault injection")->group("");
  run->add_option("--env", args->env, "the plan environment to run in (environments: in the plan)");
  run->add_flag("--ignore-window", args->ignore_window, "run outside the production window");
  run->add_flag("--full", args->full,
                "extract every row of the incremental sources, not only those above their "
                "high-water marks (docs/delta.md)");
  run->add_option("--dedup-shards", args->dedup_shards,
                  "dedup shards (processes) records are routed to by key (default: the plan's "
                  "dedup_shards, 1; docs/dedup.md#scale-out)")
      ->check(CLI::Range(1, 64));
  run->add_option("--key", args->key_file, "the coordinator's CURVE key pair, NAME.key_secret");
  run->add_option("--authorized-keys", args->authorized_keys,
                  "the workers' CURVE public keys: a folder of NAME.key files, or a file of "
                  "'KEY NAME' lines");
  run->add_flag("--insecure", args->insecure,
                "plaintext sockets: allowed on a non-loopback --bind, and with --local the run "
                "makes no keys (to measure what CURVE costs); warned at every start");
  run->add_flag("--quiet", args->quiet,
                "no progress display (on a terminal: redrawn lines; otherwise a line every 5 s "
                "on stderr)");
  run->add_option("--register-timeout", args->register_timeout,
                  "seconds to wait for every worker to register before giving up")
      ->check(CLI::Range(1, 86400));
}

}  // namespace sluice::cli
