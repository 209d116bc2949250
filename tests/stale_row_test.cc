// Issue 23, "a stale row cannot outlive its fate", over the real executables:
// two doctors that a first run loads as distinct are one person by a
// steward's decision in the second run; the second run's target holds
// exactly the rows its fates call loaded, and the reconciler checks it.
#include <gtest/gtest.h>
#include <signal.h>

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

// Imports the steward's decisions `rows` (lines of the review file's
// columns, written by hand, docs/review.md) into DIR/state.
void ImportDecisions(const std::string& dir, const std::string& rows) {
  WriteFile(dir + "/decisions.csv",
            "kind,run,wave,entity,source,key,other_source,other_key,cluster,score,stage,rule,"
            "field,value,reasons,suggestion,record,other_record,decision,corrected_value,"
            "corrections,steward,note\r\n" +
                rows + "\r\n");
  auto imp =
      Shell(Sluice() + " review import " + dir + "/decisions.csv --state-dir " + dir + "/state");
  ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;
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
  ImportDecisions(dir.path(),
                  "pair," + run + ",0,hcp,crm,k3,crm,k4,,,,,,,,,,,match,,,dora,same doctor");

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
  ImportDecisions(dir.path(), "record," + run +
                                  ",0,hcp,crm,k5,,,,,,,,,,,,,reject,,,dora,left the practice\r\n" +
                                  "pair," + run +
                                  ",0,hcp,crm,k3,crm,k4,,,,,,,,,,,match,,,dora,same doctor");

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

// The doctors of tests/data/survivor_refs/ with their visits, a child entity
// loaded in a second wave; visit v1 is of doctor k4.
void WritePlanWithVisits(const std::string& dir) {
  for (const char* name : {"model.yaml", "plan.yaml", "doctors.csv", "visits.csv"}) {
    WriteFile(dir + "/" + name, ReadFile(SourceDir() + "/tests/data/survivor_refs/" + name));
  }
}

std::string HcpRefOfVisit(const std::string& db, const std::string& key) {
  auto rows = Query(
      db, "SELECT hcp_ref FROM visit WHERE sluice_id = " + TargetId(db, "visit", "visits", key));
  return rows.empty() ? "" : rows[0];
}

// A steward merges k4 into k3, both loaded by a first run, and k4 has a
// visit: when the second run retires k4's row, the visit's reference moves
// to k3's row in the same transaction, before the visits' wave runs (the
// coordinator is killed between the waves to look), and the reference check
// of the finished run passes. A rollback puts the reference back.
TEST(StaleRowEndToEnd, ReferencesToAMergedRecordsRowMoveToTheSurvivor) {
  ScratchDir dir("d-stale-refs");
  WritePlanWithVisits(dir.path());
  const std::string state = " --state-dir " + dir.path() + "/state";
  const std::string db = dir.path() + "/target.db";
  auto first = RunPlan(dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(Sum(first.json, "loaded"), 7u) << first.out;
  const std::string k3 = TargetId(db, "hcp", "crm", "k3");
  const std::string k4 = TargetId(db, "hcp", "crm", "k4");
  ASSERT_NE(k3, k4);
  ASSERT_EQ(HcpRefOfVisit(db, "v1"), k4);

  const std::string run = first.json["run_id"];
  ImportDecisions(dir.path(),
                  "pair," + run + ",0,hcp,crm,k3,crm,k4,,,,,,,,,,,match,,,dora,same doctor");

  // The coordinator dies as the doctors' wave is about to reconcile: hcp is
  // loaded, the visits are not yet.
  auto killed = RunPlan(dir.path(), "--quiet --test-fault coordinator:sigkill_at=reconcile");
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.out << killed.err;
  EXPECT_EQ(Query(db, "SELECT count(*) FROM hcp"), std::vector<std::string>{"3"});
  EXPECT_EQ(TargetId(db, "hcp", "crm", "k4"), k3);
  EXPECT_EQ(HcpRefOfVisit(db, "v1"), k3) << "the visit still names the retired row " << k4;

  auto rows =
      Query(dir.path() + "/state/audit.db", "SELECT run_id FROM runs ORDER BY rowid DESC LIMIT 1");
  ASSERT_EQ(rows.size(), 1u);
  auto resumed = Shell(Sluice() + " resume " + rows[0] + " --quiet --json" + state);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_EQ(resumed.json["status"], "completed") << resumed.out;
  EXPECT_EQ(HcpRefOfVisit(db, "v1"), k3);
  bool checked = false;
  for (const auto& e : resumed.json["entities"]) {
    if (e["entity"] != "visit") continue;
    checked = true;
    EXPECT_EQ(e["ri_check"], "PASS") << e.dump();
    EXPECT_EQ(e["unresolved_references"], 0) << e.dump();
  }
  EXPECT_TRUE(checked) << resumed.out;

  auto rollback = Shell(Sluice() + " rollback " + rows[0] + state);
  ASSERT_EQ(rollback.exit_code, 0) << rollback.out << rollback.err;
  EXPECT_EQ(TargetId(db, "hcp", "crm", "k4"), k4);
  EXPECT_EQ(HcpRefOfVisit(db, "v1"), k4);
}

}  // namespace
}  // namespace sluice::testing
