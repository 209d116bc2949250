// `sluice profile PLAN [--json] [--html FILE]` (docs/profile.md).
#pragma once

#include <cstdint>
#include <string>

namespace sluice {

struct ProfileArgs {
  std::string plan_path;
  bool json = false;      // print one JSON object instead of the text report
  std::string html_path;  // also write the HTML page here
  uint64_t max_rows = 0;  // per source; 0: all
};

// Returns the process exit code: 0, 1 when a source cannot be read, 2 for
// an invalid plan.
int CmdProfile(const ProfileArgs& args);

}  // namespace sluice
