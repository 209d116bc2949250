// The command line in-process: parsing, dispatch and the exit codes and
// messages of the commands that need no workers.
#include "cli/commands.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/commands_testing.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

class CommandsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-cli-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return (dir_ / name).string();
  }

  fs::path dir_;
};

TEST_F(CommandsTest, HelpListsEveryCommand) {
  Outcome o = Sluice({"--help"});
  EXPECT_EQ(o.exit_code, kExitOk);
  for (const char* command : {"run", "plan", "resume", "runs", "status", "halt", "trace",
                              "rollback", "errors", "review", "model", "profile", "dedup"}) {
    EXPECT_NE(o.out.find("  " + std::string(command) + " "), std::string::npos) << command << "\n"
                                                                                << o.out;
  }
}

TEST_F(CommandsTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(Sluice({}).exit_code, kExitUsage);
  EXPECT_EQ(Sluice({"plan"}).exit_code, kExitUsage);  // a group needs its subcommand
  Outcome o = Sluice({"no-such-command"});
  EXPECT_EQ(o.exit_code, kExitUsage);
  EXPECT_NE(o.err.find("--help"), std::string::npos) << o.err;  // the usage, on err
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(Sluice({"model", "ddl", "m.yaml", "--target", "oracle"}).exit_code, kExitUsage);
}

TEST_F(CommandsTest, ModelDdlPrintsTheTables) {
  std::string model = Write("model.yaml",
                            "entities:\n"
                            "  hcp:\n"
                            "    fields:\n"
                            "      national_id: {type: string}\n"
                            "      last_name: {type: string, required: true}\n");
  Outcome o = Sluice({"model", "ddl", model});
  EXPECT_EQ(o.exit_code, kExitOk) << o.err;
  EXPECT_EQ(o.out.rfind("-- sluice model, content hash ", 0), 0u) << o.out;
  EXPECT_NE(o.out.find("CREATE TABLE IF NOT EXISTS \"hcp\""), std::string::npos) << o.out;
  EXPECT_EQ(o.err, "");

  Outcome missing = Sluice({"model", "ddl", (dir_ / "none.yaml").string()});
  EXPECT_EQ(missing.exit_code, kExitInvalidPlan);
  EXPECT_EQ(missing.err, "sluice: " + (dir_ / "none.yaml").string() + ": cannot read the file\n");
}

TEST_F(CommandsTest, PlanCheckOfAMissingFile) {
  const std::string plan = (dir_ / "none.yaml").string();
  Outcome o = Sluice({"plan", "check", plan});
  EXPECT_EQ(o.exit_code, kExitInvalidPlan);
  EXPECT_EQ(o.out, plan + ": file not found\n");
}

TEST_F(CommandsTest, TraceTakesSourceColonKey) {
  Outcome o = Sluice({"trace", "hcp", "CRM1", "--state-dir", dir_.string()});
  EXPECT_EQ(o.exit_code, kExitUsage);
  EXPECT_EQ(o.err, "sluice: trace takes SOURCE:KEY, got 'CRM1'\n");
}

TEST_F(CommandsTest, CommandsThatReadTheAuditStore) {
  Outcome none = Sluice({"runs", "--state-dir", dir_.string()});
  EXPECT_EQ(none.exit_code, kExitError);
  EXPECT_EQ(none.err, "sluice: no audit store at " + (dir_ / "audit.db").string() + "\n");
  Outcome rollback = Sluice({"rollback", "run-1", "--state-dir", dir_.string()});
  EXPECT_EQ(rollback.exit_code, kExitError);
  EXPECT_EQ(rollback.err, "sluice: no audit store at " + (dir_ / "audit.db").string() + "\n");

  ASSERT_TRUE(AuditStore::Open((dir_ / "audit.db").string()).ok());
  Outcome runs = Sluice({"runs", "--state-dir", dir_.string()});
  EXPECT_EQ(runs.exit_code, kExitOk) << runs.err;
  EXPECT_EQ(runs.out.rfind("run ", 0), 0u) << runs.out;
  EXPECT_NE(runs.out.find("halt reason\n"), std::string::npos) << runs.out;

  Outcome errors = Sluice({"errors", "--state-dir", dir_.string()});
  EXPECT_EQ(errors.exit_code, kExitUsage);
  EXPECT_EQ(errors.err, "sluice: errors takes a RUN (see `sluice runs`), or --trend --plan PLAN\n");
  Outcome unknown = Sluice({"errors", "run-1", "--state-dir", dir_.string()});
  EXPECT_EQ(unknown.exit_code, kExitError);
  EXPECT_EQ(unknown.err, "sluice: no run run-1\n");
}

// Without --state-dir or --plan the commands look in ./.sluice; a run keeps
// its audit store beside its plan, so when none is there they say where to look.
TEST_F(CommandsTest, WithoutAStateDirTheyTellWhereToLook) {
  const fs::path before = fs::current_path();
  fs::current_path(dir_);
  const std::string hint =
      "sluice: no audit store at .sluice/audit.db (give the run's --state-dir DIR, or --plan PLAN: "
      "a plan's state dir is its state_dir, .sluice beside the plan by default)\n";
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"runs"},
                                             {"status"},
                                             {"halt", "run-1"},
                                             {"resume", "run-1"},
                                             {"errors", "run-1"},
                                             {"rollback", "run-1"}}) {
    Outcome o = Sluice(args);
    EXPECT_EQ(o.exit_code, kExitError) << args[0];
    EXPECT_EQ(o.err, hint) << args[0];
  }
  fs::current_path(before);
}

TEST(CommandSetTest, AGroupIsMadeOnce) {
  CLI::App app;
  CommandSet commands(&app);
  CLI::App* first = commands.Group("review", "the review");
  EXPECT_EQ(commands.Group("review", "again"), first);
  CLI::App* leaf = commands.Add(first, "export", "", [](CommandContext&) { return 7; });
  EXPECT_EQ(commands.Parsed(), nullptr);
  const char* argv[] = {"sluice", "review", "export"};
  app.parse(3, const_cast<char**>(argv));
  ASSERT_NE(commands.Parsed(), nullptr);
  EXPECT_TRUE(leaf->parsed());
  std::ostringstream out, err;
  CommandContext ctx(out, err);
  EXPECT_EQ((*commands.Parsed())(ctx), 7);
}

}  // namespace
}  // namespace sluice::cli
