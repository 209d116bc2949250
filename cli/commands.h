// The operator CLI: `sluice <command>`, one file per command in cli/.
#pragma once

#include <ostream>

namespace sluice::cli {

// Parses the command line, runs the command it names with `out` and `err` as
// its streams and returns the process exit code (cli/command.h lists them).
// A command-line error, printed with the usage, is kExitUsage; --help is 0.
int RunCommandLine(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace sluice::cli
