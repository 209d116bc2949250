// Issue 18 item 4 over the real executables: examples/consolidation run by
// the pipeline, then `sluice compare` of the live sources with the target.
// Untouched, it finds nothing (merged records included) and exits 0; after
// a source row is edited, a target row deleted, a stray row inserted and a
// field the golden record took from another system edited at the survivor's
// source, it lists exactly the three real differences and exits 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "common/audit/sqlite_util.h"
#include "tests/harness.h"
#include "tests/pg_database.h"

namespace sluice::testing {
namespace {

CommandResult Sluice(const std::string& args) { return Shell(BinDir() + "/sluice " + args); }

void Exec(const std::string& db, const std::string& sql) {
  auto conn = SqliteDb::Open(db, /*readonly=*/false);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  ASSERT_TRUE((*conn)->Exec(sql).ok()) << sql;
}

void Replace(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = ReadFile(path);
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  WriteFile(path, text);
}

// The consolidation example with the golden record's city taken from the
// member with the longest, and US01 (merged into FR001) in a longer city.
// `target`, when given, replaces the SQLite target (and the environments).
void Prepare(const std::string& dir, const std::string& target = "") {
  std::vector<std::pair<std::string, std::string>> replace = {
      {"      source_priority: [fr, eu, us]",
       "      source_priority: [fr, eu, us]\n      fields: {city: longest}"}};
  if (!target.empty()) {
    replace.push_back({"target:\n  kind: sqlite\n  path: out/target.db", "target: " + target});
    replace.push_back({"  sandbox:\n    target: {path: out/sandbox.db}\n", "  sandbox: {}\n"});
    replace.push_back({"    target: {path: out/prod.db}\n", ""});
  }
  PrepareConsolidation(dir, replace);
  Exec(dir + "/data/us.db", "UPDATE doctors SET city = 'Paris 15e' WHERE doc_id = 'US01'");
}

TEST(CompareEndToEnd, AnUntouchedConsolidationIsEqual) {
  ScratchDir dir("compare-equal");
  Prepare(dir.path());
  auto run = RunPlan(dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  ASSERT_EQ(run.json["status"], "completed") << run.out;
  // The golden row of FR001 took US01's city: a merged record compared with it.
  EXPECT_EQ(Query(dir.path() + "/out/target.db",
                  "SELECT h.city FROM hcp h JOIN sluice_xref x ON x.target_id = h.sluice_id"
                  " WHERE x.entity = 'hcp' AND x.source = 'fr' AND x.key = 'FR001'"),
            std::vector<std::string>{"Paris 15e"});

  auto compare =
      Sluice("compare " + dir.path() + "/plan.yaml --state-dir " + dir.path() + "/state");
  EXPECT_EQ(compare.exit_code, 0) << compare.out << compare.err;
  EXPECT_NE(compare.out.find(": equal, 0 difference(s)"), std::string::npos) << compare.out;

  auto json =
      Sluice("compare " + dir.path() + "/plan.yaml --json --state-dir " + dir.path() + "/state");
  ASSERT_EQ(json.exit_code, 0) << json.out << json.err;
  ASSERT_TRUE(json.json.is_object()) << json.out;
  EXPECT_EQ(json.json["verdict"], "equal");
  for (const auto& e : json.json["entities"]) {
    EXPECT_EQ(e["differences"], 0) << e.dump();
    EXPECT_EQ(e["compared"], e["equal"].get<uint64_t>() + e["not_loaded"].get<uint64_t>())
        << e.dump();
  }
}

TEST(CompareEndToEnd, ListsExactlyTheThreeRealDifferences) {
  ScratchDir dir("compare-diff");
  Prepare(dir.path());
  auto run = RunPlan(dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string db = dir.path() + "/out/target.db";

  // 1. A source row edited: FR003 moved from Lille to Lyon.
  Replace(dir.path() + "/data/fr.csv", "Pédiatrie;Lille", "Pédiatrie;Lyon");
  // 2. A target row deleted by hand: the visit V003.
  const std::string v003 = TargetId(db, "interaction", "us_visits", "V003");
  ASSERT_FALSE(v003.empty());
  Exec(db, "DELETE FROM interaction WHERE sluice_id = " + v003);
  // 3. A stray row inserted by hand.
  Exec(db,
       "INSERT INTO hcp(sluice_id, national_id, last_name, first_name, city, country)"
       " VALUES (9000, 'N99', 'Stray', 'Row', 'Oslo', 'NO')");
  // Not a difference: FR001's own city, which its golden row took from US01
  // (the longest), changes at the French source; the golden city stays.
  Replace(dir.path() + "/data/fr.csv", "Cardiologie;Paris", "Cardiologie;Pau");

  const std::string csv = dir.path() + "/compare.csv";
  const std::string html = dir.path() + "/compare.html";
  auto compare = Sluice("compare " + dir.path() + "/plan.yaml --csv " + csv + " --html " + html +
                        " --state-dir " + dir.path() + "/state");
  EXPECT_EQ(compare.exit_code, 1) << compare.out << compare.err;
  EXPECT_EQ(ReadFile(csv),
            "entity,source,key,kind,field,source_value,target_value\r\n"
            "hcp,,row 9000,MISSING_SOURCE,,no source record,\"national_id=N99, last_name=Stray, "
            "first_name=Row, birth_date=NULL, specialty=NULL, city=Oslo, country=NO\"\r\n"
            "hcp,fr,FR003,RECORD_DIFF,city,Lyon,Lille\r\n"
            "interaction,us_visits,V003,MISSING_TARGET,,\"hcp_ref=" +
                TargetId(db, "hcp", "us", "US03") +
                ", occurred_on=2026-02-01, channel=visit, notes=samples\",no row " + v003 + "\r\n");
  EXPECT_NE(compare.out.find("different, 3 difference(s)"), std::string::npos) << compare.out;
  EXPECT_NE(compare.out.find("hcp            fr             RECORD_DIFF               1"),
            std::string::npos)
      << compare.out;
  EXPECT_NE(ReadFile(html).find("MISSING_SOURCE"), std::string::npos);

  // Stored in the audit store: `sluice diff` lists them again by the id.
  const size_t from = compare.out.rfind("\ncompare-") + 1;  // the last line starts with it
  const std::string id = compare.out.substr(from, compare.out.find(':', from) - from);
  auto diff = Sluice("diff " + id + " --state-dir " + dir.path() + "/state");
  EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
  EXPECT_NE(diff.out.find("3 difference(s)"), std::string::npos) << diff.out;

  // Only the French source: the stray row and the visit are not its business.
  auto fr = Sluice("compare " + dir.path() + "/plan.yaml --source fr --json --state-dir " +
                   dir.path() + "/state");
  EXPECT_EQ(fr.exit_code, 1) << fr.out << fr.err;
  ASSERT_TRUE(fr.json.is_object()) << fr.out;
  ASSERT_EQ(fr.json["differences"].size(), 1u) << fr.out;
  EXPECT_EQ(fr.json["differences"][0]["key"], "FR003");
}

// The issue's own case: the target edited by hand, nothing else. A field of
// a row changed (FR003's city), a row deleted (the visit V003) and a row
// added: exactly those three differences, the field with both values.
TEST(CompareEndToEnd, ListsExactlyTheThreeHandEditsOfTheTarget) {
  ScratchDir dir("compare-hand");
  Prepare(dir.path());
  auto run = RunPlan(dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string db = dir.path() + "/out/target.db";
  const std::string fr003 = TargetId(db, "hcp", "fr", "FR003");
  const std::string v003 = TargetId(db, "interaction", "us_visits", "V003");
  ASSERT_FALSE(fr003.empty());
  ASSERT_FALSE(v003.empty());
  Exec(db, "UPDATE hcp SET city = 'Roubaix' WHERE sluice_id = " + fr003);
  Exec(db, "DELETE FROM interaction WHERE sluice_id = " + v003);
  Exec(db,
       "INSERT INTO hcp(sluice_id, national_id, last_name, first_name, city, country)"
       " VALUES (9000, 'N99', 'Stray', 'Row', 'Oslo', 'NO')");

  auto compare =
      Sluice("compare " + dir.path() + "/plan.yaml --json --state-dir " + dir.path() + "/state");
  EXPECT_EQ(compare.exit_code, 1) << compare.out << compare.err;
  ASSERT_TRUE(compare.json.is_object()) << compare.out;
  EXPECT_EQ(compare.json["verdict"], "different");
  ASSERT_EQ(compare.json["differences"].size(), 3u) << compare.out;
  std::vector<std::string> found;
  for (const auto& d : compare.json["differences"]) {
    found.push_back(d["entity"].get<std::string>() + "," + d["key"].get<std::string>() + "," +
                    d["kind"].get<std::string>() + "," + d["field"].get<std::string>() + "," +
                    d["source_value"].get<std::string>() + "," +
                    d["target_value"].get<std::string>());
  }
  std::sort(found.begin(), found.end());
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0], "hcp,FR003,RECORD_DIFF,city,Lille,Roubaix");
  EXPECT_EQ(found[1].substr(0, found[1].find(",no source record")), "hcp,row 9000,MISSING_SOURCE,")
      << found[1];
  EXPECT_EQ(found[2].substr(0, found[2].find(",,")), "interaction,V003,MISSING_TARGET") << found[2];
}

// The same on a PostgreSQL target: its entries and its rows without one.
TEST(CompareEndToEnd, PostgresTargetToo) {
  TestDatabase db("compare");
  ASSERT_EQ(db.error, "");
  const std::string& dsn = db.dsn;
  ScratchDir dir("compare-pg");
  Prepare(dir.path(), "{kind: postgres, dsn: \"" + dsn + "\", schema: mdm}");
  auto run = RunPlan(dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string args =
      "compare " + dir.path() + "/plan.yaml --state-dir " + dir.path() + "/state";
  auto equal = Sluice(args);
  EXPECT_EQ(equal.exit_code, 0) << equal.out << equal.err;

  Replace(dir.path() + "/data/fr.csv", "Pédiatrie;Lille", "Pédiatrie;Lyon");
  Replace(dir.path() + "/data/fr.csv", "Cardiologie;Paris", "Cardiologie;Pau");
  ASSERT_EQ(
      PsqlOut(dsn,
              "DELETE FROM mdm.interaction WHERE sluice_id = (SELECT target_id FROM sluice.xref"
              " WHERE entity = 'interaction' AND source = 'us_visits' AND key = 'V003')"),
      "");
  ASSERT_EQ(
      PsqlOut(dsn,
              "INSERT INTO mdm.hcp(sluice_id, national_id, last_name, first_name, city, country)"
              " VALUES (900000, 'N99', 'Stray', 'Row', 'Oslo', 'NO')"),
      "");
  const std::string csv = dir.path() + "/compare.csv";
  auto compare = Sluice(args + " --csv " + csv);
  EXPECT_EQ(compare.exit_code, 1) << compare.out << compare.err;
  const std::string text = ReadFile(csv);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4) << text;
  EXPECT_NE(text.find("hcp,,row 900000,MISSING_SOURCE,,no source record,"), std::string::npos)
      << text;
  EXPECT_NE(text.find("hcp,fr,FR003,RECORD_DIFF,city,Lyon,Lille"), std::string::npos) << text;
  EXPECT_NE(text.find("interaction,us_visits,V003,MISSING_TARGET,,"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice::testing
