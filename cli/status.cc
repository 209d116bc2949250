// `sluice status [RUN]`: the progress of a run (docs/operations.md#watching-a-run).
// A running run's coordinator is asked on its control socket (from this
// machine, or another one with --coordinator); a finished or interrupted
// run shows the last progress its coordinator recorded in the audit store.
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cli/command.h"
#include "cli/progress_view.h"
#include "cli/supervision.h"

namespace sluice::cli {
namespace {

struct StatusArgs {
  std::string run_id;       // default: the running run, else the last one
  std::string plan_path;    // the plan whose state dir to read
  std::string state_dir;    // default: the plan's, else .sluice
  std::string coordinator;  // ask this endpoint instead of reading the audit store
  bool watch = false;
  bool json = false;
  double interval = 2;  // seconds between two looks with --watch
};

constexpr std::chrono::milliseconds kAnswerTimeout{3000};

// One look at the run: its progress and whether it is over.
struct Look {
  v1::RunProgress progress;
  bool over = false;
  std::string note;  // how the progress was obtained, when not live
};

Result<Look> LookAtCoordinator(const StatusArgs& args) {
  if (!args.run_id.empty()) {
    SLUICE_RETURN_IF_ERROR(
        UseSupervisionKeys(args.state_dir.empty() ? ".sluice" : args.state_dir, args.run_id));
  }
  SLUICE_ASSIGN_OR_RETURN(v1::RunProgress p,
                          AskStatus(args.coordinator, args.run_id, kAnswerTimeout));
  Look look;
  look.over = p.status() != "running" && p.status() != "registering" && p.status() != "halting";
  look.progress = std::move(p);
  return look;
}

Result<Look> LookInAuditStore(const StatusArgs& args, CommandContext& ctx) {
  if (!ctx.has_audit()) {
    SLUICE_RETURN_IF_ERROR(ctx.OpenAudit(args.plan_path, args.state_dir, AuditAccess::kReadOnly));
  }
  const LivenessProbe probe = ThisMachine();
  SLUICE_ASSIGN_OR_RETURN(SupervisedRun run, FindRun(ctx.audit(), args.run_id, probe));
  Look look;
  if (run.running() && run.coordinator) {
    SLUICE_RETURN_IF_ERROR(UseSupervisionKeys(ctx.state_dir(), run.run.run_id));
    auto live =
        AskStatus(ReachableEndpoint(*run.coordinator, probe.host), run.run.run_id, kAnswerTimeout);
    if (live.ok()) {
      look.progress = std::move(live).value();
      return look;
    }
    look.note = "the coordinator did not answer (" + live.status().message() +
                "); its last recorded progress:";
  }
  std::optional<v1::RunProgress> recorded = RecordedProgress(run);
  if (recorded) {
    look.progress = std::move(*recorded);
  } else {
    // A run of an earlier version, or one whose coordinator died before its
    // first snapshot: what the runs table says.
    look.progress.set_run_id(run.run.run_id);
    look.progress.set_plan(run.run.plan_name);
    look.progress.set_status(run.status);
    look.progress.set_reason(run.run.halt_reason);
    look.progress.set_started_ms(run.run.started_ms);
    look.progress.set_at_ms(run.run.ended_ms > 0 ? run.run.ended_ms : run.run.started_ms);
  }
  if (run.status == "interrupted" && run.coordinator) {
    look.note = "interrupted: its coordinator, " + DescribeCoordinator(*run.coordinator, probe) +
                ", is gone";
  }
  look.over = !run.running();
  return look;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Status(const StatusArgs& given, CommandContext& ctx) {
  StatusArgs args = given;
  const bool clear = args.watch && !args.json && isatty(STDOUT_FILENO);
  for (;;) {
    auto look = args.coordinator.empty() ? LookInAuditStore(args, ctx) : LookAtCoordinator(args);
    if (!look.ok()) return ctx.Fail(look.status().message(), kExitError);
    args.run_id = look->progress.run_id();  // --watch follows the run it found first
    if (args.json) {
      ctx.out() << StatusJson(look->progress).dump() << "\n";
    } else {
      if (clear) ctx.out() << "\x1b[H\x1b[2J";
      if (!look->note.empty()) ctx.out() << look->note << "\n";
      ctx.out() << StatusText(look->progress, NowMs());
    }
    ctx.out().flush();
    if (!args.watch || look->over) return kExitOk;
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(args.interval * 1000)));
    if (!args.json && !clear) ctx.out() << "\n";
  }
}

}  // namespace

void AddStatusCommand(CommandSet& commands) {
  auto [status, args] = commands.Add(
      nullptr, "status", "the progress of a run: per entity, per stage, per worker", Status);
  status->add_option("run", args->run_id, "the run id (default: the running run, else the last)");
  status->add_flag("--watch", args->watch, "look again every --interval seconds until it ends");
  status->add_flag("--json", args->json, "one JSON object per look");
  status->add_option("--interval", args->interval, "seconds between two looks with --watch")
      ->check(CLI::Range(0.2, 3600.0));
  status->add_option("--plan", args->plan_path, "the plan whose state dir to read");
  status->add_option("--state-dir", args->state_dir, "the state dir to read (default .sluice)");
  status->add_option("--coordinator", args->coordinator,
                     "ask the coordinator at this control endpoint (tcp://host:5570), e.g. from "
                     "another machine; a sealed run's keys are read from "
                     "<state dir>/supervise/RUN/ (docs/operations.md)");
}

}  // namespace sluice::cli
