// Issue 23, "a stale row cannot outlive its fate", over the real executables:
// two doctors that a first run loads as distinct are one person by a
// steward's decision in the second run; the second run's target holds
// exactly the rows its fates call loaded, and the reconciler checks it.
#include <gtest/gtest.h>

#include <string>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

std::string Sluice() { return BinDir() + "/sluice"; }

// The plan, model and data of tests/data/stale_row/: four doctors, none the
// same person by the plan's rule.
void WritePlan(const std::string& dir) {
  for (const char* name : {"model.yaml", "plan.yaml", "doctors.csv"}) {
    WriteFile(dir + "/" + name, ReadFile(SourceDir() + "/tests/data/stale_row/" + name));
  }
}

TEST(StaleRowEndToEnd, AStewardMergeOfTwoLoadedRecordsLeavesNoStaleRow) {
  ScratchDir dir("d-stale");
  WritePlan(dir.path());
  const std::string state = " --state-dir " + dir.path() + "/state";
  const std::string db = dir.path() + "/target.db";
  auto first = RunPlan(dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(Sum(first.json, "loaded"), 4u) << first.out;
  EXPECT_EQ(Query(db, "SELECT count(*) FROM hcp"), std::vector<std::string>{"4"});
  const std::string k3 = TargetId(db, "hcp", "crm", "k3");
  const std::string k4 = TargetId(db, "hcp", "crm", "k4");
  ASSERT_NE(k3, k4);

  // The steward: k3 and k4 are one doctor (a forced link, written by hand
  // in the review file's columns, docs/review.md).
  const std::string run = first.json["run_id"];
  WriteFile(dir.path() + "/decisions.csv",
            "kind,run,wave,entity,source,key,other_source,other_key,cluster,score,stage,rule,"
            "field,value,reasons,suggestion,record,other_record,decision,corrected_value,"
            "corrections,steward,note\r\n"
            "pair," +
                run + ",0,hcp,crm,k3,crm,k4,,,,,,,,,,,match,,,dora,same doctor\r\n");
  auto imp = Shell(Sluice() + " review import " + dir.path() + "/decisions.csv" + state);
  ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;

  auto second = RunPlan(dir.path());
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(Sum(second.json, "merged"), 1u) << second.out;
  EXPECT_EQ(Sum(second.json, "loaded"), 3u) << second.out;
  // Before issue 23: 4 rows, the merged doctor's own row left behind.
  EXPECT_EQ(Query(db, "SELECT count(*) FROM hcp"), std::vector<std::string>{"3"});
  EXPECT_EQ(TargetId(db, "hcp", "crm", "k4"), TargetId(db, "hcp", "crm", "k3"));
  EXPECT_EQ(Query(db, "SELECT kind FROM sluice_xref WHERE key IN ('k3', 'k4') ORDER BY kind"),
            (std::vector<std::string>{"loaded", "merged"}));

  // sluice rollback of the second run brings the row back.
  auto rollback = Shell(Sluice() + " rollback " + std::string(second.json["run_id"]) + state);
  ASSERT_EQ(rollback.exit_code, 0) << rollback.out << rollback.err;
  EXPECT_EQ(Query(db, "SELECT count(*) FROM hcp"), std::vector<std::string>{"4"});
  EXPECT_EQ(TargetId(db, "hcp", "crm", "k4"), k4);
}

// A steward rejects one loaded doctor and merges two others: the second
// run's target holds exactly the rows its LOADED fates name, the retired
// row is in the audit trail, and rollback brings it back.
TEST(StaleRowEndToEnd, AStewardRejectOfALoadedRecordRetiresItsRow) {
  ScratchDir dir("d-stale-reject");
  WritePlan(dir.path());
  const std::string state = " --state-dir " + dir.path() + "/state";
  const std::string db = dir.path() + "/target.db";
  auto first = RunPlan(dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  ASSERT_EQ(Query(db, "SELECT count(*) FROM hcp"), std::vector<std::string>{"4"});
  const std::string k5 = TargetId(db, "hcp", "crm", "k5");

  const std::string run = first.json["run_id"];
  WriteFile(dir.path() + "/decisions.csv",
            "kind,run,wave,entity,source,key,other_source,other_key,cluster,score,stage,rule,"
            "field,value,reasons,suggestion,record,other_record,decision,corrected_value,"
            "corrections,steward,note\r\n"
            "record," +
                run + ",0,hcp,crm,k5,,,,,,,,,,,,,reject,,,dora,left the practice\r\n" + "pair," +
                run + ",0,hcp,crm,k3,crm,k4,,,,,,,,,,,match,,,dora,same doctor\r\n");
  auto imp = Shell(Sluice() + " review import " + dir.path() + "/decisions.csv" + state);
  ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;

  auto second = RunPlan(dir.path());
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(Sum(second.json, "rejected"), 1u) << second.out;
  EXPECT_EQ(Sum(second.json, "merged"), 1u) << second.out;
  EXPECT_EQ(Sum(second.json, "loaded"), 2u) << second.out;
  // The target agrees with the fates: one row per LOADED fate, none for k5.
  EXPECT_EQ(Query(db, "SELECT count(*) FROM hcp"), std::vector<std::string>{"2"});
  EXPECT_EQ(Query(db, "SELECT count(*) FROM sluice_xref WHERE key = 'k5'"),
            std::vector<std::string>{"0"});
  // The audit trail: which run retired which row, and why.
  const std::string audit = dir.path() + "/state/audit.db";
  EXPECT_EQ(Query(audit, "SELECT run_id, target_id FROM retired_rows WHERE key = 'k5'"),
            std::vector<std::string>{std::string(second.json["run_id"]) + "|" + k5});
  auto trace = Shell(Sluice() + " trace hcp crm:k5" + state);
  ASSERT_EQ(trace.exit_code, 0) << trace.out << trace.err;
  EXPECT_NE(trace.out.find("row retired: row " + k5 + " that an earlier run loaded is retired"),
            std::string::npos)
      << trace.out;

  auto rollback = Shell(Sluice() + " rollback " + std::string(second.json["run_id"]) + state);
  ASSERT_EQ(rollback.exit_code, 0) << rollback.out << rollback.err;
  EXPECT_EQ(Query(db, "SELECT count(*) FROM hcp"), std::vector<std::string>{"4"});
  EXPECT_EQ(TargetId(db, "hcp", "crm", "k5"), k5);
}

}  // namespace
}  // namespace sluice::testing
