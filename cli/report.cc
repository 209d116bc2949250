// `sluice report RUN [--html FILE] [--json]`: the run's report (issue 17,
// docs/reconciliation.md#the-run-report): its status and timings, records by
// source, rejections by rule, and per wave the reconciliation with its
// differences and segments; one self-contained HTML page or one JSON object.
#include <fstream>

#include "cli/command.h"
#include "cli/run_report.h"

namespace sluice::cli {
namespace {

struct ReportArgs {
  std::string run_id;
  std::string html_path;  // default: STATE_DIR/reports/RUN/report.html
  bool json = false;      // print the report as JSON instead
  std::string plan_path;  // the plan (its state dir)
  std::string state_dir;  // default: the plan's, else .sluice
};

int Report(const ReportArgs& args, CommandContext& ctx) {
  Status st = ctx.OpenAudit(args.plan_path, args.state_dir, AuditAccess::kReadOnly);
  if (!st.ok()) return ctx.Fail(st.message(), kExitError);
  auto doc = CollectRunReport(ctx.audit(), ctx.state_dir(), args.run_id);
  if (!doc.ok()) return ctx.Fail(doc.status().message(), kExitError);
  if (args.json) {
    ctx.out() << doc->dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  auto path = WriteRunReportHtml(ctx.state_dir(), args.run_id, args.html_path);
  if (!path.ok()) return ctx.Fail(path.status().message(), kExitError);
  ctx.out() << "report: " << *path << "\n";
  return kExitOk;
}

}  // namespace

void AddReportCommand(CommandSet& commands) {
  auto [report, args] = commands.Add(
      nullptr, "report", "write a run's report: one self-contained HTML page, or --json", Report);
  report->add_option("run", args->run_id, "the run id (see `sluice runs`)")->required();
  report->add_option("--html", args->html_path,
                     "where to write the page (default STATE_DIR/reports/RUN/report.html)");
  report->add_flag("--json", args->json, "print the report as one JSON object instead");
  report->add_option("--plan", args->plan_path, "the plan (its state dir)");
  report->add_option("--state-dir", args->state_dir, "the state dir to read (default .sluice)");
}

}  // namespace sluice::cli
