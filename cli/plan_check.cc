// `sluice plan check PLAN [--env NAME]`: every problem of a plan, without
// running it (docs/plan.md#checking-a-plan).
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/command.h"
#include "cli/plan_pii.h"
#include "cli/plan_sources.h"
#include "common/plan/plan.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

// What `plan check` prints and returns.
struct PlanCheckReport {
  std::vector<std::string> problems;  // "<file>: <yaml path>: <message>"
  std::vector<std::string> notes;     // "<file>: note: <yaml path>: <message>"
  std::vector<std::string> summary;   // the "ok" lines, when there is no problem
  int exit_code = kExitOk;            // kExitInvalidPlan when there is a problem
};

// The plan's wave lines: per wave, its dependency levels (entities of a
// level do not reference each other).
void AddWaves(const Plan& plan, std::vector<std::string>* lines) {
  for (const auto& wave : plan.waves) {
    std::string levels;
    for (const auto& group : wave.groups) {
      std::string names;
      for (const auto& e : group) names += (names.empty() ? "" : ", ") + e;
      levels += (levels.empty() ? "" : " -> ") + std::string("[") + names + "]";
    }
    lines->push_back("  wave " + wave.name + ": " + levels);
  }
}

std::string OkLine(const std::string& plan_path, const Plan& plan) {
  return plan_path + ": ok (" + std::to_string(plan.sources.size()) + " sources, " +
         std::to_string(plan.mappings.size()) + " mappings, " + std::to_string(plan.waves.size()) +
         " waves; plan hash " + plan.content_hash + ", model hash " + plan.model.content_hash + ")";
}

std::string Line(const PlanIssue& issue) {
  return issue.path.empty() ? issue.message : issue.ToString();
}

// With `environment`, checks the plan as it applies there: every secret must
// resolve, as for `sluice run --env`. Without, checks the plan as written
// (as `sluice run PLAN` reads it: its secrets must resolve) and as it applies
// in each of its environments, where a secret the environment sets that
// cannot be resolved on this machine is a note naming its YAML path (never a
// value), not a problem. A problem found only in an environment's merged
// plan, at a path the environment does not set, says in which environment
// (" (environment prod)").
PlanCheckReport CheckPlanFile(const std::string& plan_path, const std::string& environment) {
  PlanCheckReport report;
  if (!environment.empty()) {
    // The run's view: everything must resolve.
    auto plan = LoadPlan(plan_path, environment);
    if (!plan.ok()) {
      std::istringstream lines(plan.status().message());
      for (std::string line; std::getline(lines, line);) report.problems.push_back(line);
      report.exit_code = kExitInvalidPlan;
      return report;
    }
    CheckPlanSources(plan_path, *plan, &report.problems, &report.notes);
    for (std::string& line : PiiCheckLines(plan_path, *plan)) report.notes.push_back(line);
    if (!report.problems.empty()) {
      report.exit_code = kExitInvalidPlan;
      return report;
    }
    report.summary.push_back(OkLine(plan_path, *plan) + ", environment " + environment);
    AddWaves(*plan, &report.summary);
    return report;
  }
  std::error_code ec;
  std::ifstream in(plan_path, std::ios::binary);
  if (!fs::is_regular_file(plan_path, ec) || !in) {
    report.problems.push_back(plan_path + ": file not found");
    report.exit_code = kExitInvalidPlan;
    return report;
  }
  std::ostringstream text;
  text << in.rdbuf();
  fs::path abs = fs::absolute(plan_path, ec);
  if (ec) abs = fs::path(plan_path);
  const std::string base_dir = abs.lexically_normal().parent_path().string();

  // The plan as written is what `sluice run PLAN` reads: its secrets must
  // resolve here as for a run.
  std::vector<PlanIssue> issues;
  Plan base = ParsePlan(text.str(), base_dir, &issues);
  std::vector<std::string> secrets = base.secret_values;
  std::set<std::string> seen;  // problems and notes already listed
  auto add = [&](std::vector<std::string>* to, const std::string& line) {
    if (seen.insert(line).second) to->push_back(line);
  };
  for (const PlanIssue& issue : issues) add(&report.problems, plan_path + ": " + Line(issue));
  if (issues.empty()) {
    std::vector<std::string> problems, notes;
    CheckPlanSources(plan_path, base, &problems, &notes);
    for (const auto& line : problems) add(&report.problems, line);
    for (const auto& line : notes) add(&report.notes, line);
    for (const auto& line : PiiCheckLines(plan_path, base)) add(&report.notes, line);
  }
  std::vector<std::string> ok;
  ok.push_back(OkLine(plan_path, base));
  AddWaves(base, &ok);
  // Each environment's merged plan: what `sluice run --env NAME` would read.
  for (const std::string& name : base.environment_names) {
    std::vector<PlanIssue> env_issues, env_notes;
    Plan plan = ParsePlanForCheck(text.str(), base_dir, &env_issues, &env_notes, name);
    secrets.insert(secrets.end(), plan.secret_values.begin(), plan.secret_values.end());
    const std::string where = " (environment " + name + ")";
    auto in_env = [&](const PlanIssue& issue) {
      // The same problem as in the plan as written is listed once.
      const std::string plain = plan_path + ": " + Line(issue);
      if (seen.count(plain)) return std::string();
      return issue.path.rfind("environments.", 0) == 0 ? plain : plain + where;
    };
    for (const PlanIssue& issue : env_issues) {
      if (std::string line = in_env(issue); !line.empty()) add(&report.problems, line);
    }
    for (const PlanIssue& note : env_notes) {
      // A secret of the plan's own text was checked with the plan as written.
      if (note.path.rfind("environments.", 0) != 0) continue;
      add(&report.notes, plan_path + ": note: " + Line(note));
    }
    if (env_issues.empty()) {
      for (const auto& line : PiiCheckLines(plan_path, plan)) add(&report.notes, line);
      ok.push_back("  environment " + name + ": ok (plan hash " + plan.content_hash + ")");
    }
  }
  // Values of the secrets that did resolve never reach the output.
  for (auto* lines : {&report.problems, &report.notes}) {
    for (std::string& line : *lines) line = RedactSecrets(line, secrets);
  }
  if (!report.problems.empty()) {
    report.exit_code = kExitInvalidPlan;
  } else {
    report.summary = std::move(ok);
  }
  return report;
}

struct PlanCheckArgs {
  std::string plan_path;
  std::string env;
};

// Prints the report (problems and notes too on out()) and returns its exit code.
int PlanCheck(const PlanCheckArgs& args, CommandContext& ctx) {
  PlanCheckReport report = CheckPlanFile(args.plan_path, args.env);
  for (const std::string& line : report.problems) ctx.out() << line << "\n";
  for (const std::string& line : report.notes) ctx.out() << line << "\n";
  for (const std::string& line : report.summary) ctx.out() << line << "\n";
  return report.exit_code;
}

}  // namespace

void AddPlanCheckCommand(CommandSet& commands) {
  auto [check, args] = commands.Add(commands.Group("plan", "work with plans"), "check",
                                    "validate a plan without running it", PlanCheck);
  check->add_option("plan", args->plan_path, "the plan YAML")->required();
  check->add_option("--env", args->env, "check the plan as it applies in this environment");
}

}  // namespace sluice::cli
