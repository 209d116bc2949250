// Issue 17 over the real executables: a target tampered with after a run
// (one field edited, one row deleted, one stray row inserted, one decimal
// changed) fails the next run's reconciliation, which halts the run, and
// `sluice diff` lists exactly those differences with their field and values.
#include <gtest/gtest.h>

#include <string>

#include "common/audit/sqlite_util.h"
#include "tests/harness.h"

namespace sluice::testing {
namespace {

std::string Sluice() { return BinDir() + "/sluice"; }

void WritePlan(const std::string& dir) {
  for (const char* name : {"model.yaml", "plan.yaml", "doctors.csv"}) {
    WriteFile(dir + "/" + name, ReadFile(SourceDir() + "/tests/data/reconciliation/" + name));
  }
}

void Exec(const std::string& db, const std::string& sql) {
  auto conn = SqliteDb::Open(db, /*readonly=*/false);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  ASSERT_TRUE((*conn)->Exec(sql).ok()) << sql;
}

TEST(ReconciliationEndToEnd, EachTamperingIsADifferenceWithItsFieldAndValues) {
  ScratchDir dir("d-recon");
  WritePlan(dir.path());
  const std::string state = " --state-dir " + dir.path() + "/state";
  const std::string db = dir.path() + "/target.db";
  auto first = RunPlan(dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(Sum(first.json, "loaded"), 5u) << first.out;
  auto clean = Shell(Sluice() + " diff " + std::string(first.json["run_id"]) + state);
  ASSERT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  EXPECT_EQ(clean.out, "0 difference(s)\n");

  const std::string k1 = TargetId(db, "hcp", "crm", "k1");
  const std::string k2 = TargetId(db, "hcp", "crm", "k2");
  const std::string k3 = TargetId(db, "hcp", "crm", "k3");
  Exec(db, "UPDATE hcp SET name = 'Anna Martinez' WHERE sluice_id = " + k1);
  Exec(db, "DELETE FROM hcp WHERE sluice_id = " + k2);
  Exec(db, "UPDATE hcp SET revenue = '99.98' WHERE sluice_id = " + k3);
  Exec(db,
       "INSERT INTO hcp(sluice_id, national_id, name, country, revenue)"
       " VALUES (9000, 'N9', 'Stray Row', 'ES', '1.00')");

  // The same plan again: every record is unchanged by its cross-reference,
  // so the tampered rows stay as they are and the reconciliation fails.
  auto second = RunPlan(dir.path());
  EXPECT_NE(second.exit_code, 0) << second.out << second.err;
  const std::string run = second.json.value("run_id", "");
  ASSERT_FALSE(run.empty()) << second.out << second.err;
  EXPECT_EQ(second.json.value("status", ""), "halted") << second.out;

  const std::string csv = dir.path() + "/diff.csv";
  auto diff = Shell(Sluice() + " diff " + run + " --entity hcp --csv " + csv + state);
  ASSERT_EQ(diff.exit_code, 0) << diff.out << diff.err;
  EXPECT_EQ(ReadFile(csv),
            "wave,entity,source,key,failure,field,expected,actual\r\n"
            "0,hcp,,row 9000,UNEXPECTED_TARGET,,no row,"
            "\"national_id=N9, name=Stray Row, country=ES, revenue=1.00\"\r\n"
            "0,hcp,*,*,SUM_MISMATCH,revenue,1702.49,1402.48\r\n"
            "0,hcp,crm,k1,RECORD_DIFF,name,Anna Martin,Anna Martinez\r\n"
            "0,hcp,crm,k2,MISSING_TARGET,,\"national_id=N2, name=Jean Dupont, country=FR, "
            "revenue=300.00\",no row " +
                k2 +
                "\r\n"
                "0,hcp,crm,k3,RECORD_DIFF,revenue,99.99,99.98\r\n");
  auto table = Shell(Sluice() + " diff " + run + state);
  ASSERT_EQ(table.exit_code, 0) << table.out << table.err;
  EXPECT_NE(table.out.find("5 difference(s)"), std::string::npos) << table.out;
}

}  // namespace
}  // namespace sluice::testing
