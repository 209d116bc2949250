// `sluice errors RUN`: every failure of a run, as a table or --csv; with
// --trend, failures per rule across the runs of a plan (docs/validation.md).
#include <fstream>

#include "cli/command.h"
#include "cli/error_log.h"

namespace sluice::cli {
namespace {

struct ErrorsArgs {
  std::string run_id;  // empty with `trend`: the trend of the plan's runs
  ErrorFilter filter;
  std::string csv_path;  // write every failure here instead of a table
  bool trend = false;
  std::string plan_path;  // the plan (its state dir and name)
  std::string state_dir;  // default: the plan's, else .sluice
};

int Trend(const ErrorsArgs& args, CommandContext& ctx) {
  std::string plan_name = ctx.has_plan() ? ctx.plan().name : "";
  if (plan_name.empty() && !args.run_id.empty()) {
    auto run = ctx.audit().Run(args.run_id);
    if (run.ok()) plan_name = run->plan_name;
  }
  if (plan_name.empty()) {
    return ctx.Fail("--trend needs --plan PLAN (or a run of the plan)", kExitUsage);
  }
  Status st = WriteErrorTrend(ctx.audit(), plan_name, ctx.out());
  if (!st.ok()) return ctx.Fail(st.message(), kExitError);
  return kExitOk;
}

int Errors(const ErrorsArgs& args, CommandContext& ctx) {
  // The plan, when given, names the runs of --trend even with --state-dir.
  Status st = args.plan_path.empty() ? Status::Ok() : ctx.LoadPlan(args.plan_path);
  if (st.ok()) st = ctx.OpenAudit(args.plan_path, args.state_dir, AuditAccess::kReadWrite);
  if (!st.ok()) return ctx.Fail(st.message(), kExitError);
  if (args.trend) return Trend(args, ctx);
  if (args.run_id.empty()) {
    return ctx.Fail("errors takes a RUN (see `sluice runs`), or --trend --plan PLAN", kExitUsage);
  }
  const std::string& run_id = args.run_id;
  auto run = ctx.audit().Run(run_id);
  if (!run.ok()) return ctx.Fail(run.status().message(), kExitError);
  Result<uint64_t> n = uint64_t{0};
  if (!args.csv_path.empty()) {
    std::ofstream out(args.csv_path, std::ios::binary | std::ios::trunc);
    if (out) n = WriteErrorsCsv(ctx.audit(), run_id, args.filter, out);
    out.close();
    if (n.ok() && !out) n = Status::IoError("cannot write " + args.csv_path);
    if (n.ok()) {
      ctx.out() << "wrote " << *n << " failure(s) of run " << run_id << " to " << args.csv_path
                << "\n";
    }
  } else {
    n = WriteErrorsText(ctx.audit(), run_id, args.filter, ctx.out());
    if (n.ok()) ctx.out() << *n << " failure(s)\n";
  }
  if (!n.ok()) return ctx.Fail(n.status().message(), kExitError);
  return kExitOk;
}

}  // namespace

void AddErrorsCommand(CommandSet& commands) {
  auto [errors, args] =
      commands.Add(nullptr, "errors", "list every failure of a run, or the trend per rule", Errors);
  errors->add_option("run", args->run_id, "the run id (see `sluice runs`)");
  errors->add_option("--rule", args->filter.rule, "only this rule");
  errors->add_option("--entity", args->filter.entity, "only this entity");
  errors->add_option("--csv", args->csv_path, "write every failure to this CSV file");
  errors->add_flag("--trend", args->trend, "failures per rule across the runs of the plan");
  errors->add_option("--plan", args->plan_path, "the plan (its state dir and name)");
  errors->add_option("--state-dir", args->state_dir, "the state dir to read (default .sluice)");
}

}  // namespace sluice::cli
