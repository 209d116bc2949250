// What every `sluice` subcommand shares: the exit codes, the context it runs
// in (its output streams, the plan and the audit store it opened) and the set
// of subcommands the command line is parsed into. Each subcommand is one file
// in cli/ that adds itself to a CommandSet; cli/commands.cc lists them.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/audit/audit_store.h"
#include "common/core/status.h"
#include "common/plan/plan.h"

namespace sluice::cli {

// The exit codes of `sluice` (docs/consolidation.md#exit-status).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;        // a source, the audit store or a file failed
inline constexpr int kExitInvalidPlan = 2;  // the plan, the model or the command line is wrong
inline constexpr int kExitUsage = kExitInvalidPlan;  // a wrong command line, as a wrong plan
inline constexpr int kExitHalted = 3;                // the run halted
inline constexpr int kExitOutsideWindow = 4;  // outside the production window, or paused at its end

// How a command opens the audit store.
enum class AuditAccess { kReadOnly, kReadWrite };

// The environment of one command: where it writes, and the plan and audit
// store it works on once it has opened them. Not thread-safe.
class CommandContext {
 public:
  CommandContext(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}

  std::ostream& out() { return out_; }  // what the command reports
  std::ostream& err() { return err_; }  // why it failed
  // printf onto out(), for the fixed-width tables.
  void Printf(const char* format, ...) __attribute__((format(printf, 2, 3)));
  // Prints "sluice: <message>" on err() and returns `exit_code`.
  int Fail(std::string_view message, int exit_code);
  // Prints "sluice: the plan is invalid:" and the plan's problems, one a
  // line, on err(); returns kExitInvalidPlan.
  int InvalidPlan(const Status& problems);

  // Loads the plan at `path` as it applies in `environment` ("": as written)
  // and keeps it as plan(). Returns LoadPlan's problems.
  Status LoadPlan(const std::string& path, const std::string& environment = "");
  bool has_plan() const { return plan_.has_value(); }
  Plan& plan() { return *plan_; }  // only after LoadPlan succeeded

  // Opens the audit store `<dir>/audit.db` and keeps it as audit(), where
  // <dir> is `state_dir` when given, else the state dir of the plan (the
  // loaded one, else the one at `plan_path`, loaded here), else `.sluice`.
  // NotFound when there is no store there; the plan's problems when it had
  // to be loaded and is invalid.
  Status OpenAudit(const std::string& plan_path, const std::string& state_dir, AuditAccess access);
  bool has_audit() const { return audit_ != nullptr; }
  AuditStore& audit() { return *audit_; }                      // only after OpenAudit succeeded
  const std::string& state_dir() const { return state_dir_; }  // the one OpenAudit opened
  // Closes the audit store (a run opens it itself, for writing).
  void CloseAudit() { audit_.reset(); }

 private:
  std::ostream& out_;
  std::ostream& err_;
  std::optional<Plan> plan_;
  std::unique_ptr<AuditStore> audit_;
  std::string state_dir_;
};

// What a subcommand does once the command line named it: returns the exit
// code.
using CommandAction = std::function<int(CommandContext&)>;

// The subcommands of `sluice` as CLI11 parses them, each with its action.
class CommandSet {
 public:
  // `root` is the top-level command; it must outlive the set.
  explicit CommandSet(CLI::App* root) : root_(root) {}

  // A command that only groups subcommands (`sluice plan check`): made by
  // the first call with `name`, returned by the next ones. It requires one
  // of its subcommands.
  CLI::App* Group(const std::string& name, const std::string& description);

  // Adds the subcommand `name` under `parent` (the top level when null),
  // running `action` when the command line names it. Its options go on the
  // returned app, bound to storage `action` owns (a shared_ptr it captures).
  CLI::App* Add(CLI::App* parent, const std::string& name, const std::string& description,
                CommandAction action);
  // The usual case: the subcommand runs `run` with arguments of its own,
  // which the returned app's options fill in.
  template <typename Args>
  std::pair<CLI::App*, Args*> Add(CLI::App* parent, const std::string& name,
                                  const std::string& description,
                                  int (*run)(const Args&, CommandContext&)) {
    auto args = std::make_shared<Args>();
    CLI::App* app = Add(parent, name, description,
                        [args, run](CommandContext& ctx) { return run(*args, ctx); });
    return {app, args.get()};
  }

  // The action of the subcommand the parsed command line names, or null.
  const CommandAction* Parsed() const;

 private:
  CLI::App* root_;
  std::vector<std::pair<CLI::App*, CommandAction>> commands_;
};

}  // namespace sluice::cli
