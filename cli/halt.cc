// `sluice halt RUN`: stops a running run cleanly from another terminal or
// machine (docs/operations.md#halting-a-run). The coordinator halts as the
// ledger would: every worker is told, the loader finishes or abandons its
// transaction and loads nothing more, and the run ends `halted` with the
// reason, ready for `sluice resume`.
#include <chrono>
#include <thread>

#include "cli/command.h"
#include "cli/supervision.h"

namespace sluice::cli {
namespace {

struct HaltArgs {
  std::string run_id;
  std::string reason;
  std::string plan_path;
  std::string state_dir;
  std::string coordinator;  // its control endpoint, instead of the audit store's record
  bool no_wait = false;
  int timeout = 120;  // seconds to wait for the run to end halted
};

constexpr std::chrono::milliseconds kAnswerTimeout{5000};

// Waits until the run is no longer running; its status then ("" when the
// wait timed out).
std::string WaitUntilOver(const HaltArgs& args, const std::string& endpoint, CommandContext& ctx) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(args.timeout);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ctx.has_audit()) {
      auto run = FindRun(ctx.audit(), args.run_id, ThisMachine());
      if (run.ok() && !run->running()) return run->status;
    } else {
      // Only the coordinator to ask: over once it says so or is gone.
      auto p = AskStatus(endpoint, args.run_id, std::chrono::milliseconds(2000));
      if (!p.ok()) return "halted";
      if (p->status() == "halted" || p->status() == "completed" || p->status() == "paused") {
        return p->status();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return "";
}

int Halt(const HaltArgs& args, CommandContext& ctx) {
  std::string endpoint = args.coordinator;
  Status st;
  if (endpoint.empty()) {
    st = ctx.OpenAudit(args.plan_path, args.state_dir, AuditAccess::kReadOnly);
    if (!st.ok()) return ctx.Fail(st.message(), kExitError);
    const LivenessProbe probe = ThisMachine();
    auto run = FindRun(ctx.audit(), args.run_id, probe);
    if (!run.ok()) return ctx.Fail(run.status().message(), kExitError);
    if (run->status == "interrupted") {
      return ctx.Fail("run " + args.run_id + " is interrupted: its coordinator" +
                          (run->coordinator ? ", " + DescribeCoordinator(*run->coordinator, probe)
                                            : std::string()) +
                          ", is gone and nothing is running it; `sluice resume " + args.run_id +
                          "` continues it",
                      kExitError);
    }
    if (!run->running()) {
      return ctx.Fail("run " + args.run_id + " is " + run->status + ": nothing to halt",
                      kExitError);
    }
    endpoint = ReachableEndpoint(*run->coordinator, probe.host);
    st = UseSupervisionKeys(ctx.state_dir(), args.run_id);
  } else {
    st = UseSupervisionKeys(args.state_dir.empty() ? ".sluice" : args.state_dir, args.run_id);
  }
  if (!st.ok()) return ctx.Fail(st.message(), kExitError);
  v1::HaltRequest request;
  request.set_run_id(args.run_id);
  request.set_reason(args.reason);
  request.set_requested_by(WhoAmI());
  auto reply = AskHalt(endpoint, request, kAnswerTimeout);
  if (!reply.ok()) return ctx.Fail(reply.status().message(), kExitError);
  if (!reply->accepted()) return ctx.Fail(reply->message(), kExitError);
  ctx.out() << "halting run " << args.run_id << ": " << reply->message() << "\n";
  ctx.out().flush();
  if (args.no_wait) return kExitOk;
  const std::string status = WaitUntilOver(args, endpoint, ctx);
  if (status.empty()) {
    return ctx.Fail("run " + args.run_id + " did not end within " + std::to_string(args.timeout) +
                        "s; see `sluice status " + args.run_id + "`",
                    kExitError);
  }
  ctx.out() << "run " << args.run_id << " " << status;
  if (status == "halted") ctx.out() << "; continue it with `sluice resume " << args.run_id << "`";
  ctx.out() << "\n";
  return kExitOk;
}

}  // namespace

void AddHaltCommand(CommandSet& commands) {
  auto [halt, args] = commands.Add(nullptr, "halt", "halt a running run cleanly (resumable)", Halt);
  halt->add_option("run", args->run_id, "the run id (see `sluice runs`, `sluice status`)")
      ->required();
  halt->add_option("--reason", args->reason, "why, recorded with the halt");
  halt->add_option("--plan", args->plan_path, "the plan whose state dir to read");
  halt->add_option("--state-dir", args->state_dir, "the state dir to read (default .sluice)");
  halt->add_option("--coordinator", args->coordinator,
                   "the coordinator's control endpoint (tcp://host:5570), e.g. from another "
                   "machine; a sealed run's keys are read from <state dir>/supervise/RUN/ "
                   "(docs/operations.md)");
  halt->add_flag("--no-wait", args->no_wait, "return once the coordinator took the request");
  halt->add_option("--timeout", args->timeout, "seconds to wait for the run to end halted");
}

}  // namespace sluice::cli
