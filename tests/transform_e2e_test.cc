// Issue 4 end to end: lineage from the transformer to `sluice trace`, the
// model hash in `sluice runs`, `sluice model ddl` and `sluice profile`, with
// the real executables on the quickstart data.
#include <gtest/gtest.h>

#include <string>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

// The quickstart plan with phones to E.164 and e-mails lower-cased.
void PreparePlan(const ScratchDir& dir) {
  PrepareQuickstart(dir.path(), 2000, 1000);
  std::string plan = ReadFile(dir / "plan.yaml");
  auto replace = [&](const std::string& from, const std::string& to) {
    size_t at = plan.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    plan.replace(at, from.size(), to);
  };
  replace("      phone: phone\n", "      phone: {from: phone, phone: true, region: FR}\n");
  replace("      email: email\n", "      email: {from: email, email: true}\n");
  WriteFile(dir / "plan.yaml", plan);
}

TEST(TransformE2E, TraceShowsTheChangedValues) {
  ScratchDir dir("transform-e2e");
  ASSERT_NO_FATAL_FAILURE(PreparePlan(dir));
  CommandResult run = RunPlan(dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;

  const std::string bin = BinDir() + "/sluice";
  CommandResult trace =
      Shell(bin + " trace hcp crm:CRM0000002 --state-dir " + dir.path() + "/state");
  ASSERT_EQ(trace.exit_code, 0) << trace.err;
  // CRM0000002's specialty PSY is mapped and its phone rewritten to E.164.
  EXPECT_NE(trace.out.find("changed:   specialty: 'PSY' -> 'psychiatry' (map)"), std::string::npos)
      << trace.out;
  EXPECT_NE(trace.out.find("(phone)"), std::string::npos) << trace.out;
  // The changes come right after the extraction batch line.
  EXPECT_LT(trace.out.find("extracted: batch"), trace.out.find("changed:")) << trace.out;

  // Some generated phone numbers are not valid French numbers: rejected with
  // rule phone, never passed through.
  CommandResult errors = Shell(bin + " errors " + run.json.value("run_id", std::string("?")) +
                               " --rule phone --state-dir " + dir.path() + "/state");
  EXPECT_NE(errors.out.find("not a valid phone number"), std::string::npos)
      << errors.out << errors.err;

  // The model hash of the run is the model's.
  CommandResult ddl = Shell(bin + " model ddl " + dir.path() + "/model.yaml --target sqlite");
  ASSERT_EQ(ddl.exit_code, 0) << ddl.err;
  const std::string prefix = "-- sluice model, content hash ";
  ASSERT_EQ(ddl.out.rfind(prefix, 0), 0u) << ddl.out;
  const std::string hash = ddl.out.substr(prefix.size(), 16);
  EXPECT_NE(ddl.out.find("CREATE TABLE IF NOT EXISTS \"hcp\"(sluice_id INTEGER PRIMARY KEY"),
            std::string::npos);
  CommandResult runs = Shell(bin + " runs --state-dir " + dir.path() + "/state");
  EXPECT_NE(runs.out.find(hash), std::string::npos) << runs.out;
  CommandResult pg =
      Shell(bin + " model ddl " + dir.path() + "/plan.yaml --target postgres --schema crm");
  EXPECT_NE(pg.out.find("\"crm\".\"hcp\""), std::string::npos) << pg.out << pg.err;
  EXPECT_NE(pg.out.find("\"revenue\" numeric(14,2)"), std::string::npos) << pg.out;
}

TEST(TransformE2E, ProfileReadsEverySource) {
  ScratchDir dir("profile-e2e");
  ASSERT_NO_FATAL_FAILURE(PreparePlan(dir));
  const std::string bin = BinDir() + "/sluice";
  CommandResult p = Shell(bin + " profile " + dir.path() + "/plan.yaml --json --html " +
                          dir.path() + "/profile.html");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  ASSERT_TRUE(p.json.is_object()) << p.out;
  ASSERT_EQ(p.json["sources"].size(), 2u);
  EXPECT_EQ(p.json["sources"][0]["name"], "crm");
  EXPECT_EQ(p.json["sources"][1]["rows"], 1000);
  EXPECT_EQ(p.json["duplicates"][0]["entity"], "hcp");
  const std::string html = ReadFile(dir / "profile.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Source crm"), std::string::npos);
  CommandResult bad = Shell(bin + " profile " + dir.path() + "/missing.yaml");
  EXPECT_EQ(bad.exit_code, 2);
}

}  // namespace
}  // namespace sluice::testing
