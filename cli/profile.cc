// `sluice profile PLAN [--json] [--html FILE]`: what the sources hold, before
// anything moves (docs/profile.md; the profiler is in profiler/).
#include "profiler/profile.h"

#include <fstream>

#include "cli/command.h"
#include "cli/plan_pii.h"

namespace sluice::cli {
namespace {

struct ProfileArgs {
  std::string plan_path;
  std::string env;        // the environment whose overrides apply
  bool json = false;      // print one JSON object instead of the text report
  std::string html_path;  // also write the HTML page here
  uint64_t max_rows = 0;  // per source; 0: all
};

int Profile(const ProfileArgs& args, CommandContext& ctx) {
  if (Status st = ctx.LoadPlan(args.plan_path, args.env); !st.ok()) {
    ctx.err() << st.message() << "\n";
    return kExitInvalidPlan;
  }
  // A profile is for the production side: under a pii mode it would print
  // what the mode keeps out of the run.
  if (std::string why = PiiProfileRefusal(ctx.plan()); !why.empty()) {
    return ctx.Fail(why, kExitError);
  }
  ProfileOptions options;
  options.max_rows = args.max_rows;
  auto profile = ProfilePlan(ctx.plan(), options);
  if (!profile.ok()) return ctx.Fail("profile: " + profile.status().message(), kExitError);
  if (!args.html_path.empty()) {
    std::ofstream out(args.html_path, std::ios::binary);
    out << ProfileHtml(*profile);
    if (!out) return ctx.Fail("cannot write " + args.html_path, kExitError);
  }
  if (args.json) {
    ctx.out() << ProfileJson(*profile).dump() << "\n";
  } else {
    ctx.out() << ProfileText(*profile);
    if (!args.html_path.empty()) ctx.out() << "\nhtml: " << args.html_path << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddProfileCommand(CommandSet& commands) {
  auto [profile, args] =
      commands.Add(nullptr, "profile", "profile every source of a plan", Profile);
  profile->add_option("plan", args->plan_path, "the plan YAML")->required();
  profile->add_option("--env", args->env, "the environment whose overrides apply");
  profile->add_flag("--json", args->json, "print the profile as one JSON object");
  profile->add_option("--html", args->html_path, "also write a self-contained HTML page");
  profile->add_option("--limit", args->max_rows, "read at most this many rows per source");
}

}  // namespace sluice::cli
