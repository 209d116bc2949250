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
  const std::string source = args.source_key.substr(0, colon);
  const std::string key = args.source_key.substr(colon + 1);
  auto text = TraceRecord(ctx.audit(), args.entity, source, key, args.run);
  if (!text.ok()) {
    std::string message = text.status().message();
    if (text.status().code() == StatusCode::kNotFound) {
      // Say what the store holds instead (a second, read-only connection:
      // a failed trace only).
      auto db = SqliteDb::Open(ctx.state_dir() + "/audit.db", /*readonly=*/true);
      if (db.ok()) {
        auto hints = KeyHintsOf(**db, args.entity, source, key);
        if (hints.ok()) message += "\n" + NoFateAdvice(*hints, args.entity, source, key);
      }
      if (!message.empty() && message.back() == '\n') message.pop_back();
    }
    return ctx.Fail(message, kExitError);
  }
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
