// `sluice diff RUN [--entity E] [--csv FILE]`: every difference the run's
// reconciliations found between what was loaded and what the target holds
// (issue 17, docs/reconciliation.md), uncapped, from the audit store.
#include <fstream>

#include "cli/command.h"
#include "cli/csv_writer.h"

namespace sluice::cli {
namespace {

struct DiffArgs {
  std::string run_id;
  std::string entity;     // only this entity; empty: all
  std::string csv_path;   // write them here instead of a table
  std::string plan_path;  // the plan (its state dir)
  std::string state_dir;  // default: the plan's, else .sluice
};

const std::vector<std::string> kColumns = {"wave",    "entity", "source",   "key",
                                           "failure", "field",  "expected", "actual"};

std::vector<std::string> Columns(const DifferenceRow& d) {
  return {
      std::to_string(d.wave), d.entity, d.source, d.key, d.failure, d.field, d.expected, d.actual};
}

int Diff(const DiffArgs& args, CommandContext& ctx) {
  Status st = ctx.OpenAudit(args.plan_path, args.state_dir, AuditAccess::kReadOnly);
  if (!st.ok()) return ctx.Fail(st.message(), kExitError);
  auto run = ctx.audit().Run(args.run_id);
  // A `sluice compare` stores its differences the same way (docs/compare.md).
  if (!run.ok() && !ctx.audit().Comparison(args.run_id).ok()) {
    return ctx.Fail(run.status().message(), kExitError);
  }
  uint64_t n = 0;
  if (!args.csv_path.empty()) {
    std::ofstream out(args.csv_path, std::ios::binary | std::ios::trunc);
    if (!out) return ctx.Fail("cannot write " + args.csv_path, kExitError);
    WriteCsvRow(out, kColumns);
    st = ctx.audit().ForEachDifference(args.run_id, args.entity, [&](const DifferenceRow& d) {
      WriteCsvRow(out, Columns(d));
      ++n;
    });
    out.close();
    if (st.ok() && !out) st = Status::IoError("cannot write " + args.csv_path);
    if (!st.ok()) return ctx.Fail(st.message(), kExitError);
    ctx.out() << "wrote " << n << " difference(s) of run " << args.run_id << " to " << args.csv_path
              << "\n";
    return kExitOk;
  }
  // One line per difference, tab-separated in the order: key,
  // failure type, field, expected, actual.
  st = ctx.audit().ForEachDifference(args.run_id, args.entity, [&](const DifferenceRow& d) {
    if (n++ == 0) ctx.out() << "wave\tentity\tsource/key\tfailure\tfield\texpected\tactual\n";
    ctx.out() << d.wave << "\t" << d.entity << "\t" << d.source << "/" << d.key << "\t" << d.failure
              << "\t" << d.field << "\t" << d.expected << "\t" << d.actual << "\n";
  });
  if (!st.ok()) return ctx.Fail(st.message(), kExitError);
  ctx.out() << n << " difference(s)\n";
  return kExitOk;
}

}  // namespace

void AddDiffCommand(CommandSet& commands) {
  auto [diff, args] =
      commands.Add(nullptr, "diff",
                   "list every reconciliation difference of a run (field, expected, actual)", Diff);
  diff->add_option("run", args->run_id, "the run id (see `sluice runs`)")->required();
  diff->add_option("--entity", args->entity, "only this entity");
  diff->add_option("--csv", args->csv_path, "write every difference to this CSV file");
  diff->add_option("--plan", args->plan_path, "the plan (its state dir)");
  diff->add_option("--state-dir", args->state_dir, "the state dir to read (default .sluice)");
}

}  // namespace sluice::cli
