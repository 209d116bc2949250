// `sluice trace ENTITY SOURCE:KEY`: where a record went, and why.
#include "cli/command.h"
#include "cli/trace_record.h"

namespace sluice::cli {
namespace {

struct TraceArgs {
  std::string entity;
  std::string source_key;  // SOURCE:KEY
  std::string plan_path;   // the plan whose state dir to read
  std::string state_dir;   // default: the plan's, else .sluice
  std::string run;         // one run only; empty: every run
};

int Trace(const TraceArgs& args, CommandContext& ctx) {
  auto colon = args.source_key.find(':');
  if (colon == std::string::npos) {
    return ctx.Fail("trace takes SOURCE:KEY, got '" + args.source_key + "'", kExitUsage);
  }
  Status st = ctx.OpenAudit(args.plan_path, args.state_dir, AuditAccess::kReadOnly);
  if (!st.ok()) return ctx.Fail(st.message(), kExitError);
  auto text = TraceRecord(ctx.audit(), args.entity, args.source_key.substr(0, colon),
                          args.source_key.substr(colon + 1), args.run);
  if (!text.ok()) return ctx.Fail(text.status().message(), kExitError);
  ctx.out() << *text;
  return kExitOk;
}

}  // namespace

void AddTraceCommand(CommandSet& commands) {
  auto [trace, args] = commands.Add(nullptr, "trace", "show where a record went and why", Trace);
  trace->add_option("entity", args->entity, "the model entity")->required();
  trace->add_option("source_key", args->source_key, "SOURCE:KEY")->required();
  trace->add_option("--plan", args->plan_path, "the plan whose state dir to read");
  trace->add_option("--state-dir", args->state_dir, "the state dir to read (default .sluice)");
  trace->add_option("--run", args->run, "show that run only");
}

}  // namespace sluice::cli
