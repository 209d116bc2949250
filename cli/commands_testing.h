// For the CLI's tests: the `sluice` command line run in-process, with what
// it printed and its exit code.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace sluice::cli {

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

// `sluice ARGS...`, run by RunCommandLine in this process.
inline Outcome Sluice(std::vector<std::string> args) {
  args.insert(args.begin(), "sluice");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  std::ostringstream out, err;
  Outcome o;
  o.exit_code = RunCommandLine(static_cast<int>(argv.size()), argv.data(), out, err);
  o.out = out.str();
  o.err = err.str();
  return o;
}

}  // namespace sluice::cli
