// The operator CLI: `sluice <command>`. Each command returns the process
// exit code: 0 success, 2 invalid plan or usage, 3 halted run, 1 other.
#pragma once

namespace sluice {

int RunCli(int argc, char** argv);

}  // namespace sluice
