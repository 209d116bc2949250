// `sluice runs`: the run history, one line per run with its counts from the
// run summary. A run recorded `running` whose coordinator is gone shows as
// `interrupted` (common/audit/liveness.h).
#include <ctime>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/supervision.h"

namespace sluice::cli {
namespace {

struct RunsArgs {
  std::string plan_path;  // the plan whose state dir to read
  std::string state_dir;  // default: the plan's, else .sluice
};

// Milliseconds since the epoch as "YYYY-MM-DD HH:MM:SS" (UTC); "-" for none.
std::string When(int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

int Runs(const RunsArgs& args, CommandContext& ctx) {
  Status st = ctx.OpenAudit(args.plan_path, args.state_dir, AuditAccess::kReadOnly);
  if (!st.ok()) return ctx.Fail(st.message(), kExitError);
  auto runs = ctx.audit().Runs();
  if (!runs.ok()) return ctx.Fail(runs.status().message(), kExitError);
  ctx.Printf("%-28s %-14s %-8s %-19s %-19s %-11s %9s %9s %8s %8s %7s  %-12s  %-16s  %s\n", "run",
             "plan", "env", "start (UTC)", "end (UTC)", "status", "extracted", "loaded", "merged",
             "rejected", "review", "conservation", "model hash", "halt reason");
  const LivenessProbe probe = ThisMachine();
  for (const auto& r : *runs) {
    std::string status = r.status;
    if (status == "running") {
      auto shown = FindRun(ctx.audit(), r.run_id, probe);
      if (shown.ok()) status = shown->status;
    }
    uint64_t n[5] = {0, 0, 0, 0, 0};
    auto summary = nlohmann::json::parse(r.summary_json, nullptr, false);
    // "holds", "BROKEN" or "not reached": the summary's own word (runs
    // before issue 14 recorded none).
    std::string conservation = "-";
    if (summary.is_object() && summary.contains("conservation") &&
        summary["conservation"].is_string()) {
      conservation = summary["conservation"].get<std::string>();
      conservation = conservation.rfind("not reached", 0) == 0
                         ? "not reached"
                         : conservation.substr(0, conservation.find(' '));
    }
    if (summary.is_object() && summary["entities"].is_array()) {
      const char* fields[5] = {"extracted", "loaded", "merged", "rejected", "review"};
      for (const auto& e : summary["entities"]) {
        for (int i = 0; i < 5; ++i) {
          if (e.contains(fields[i]) && e[fields[i]].is_number())
            n[i] += e[fields[i]].get<uint64_t>();
        }
      }
    }
    ctx.Printf(
        "%-28s %-14s %-8s %-19s %-19s %-11s %9llu %9llu %8llu %8llu %7llu  %-12s  %-16s  %s\n",
        r.run_id.c_str(), r.plan_name.c_str(), r.environment.empty() ? "-" : r.environment.c_str(),
        When(r.started_ms).c_str(), When(r.ended_ms).c_str(), status.c_str(),
        static_cast<unsigned long long>(n[0]), static_cast<unsigned long long>(n[1]),
        static_cast<unsigned long long>(n[2]), static_cast<unsigned long long>(n[3]),
        static_cast<unsigned long long>(n[4]), conservation.c_str(),
        r.model_hash.empty() ? "-" : r.model_hash.c_str(), r.halt_reason.c_str());
  }
  return kExitOk;
}

}  // namespace

void AddRunsCommand(CommandSet& commands) {
  auto [runs, args] =
      commands.Add(nullptr, "runs", "list the runs recorded in the audit store", Runs);
  runs->add_option("--plan", args->plan_path, "the plan whose state dir to read");
  runs->add_option("--state-dir", args->state_dir, "the state dir to read (default .sluice)");
}

}  // namespace sluice::cli
