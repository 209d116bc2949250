// The one registration point of the `sluice` subcommands.
#include "cli/commands.h"

#include "cli/command.h"

namespace sluice::cli {

// Each defined in its own file, cli/<command>.cc.
void AddRunCommand(CommandSet& commands);
void AddPlanCheckCommand(CommandSet& commands);
void AddResumeCommand(CommandSet& commands);
void AddRunsCommand(CommandSet& commands);
void AddStatusCommand(CommandSet& commands);
void AddHaltCommand(CommandSet& commands);
void AddTraceCommand(CommandSet& commands);
void AddRollbackCommand(CommandSet& commands);
void AddErrorsCommand(CommandSet& commands);
void AddDiffCommand(CommandSet& commands);
void AddCompareCommand(CommandSet& commands);
void AddReportCommand(CommandSet& commands);
void AddReviewCommands(CommandSet& commands);
void AddModelDdlCommand(CommandSet& commands);
void AddProfileCommand(CommandSet& commands);
void AddDedupEstimateCommand(CommandSet& commands);
void AddKeysCommands(CommandSet& commands);

// Every subcommand, in the order `sluice --help` lists them.
void AddCommands(CommandSet& commands) {
  AddRunCommand(commands);
  AddPlanCheckCommand(commands);
  AddResumeCommand(commands);
  AddRunsCommand(commands);
  AddStatusCommand(commands);
  AddHaltCommand(commands);
  AddTraceCommand(commands);
  AddRollbackCommand(commands);
  AddErrorsCommand(commands);
  AddDiffCommand(commands);
  AddCompareCommand(commands);
  AddReportCommand(commands);
  AddReviewCommands(commands);
  AddModelDdlCommand(commands);
  AddProfileCommand(commands);
  AddDedupEstimateCommand(commands);
  AddKeysCommands(commands);
}

int RunCommandLine(int argc, char** argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"sluice: consolidate legacy systems into one target, and prove nothing was lost"};
  app.require_subcommand(1);
  CommandSet commands(&app);
  AddCommands(commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err) == 0 ? kExitOk : kExitUsage;
  }
  const CommandAction* action = commands.Parsed();
  if (action == nullptr) return kExitUsage;
  CommandContext context(out, err);
  return (*action)(context);
}

}  // namespace sluice::cli
