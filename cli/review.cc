// `sluice review export RUN --out FILE` and `sluice review import FILE`: the
// data steward's round trip for held records (docs/review.md).
#include <chrono>
#include <fstream>

#include "cli/command.h"
#include "cli/review_csv.h"

namespace sluice::cli {
namespace {

// Both subcommands' arguments: `--plan` and `--state-dir` may also come
// before the subcommand (`sluice review --plan P export ...`).
struct ReviewArgs {
  std::string run_id;     // export: the run whose items to write
  std::string out_path;   // export: the CSV to write
  std::string csv_path;   // import: the CSV, as exported and filled in
  std::string plan_path;  // default: the plan's state dir / the file's run's plan
  std::string state_dir;  // the state dir holding the audit store
};

// An invalid file or plan is the steward's to fix (kExitInvalidPlan).
int Fail(CommandContext& ctx, const Status& st) {
  return ctx.Fail(st.message(),
                  st.code() == StatusCode::kInvalidArgument ? kExitInvalidPlan : kExitError);
}

int Export(const ReviewArgs& args, CommandContext& ctx) {
  Status st = ctx.OpenAudit(args.plan_path, args.state_dir, AuditAccess::kReadWrite);
  if (!st.ok()) return Fail(ctx, st);
  auto run = ctx.audit().Run(args.run_id);
  if (!run.ok()) return Fail(ctx, run.status());
  std::ofstream out(args.out_path, std::ios::binary | std::ios::trunc);
  if (!out) return Fail(ctx, Status::IoError("cannot write " + args.out_path));
  auto n = ExportReview(ctx.audit(), args.run_id, run->plan_name, out);
  if (!n.ok()) return Fail(ctx, n.status());
  out.close();
  if (!out) return Fail(ctx, Status::IoError("cannot write " + args.out_path));
  ctx.out() << "wrote " << *n << " review item(s) of run " << args.run_id << " to " << args.out_path
            << "\n";
  return kExitOk;
}

int Import(const ReviewArgs& args, CommandContext& ctx) {
  Status st = ctx.OpenAudit(args.plan_path, args.state_dir, AuditAccess::kReadWrite);
  if (!st.ok()) return Fail(ctx, st);
  // The plan: the one given, else the one the file's run used.
  std::string plan_path = args.plan_path;
  if (plan_path.empty()) {
    auto rows = ReadReviewCsv(args.csv_path);
    if (!rows.ok()) return Fail(ctx, rows.status());
    if (rows->empty()) {
      ctx.out() << "nothing to import: " << args.csv_path << " has no rows\n";
      return kExitOk;
    }
    auto run = ctx.audit().Run((*rows)[0]["run"]);
    if (!run.ok()) return Fail(ctx, run.status());
    plan_path = run->plan_path;
  }
  if (Status st = ctx.LoadPlan(plan_path); !st.ok()) return Fail(ctx, st);
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  auto summary = ImportReview(ctx.audit(), ctx.plan(), args.csv_path, now);
  if (!summary.ok()) return Fail(ctx, summary.status());
  ctx.out() << "imported " << summary->records << " record decision(s) and " << summary->pairs
            << " pair decision(s) for plan " << ctx.plan().name << "; " << summary->open
            << " row(s) left open\n";
  return kExitOk;
}

}  // namespace

void AddReviewCommands(CommandSet& commands) {
  auto args = std::make_shared<ReviewArgs>();
  CLI::App* review = commands.Group("review", "the data steward's review of held records");
  review->add_option("--plan", args->plan_path, "the plan (its state dir)");
  review->add_option("--state-dir", args->state_dir, "the state dir holding the audit store");
  CLI::App* out = commands.Add(review, "export", "write a run's held items to CSV",
                               [args](CommandContext& ctx) { return Export(*args, ctx); });
  out->add_option("run", args->run_id, "the run id")->required();
  out->add_option("--out", args->out_path, "the CSV file to write")->required();
  out->add_option("--plan", args->plan_path, "the plan (its state dir)");
  out->add_option("--state-dir", args->state_dir, "the state dir holding the audit store");
  CLI::App* in = commands.Add(review, "import", "store a steward's decisions from CSV",
                              [args](CommandContext& ctx) { return Import(*args, ctx); });
  in->add_option("file", args->csv_path, "the CSV file, as exported and filled in")->required();
  in->add_option("--plan", args->plan_path, "the plan (default: the one the file's run used)");
  in->add_option("--state-dir", args->state_dir, "the state dir holding the audit store");
}

}  // namespace sluice::cli
