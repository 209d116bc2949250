// `sluice plan check` golden cases: every tests/data/plan_check/*.yaml but
// model.yaml is a plan whose header comments say what the check prints
// (tests/data/plan_check/README.md). Runs from the repository root.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/command.h"
#include "cli/commands.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCaseDir = "tests/data/plan_check";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

void RunCase(const std::string& plan) {
  SCOPED_TRACE(plan);
  std::vector<std::string> exact, prefixes;
  int want_exit = 0;
  std::ifstream in(plan);
  for (std::string line; std::getline(in, line) && line.rfind("#", 0) == 0;) {
    if (line.rfind("# expect: ", 0) == 0) exact.push_back(line.substr(10));
    if (line.rfind("# expect-prefix: ", 0) == 0) prefixes.push_back(line.substr(17));
    if (line.rfind("# exit: ", 0) == 0) want_exit = std::stoi(line.substr(8));
  }
  ASSERT_FALSE(exact.empty() && prefixes.empty()) << "no '# expect:' line";

  std::string args[] = {"sluice", "plan", "check", plan};
  char* argv[] = {args[0].data(), args[1].data(), args[2].data(), args[3].data()};
  std::ostringstream out, err;
  const int exit_code = RunCommandLine(4, argv, out, err);
  const std::string dir = fs::absolute(kCaseDir).lexically_normal().string();
  const std::string text = Replace(Replace(out.str(), dir, "<dir>"), plan, "<plan>");
  EXPECT_EQ(exit_code, want_exit) << text << err.str();
  std::vector<std::string> lines;
  std::istringstream split(text);
  for (std::string line; std::getline(split, line);) lines.push_back(line);
  for (const std::string& want : exact) {
    EXPECT_NE(std::find(lines.begin(), lines.end(), want), lines.end())
        << "missing: " << want << "\nin:\n"
        << text;
  }
  for (const std::string& want : prefixes) {
    EXPECT_TRUE(std::any_of(lines.begin(), lines.end(),
                            [&](const std::string& l) { return l.rfind(want, 0) == 0; }))
        << "no line starting: " << want << "\nin:\n"
        << text;
  }
}

TEST(PlanCheckCasesTest, EveryCase) {
  std::vector<std::string> plans;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kCaseDir, ec)) {
    const fs::path& p = entry.path();
    if (p.extension() == ".yaml" && p.filename() != "model.yaml") plans.push_back(p.string());
  }
  std::sort(plans.begin(), plans.end());
  ASSERT_FALSE(plans.empty()) << "no case in " << kCaseDir << " (run from the repository root)";
  for (const std::string& plan : plans) RunCase(plan);
}

}  // namespace
}  // namespace sluice::cli
