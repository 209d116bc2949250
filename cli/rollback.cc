// `sluice rollback RUN`: restores the target to its state before a run
// (docs/postgres.md#rollback).
#include <filesystem>

#include "cli/command.h"
#include "common/connectors/connector.h"

namespace sluice::cli {
namespace {

struct RollbackArgs {
  std::string run_id;
  std::string plan_path;  // default: the one the run used
  std::string state_dir;  // the state dir holding the audit store
};

int Rollback(const RollbackArgs& args, CommandContext& ctx) {
  const std::string& run_id = args.run_id;
  // The run's own plan, unless another is given (e.g. after a move).
  std::string plan_path = args.plan_path;
  if (plan_path.empty()) {
    Status st = ctx.OpenAudit("", args.state_dir, AuditAccess::kReadOnly);
    if (!st.ok()) return ctx.Fail(st.message(), kExitError);
    auto run = ctx.audit().Run(run_id);
    if (!run.ok()) return ctx.Fail(run.status().message(), kExitError);
    plan_path = run->plan_path;
    ctx.CloseAudit();
  }
  if (Status st = ctx.LoadPlan(plan_path); !st.ok()) return ctx.InvalidPlan(st);
  Plan& plan = ctx.plan();
  if (!args.state_dir.empty()) {
    plan.state_dir = std::filesystem::absolute(args.state_dir).string();
  }
  // The plan's store, opened for writing (created when there is none yet).
  auto audit_path = std::filesystem::path(plan.state_dir) / "audit.db";
  auto audit = AuditStore::Open(audit_path.string());
  if (!audit.ok()) return ctx.Fail(audit.status().message(), kExitError);
  auto run = (*audit)->Run(run_id);
  if (!run.ok()) return ctx.Fail(run.status().message(), kExitError);
  auto target = OpenTarget(plan.target);
  if (!target.ok()) return ctx.Fail(target.status().message(), kExitError);
  // Children before parents: the reverse of the load order.
  std::vector<std::string> entities;
  for (const auto& wave : plan.waves) {
    for (const auto& e : wave.entities) entities.push_back(e);
  }
  for (auto it = entities.rbegin(); it != entities.rend(); ++it) {
    const Entity* entity = plan.model.Find(*it);
    if (entity == nullptr) continue;
    Status st = (*target)->Rollback(run_id, *entity);
    if (!st.ok()) return ctx.Fail("rollback of " + *it + " failed: " + st.message(), kExitError);
    ctx.out() << "rolled back " << *it << " of run " << run_id << "\n";
  }
  Status st =
      (*audit)->EndRun(run_id, "rolled_back", run->halt_reason, run->summary_json, run->ended_ms);
  if (!st.ok()) return ctx.Fail(st.message(), kExitError);
  ctx.out() << "run " << run_id << " rolled back: the target is as it was before the run\n";
  return kExitOk;
}

}  // namespace

void AddRollbackCommand(CommandSet& commands) {
  auto [rollback, args] =
      commands.Add(nullptr, "rollback", "restore the target to its state before a run", Rollback);
  rollback->add_option("run", args->run_id, "the run id (see `sluice runs`)")->required();
  rollback->add_option("--plan", args->plan_path, "the plan (default: the one the run used)");
  rollback->add_option("--state-dir", args->state_dir, "the state dir holding the audit store");
}

}  // namespace sluice::cli
