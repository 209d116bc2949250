#include "coordinator/profile_cmd.h"

#include <fstream>
#include <iostream>

#include "common/plan/plan.h"
#include "coordinator/profile.h"

namespace sluice {

int CmdProfile(const ProfileArgs& args) {
  auto plan = LoadPlan(args.plan_path);
  if (!plan.ok()) {
    std::cerr << plan.status().message() << "\n";
    return 2;
  }
  ProfileOptions options;
  options.max_rows = args.max_rows;
  auto profile = ProfilePlan(*plan, options);
  if (!profile.ok()) {
    std::cerr << "sluice: profile: " << profile.status().message() << "\n";
    return 1;
  }
  if (!args.html_path.empty()) {
    std::ofstream out(args.html_path, std::ios::binary);
    out << ProfileHtml(*profile);
    if (!out) {
      std::cerr << "sluice: cannot write " << args.html_path << "\n";
      return 1;
    }
  }
  if (args.json) {
    std::cout << ProfileJson(*profile).dump() << "\n";
  } else {
    std::cout << ProfileText(*profile);
    if (!args.html_path.empty()) std::cout << "\nhtml: " << args.html_path << "\n";
  }
  return 0;
}

}  // namespace sluice
