// Issue 18 item 3, end to end with the real executables: a delta run of a
// deduplicated entity matches its new records against the people earlier
// runs loaded. A new record duplicating a loaded person merges into that
// person's row; a new record duplicating nobody gets a row of its own; the
// target is the one a full run on the changed sources gives.
// (docs/delta.md#deduplicated-entities: the delta is resolved with the
// residents of its blocks and clusters, read by key.)
#include <gtest/gtest.h>

#include <string>

#include "tests/delta_dedup_testing.h"
#include "tests/harness.h"

namespace sluice::testing {
namespace {

constexpr int kPeople = 40;

// `review_rule`: two people of the same name and city are held for a
// steward (blocked on the name), whatever their national ids.
void WritePlan(const std::string& dir, bool review_rule = false) {
  const std::string review = review_rule ? R"yaml(
    blocking:
      - {name: name, on: [name]}
    rules:
      - {name: same_name_and_city, when: "name exact and city exact", decide: review})yaml"
                                         : "";
  WriteFile(dir + "/plan.yaml", DeltaDedupPlanHead("delta_dedup", R"yaml(
    deletions: propagate)yaml") + R"yaml(dedup:
  hcp:
    key: national_id)yaml" + review +
                                    R"yaml(
    survivorship:
      source_priority: [crm, erp]
      fields: {city: non_null}
target: {kind: sqlite, path: out/target.db}
waves:
  - {name: people, entities: [hcp]}
)yaml");
}

// crm holds kPeople people (city NULL for every fifth), erp 10 others.
void CreateSources(const std::string& dir) {
  std::string crm =
      "CREATE TABLE people(id TEXT PRIMARY KEY, nid TEXT, name TEXT, city TEXT, "
      "upd TEXT);";
  for (int i = 0; i < kPeople; ++i) {
    crm += "INSERT INTO people VALUES('C" + std::to_string(i) + "','N" + std::to_string(i) +
           "','Crm " + std::to_string(i) + "'," +
           (i % 5 == 0 ? std::string("NULL") : "'City " + std::to_string(i) + "'") +
           ",'2026-01-01 00:00:" + (i < 10 ? "0" : "") + std::to_string(i) + "');";
  }
  std::string erp =
      "CREATE TABLE people(id TEXT PRIMARY KEY, nid TEXT, name TEXT, city TEXT, "
      "upd TEXT);";
  for (int i = 0; i < 10; ++i) {
    erp += "INSERT INTO people VALUES('E" + std::to_string(i) + "','X" + std::to_string(i) +
           "','Erp " + std::to_string(i) + "','Town','2026-01-01 00:00:0" + std::to_string(i) +
           "');";
  }
  ExecSqlite(dir + "/crm.db", crm);
  ExecSqlite(dir + "/erp.db", erp);
}

// erp gains E20, the same person as crm's C10 (whose city it also has), and
// E21, nobody loaded; crm changes C3's name.
const char kErpChange[] =
    "INSERT INTO people VALUES('E20','N10','Erp twin of 10','Erp city','2026-02-01 10:00:00'),"
    "('E21','Y21','Erp 21','Town','2026-02-01 10:00:01');";
const char kErpTwinOfNullCity[] =
    "INSERT INTO people VALUES('E22','N15','Erp twin of 15','Filled','2026-02-01 10:00:02');";
const char kCrmChange[] =
    "UPDATE people SET name = 'Crm 3 (renamed)', upd = '2026-02-01 09:00:00' WHERE id = 'C3';";

std::string FreshDigest(const std::string& extra_erp_sql) {
  ScratchDir fresh("delta-dedup-fresh");
  WritePlan(fresh.path());
  CreateSources(fresh.path());
  ExecSqlite(fresh / "erp.db", extra_erp_sql);
  ExecSqlite(fresh / "crm.db", kCrmChange);
  auto r = RunPlan(fresh.path(), "--quiet");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return TargetDigest(fresh / "out/target.db");
}

TEST(DeltaDedup, ANewRecordDuplicatingALoadedPersonMergesIntoThatPersonsRow) {
  ScratchDir dir("delta-dedup");
  WritePlan(dir.path());
  CreateSources(dir.path());
  auto first = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(Sum(first.json, "loaded"), static_cast<uint64_t>(kPeople + 10));
  const std::string target = dir / "out/target.db";
  const std::string c10 = TargetId(target, "hcp", "crm", "C10");
  const std::string c15 = TargetId(target, "hcp", "crm", "C15");
  ASSERT_FALSE(c10.empty());

  ExecSqlite(dir / "erp.db", std::string(kErpChange) + kErpTwinOfNullCity);
  ExecSqlite(dir / "crm.db", kCrmChange);
  auto delta = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  EXPECT_EQ(delta.json["status"], "completed");
  EXPECT_EQ(Sum(delta.json, "merged"), 2u) << delta.out;  // E20 into C10, E22 into C15

  // E20 merged into C10's row (the survivor by source priority); the row
  // count grew by E21 only.
  EXPECT_EQ(LatestFate(dir.path(), "erp", "E20"), "merged|crm|C10");
  EXPECT_EQ(TargetId(target, "hcp", "erp", "E20"), c10);
  // Its trace says so: the decision with C10 and the fate into C10's row.
  auto trace = Shell(BinDir() + "/sluice trace hcp erp:E20 --state-dir " + dir.path() + "/state");
  ASSERT_EQ(trace.exit_code, 0) << trace.err;
  EXPECT_NE(trace.out.find("MATCH DECISION with crm:C10: merge by exact:national_id"),
            std::string::npos)
      << trace.out;
  EXPECT_NE(trace.out.find("MERGED"), std::string::npos) << trace.out;
  EXPECT_EQ(LatestFate(dir.path(), "erp", "E21"), "loaded||");
  EXPECT_EQ(Query(target, "SELECT count(*) FROM hcp"),
            std::vector<std::string>{std::to_string(kPeople + 10 + 1)});
  // C15 had no city: its golden record takes E22's (non_null), in its row.
  EXPECT_EQ(LatestFate(dir.path(), "erp", "E22"), "merged|crm|C15");
  EXPECT_EQ(Query(target, "SELECT city FROM hcp WHERE sluice_id = " + c15),
            std::vector<std::string>{"Filled"});
  // The same target as one full run on the changed sources.
  EXPECT_EQ(TargetDigest(target), FreshDigest(std::string(kErpChange) + kErpTwinOfNullCity));
}

TEST(DeltaDedup, NewRecordsDuplicatingNobodyGetRowsOfTheirOwn) {
  ScratchDir dir("delta-dedup-none");
  WritePlan(dir.path());
  CreateSources(dir.path());
  auto first = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const std::string erp_new =
      "INSERT INTO people VALUES('E30','Y30','Erp 30','Town','2026-02-01 10:00:00'),"
      "('E31','Y31','Erp 31','Town','2026-02-01 10:00:01');";
  ExecSqlite(dir / "erp.db", erp_new);
  ExecSqlite(dir / "crm.db", kCrmChange);
  auto delta = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  EXPECT_EQ(Sum(delta.json, "merged"), 0u) << delta.out;
  EXPECT_EQ(Sum(delta.json, "inserted"), 2u) << delta.out;
  EXPECT_EQ(LatestFate(dir.path(), "erp", "E30"), "loaded||");
  EXPECT_EQ(Query(dir / "out/target.db", "SELECT count(*) FROM hcp"),
            std::vector<std::string>{std::to_string(kPeople + 10 + 2)});
  EXPECT_EQ(TargetDigest(dir / "out/target.db"), FreshDigest(erp_new));
}

// A changed record that now matches another cluster moves, with its
// decision recorded: E5 (alone) takes C12's national id at erp and merges
// into C12's row, its own row retired; when it changes back it leaves the
// cluster and gets a row of its own again. Each time the target is a full
// run's on the changed sources, and a rollback restores the one before.
TEST(DeltaDedup, AChangedRecordMovesToTheClusterItNowMatchesAndBack) {
  ScratchDir dir("delta-dedup-move");
  WritePlan(dir.path());
  CreateSources(dir.path());
  auto first = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const std::string target = dir / "out/target.db";
  const std::string c12 = TargetId(target, "hcp", "crm", "C12");
  const std::string e5 = TargetId(target, "hcp", "erp", "E5");
  ASSERT_FALSE(c12.empty());
  ASSERT_NE(e5, c12);

  const std::string move =
      "UPDATE people SET nid = 'N12', upd = '2026-02-01 10:00:00' WHERE id = 'E5';";
  ExecSqlite(dir / "erp.db", move);
  ExecSqlite(dir / "crm.db", kCrmChange);
  auto delta = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  EXPECT_EQ(delta.json["status"], "completed");
  EXPECT_EQ(LatestFate(dir.path(), "erp", "E5"), "merged|crm|C12");
  EXPECT_EQ(TargetId(target, "hcp", "erp", "E5"), c12);
  EXPECT_EQ(Query(target, "SELECT count(*) FROM hcp WHERE sluice_id = " + e5),
            std::vector<std::string>{"0"});  // its own row is retired
  EXPECT_EQ(Query(target, "SELECT count(*) FROM hcp"),
            std::vector<std::string>{std::to_string(kPeople + 10 - 1)});
  const std::string state = " --state-dir " + dir.path() + "/state";
  auto trace = Shell(BinDir() + "/sluice trace hcp erp:E5" + state);
  ASSERT_EQ(trace.exit_code, 0) << trace.err;
  EXPECT_NE(trace.out.find("MATCH DECISION with crm:C12: merge by exact:national_id"),
            std::string::npos)
      << trace.out;
  EXPECT_EQ(TargetDigest(target), FreshDigest(move));
  const std::string moved = TargetDigest(target);

  // Back to its own national id: it leaves C12's cluster.
  const std::string back =
      "UPDATE people SET nid = 'X5', upd = '2026-02-02 10:00:00' WHERE id = 'E5';";
  ExecSqlite(dir / "erp.db", back);
  auto split = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(split.exit_code, 0) << split.out << split.err;
  EXPECT_EQ(LatestFate(dir.path(), "erp", "E5"), "loaded||");
  const std::string own = TargetId(target, "hcp", "erp", "E5");
  EXPECT_FALSE(own.empty());
  EXPECT_NE(own, c12);
  EXPECT_EQ(Query(target, "SELECT count(*) FROM hcp"),
            std::vector<std::string>{std::to_string(kPeople + 10)});
  EXPECT_EQ(TargetDigest(target), FreshDigest(back));

  // Rolling the last delta back puts E5 back into C12's row.
  auto runs = Query(dir / "state/audit.db",
                    "SELECT run_id FROM runs ORDER BY started_ms DESC, rowid DESC LIMIT 1");
  ASSERT_FALSE(runs.empty());
  auto rollback = Shell(BinDir() + "/sluice rollback " + runs[0] + state);
  ASSERT_EQ(rollback.exit_code, 0) << rollback.out << rollback.err;
  EXPECT_EQ(TargetId(target, "hcp", "erp", "E5"), c12);
  EXPECT_EQ(TargetDigest(target), moved);
}

// A merge a steward confirmed is never undone by a delta: C7 and E50 (same
// name and city, different national ids) are held for review; the steward
// says they are one person, and the next delta run merges E50 into C7's
// row. Then E50 moves town at erp: no rule would pair them any more, yet the
// delta run that reads the change keeps the merge, by the steward's link.
TEST(DeltaDedup, AMergeAStewardConfirmedSurvivesADelta) {
  ScratchDir dir("delta-dedup-steward");
  WritePlan(dir.path(), /*review_rule=*/true);
  CreateSources(dir.path());
  ExecSqlite(dir / "erp.db",
             "INSERT INTO people VALUES('E50','Z50','Crm 7','City 7','2026-01-01 00:00:50');");
  const std::string state = " --state-dir " + dir.path() + "/state";
  auto first = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(Sum(first.json, "review"), 2u) << first.out;
  EXPECT_EQ(LatestFate(dir.path(), "erp", "E50"), "review||");

  // The steward: the pair is one person.
  const std::string csv = dir.path() + "/held.csv";
  auto exp = Shell(BinDir() + "/sluice review export " + first.json["run_id"].get<std::string>() +
                   " --out " + csv + state);
  ASSERT_EQ(exp.exit_code, 0) << exp.out << exp.err;
  std::string edited;
  int pairs = 0;
  std::string text = ReadFile(csv);
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    at = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("pair,", 0) == 0) {
      ASSERT_EQ(line.substr(line.size() - 5), ",,,,,") << line;
      line.resize(line.size() - 5);
      line += ",match,,,dora,same person";
      ++pairs;
    }
    edited += line + "\r\n";
  }
  ASSERT_EQ(pairs, 1) << text;
  WriteFile(csv, edited);
  auto imp = Shell(BinDir() + "/sluice review import " + csv + state);
  ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;

  auto confirmed = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(confirmed.exit_code, 0) << confirmed.out << confirmed.err;
  EXPECT_EQ(Sum(confirmed.json, "review"), 0u) << confirmed.out;
  EXPECT_EQ(LatestFate(dir.path(), "erp", "E50"), "merged|crm|C7");
  const std::string target = dir / "out/target.db";
  const std::string c7 = TargetId(target, "hcp", "crm", "C7");
  ASSERT_FALSE(c7.empty());
  EXPECT_EQ(TargetId(target, "hcp", "erp", "E50"), c7);
  const auto rows = Query(target, "SELECT count(*) FROM hcp");

  // E50 moves town: only the steward's link holds the pair together now.
  ExecSqlite(dir / "erp.db",
             "UPDATE people SET city = 'Elsewhere', upd = '2026-02-01 10:00:00' "
             "WHERE id = 'E50';");
  auto delta = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  EXPECT_EQ(delta.json["status"], "completed");
  EXPECT_EQ(Sum(delta.json, "review"), 0u) << delta.out;
  EXPECT_EQ(LatestFate(dir.path(), "erp", "E50"), "merged|crm|C7");
  EXPECT_EQ(TargetId(target, "hcp", "erp", "E50"), c7);
  EXPECT_EQ(Query(target, "SELECT count(*) FROM hcp"), rows);
  EXPECT_EQ(Query(target, "SELECT city FROM hcp WHERE sluice_id = " + c7),
            std::vector<std::string>{"City 7"});  // crm first, and C7 has one
  auto trace = Shell(BinDir() + "/sluice trace hcp erp:E50" + state);
  ASSERT_EQ(trace.exit_code, 0) << trace.err;
  EXPECT_NE(trace.out.find("merge by steward"), std::string::npos) << trace.out;
}

// C10 survived a merge with E40; deleted at crm, it hands the survivor role
// to E40, whose own values become the golden record in a row of its own,
// and C10's row is removed (deletions: propagate).
TEST(DeltaDedup, ADeletedSurvivorHandsItsRoleToTheNextMember) {
  ScratchDir dir("delta-dedup-handover");
  WritePlan(dir.path());
  CreateSources(dir.path());
  const std::string twin =
      "INSERT INTO people VALUES('E40','N10','Erp twin of 10','Erp city','2026-01-01 00:00:40');";
  ExecSqlite(dir / "erp.db", twin);
  auto first = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(LatestFate(dir.path(), "erp", "E40"), "merged|crm|C10");
  const std::string target = dir / "out/target.db";
  const std::string c10 = TargetId(target, "hcp", "crm", "C10");

  const std::string gone = "DELETE FROM people WHERE id = 'C10';";
  ExecSqlite(dir / "crm.db", gone);
  auto delta = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  EXPECT_EQ(Sum(delta.json, "deleted_at_source"), 1u) << delta.out;
  EXPECT_EQ(LatestFate(dir.path(), "crm", "C10"), "deleted_at_source||");
  EXPECT_EQ(LatestFate(dir.path(), "erp", "E40"), "loaded||");
  const std::string e40 = TargetId(target, "hcp", "erp", "E40");
  EXPECT_NE(e40, c10);
  EXPECT_TRUE(TargetId(target, "hcp", "crm", "C10").empty());
  EXPECT_EQ(Query(target, "SELECT name || '|' || city FROM hcp WHERE sluice_id = " + e40),
            std::vector<std::string>{"Erp twin of 10|Erp city"});
  EXPECT_EQ(Query(target, "SELECT count(*) FROM hcp WHERE sluice_id = " + c10),
            std::vector<std::string>{"0"});

  ScratchDir fresh("delta-dedup-handover-fresh");
  WritePlan(fresh.path());
  CreateSources(fresh.path());
  ExecSqlite(fresh / "erp.db", twin);
  ExecSqlite(fresh / "crm.db", gone);
  auto full = RunPlan(fresh.path(), "--quiet");
  ASSERT_EQ(full.exit_code, 0) << full.out << full.err;
  EXPECT_EQ(TargetDigest(target), TargetDigest(fresh / "out/target.db"));

  // Rolling the delta back puts C10's row and its golden record back.
  auto runs = Query(dir / "state/audit.db",
                    "SELECT run_id FROM runs ORDER BY started_ms DESC, rowid DESC LIMIT 1");
  ASSERT_FALSE(runs.empty());
  const std::string before_digest = TargetDigest(target);
  auto rollback =
      Shell(BinDir() + "/sluice rollback " + runs[0] + " --state-dir " + dir.path() + "/state");
  ASSERT_EQ(rollback.exit_code, 0) << rollback.out << rollback.err;
  EXPECT_EQ(TargetId(target, "hcp", "crm", "C10"), c10);
  EXPECT_EQ(Query(target, "SELECT count(*) FROM hcp"),
            std::vector<std::string>{std::to_string(kPeople + 10)});
  EXPECT_NE(TargetDigest(target), before_digest);
}

// C41 is C10 again (the same national id) and merges into C10's row. Deleted
// at crm, C41 leaves: its entry goes, C10's row stays with C10's values, as a
// full run on the changed sources has it; rollback puts the entry back.
TEST(DeltaDedup, ADeletedMemberLeavesItsSurvivorsRow) {
  ScratchDir dir("delta-dedup-member-gone");
  WritePlan(dir.path());
  CreateSources(dir.path());
  ExecSqlite(dir / "crm.db",
             "INSERT INTO people VALUES('C41','N10','Crm 10 again','City 41',"
             "'2026-01-01 00:00:41');");
  auto first = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  ASSERT_EQ(LatestFate(dir.path(), "crm", "C41"), "merged|crm|C10");
  const std::string target = dir / "out/target.db";
  const std::string c10 = TargetId(target, "hcp", "crm", "C10");
  ASSERT_EQ(TargetId(target, "hcp", "crm", "C41"), c10);

  const std::string gone = "DELETE FROM people WHERE id = 'C41';";
  ExecSqlite(dir / "crm.db", gone);
  auto delta = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  EXPECT_EQ(Sum(delta.json, "deleted_at_source"), 1u) << delta.out;
  EXPECT_EQ(LatestFate(dir.path(), "crm", "C41"), "deleted_at_source||");
  EXPECT_TRUE(TargetId(target, "hcp", "crm", "C41").empty());
  EXPECT_EQ(TargetId(target, "hcp", "crm", "C10"), c10);
  EXPECT_EQ(Query(target, "SELECT count(*) FROM sluice_xref WHERE target_id = " + c10),
            std::vector<std::string>{"1"});

  ScratchDir fresh("delta-dedup-member-gone-fresh");
  WritePlan(fresh.path());
  CreateSources(fresh.path());
  auto full = RunPlan(fresh.path(), "--quiet");
  ASSERT_EQ(full.exit_code, 0) << full.out << full.err;
  EXPECT_EQ(TargetDigest(target), TargetDigest(fresh / "out/target.db"));

  auto rollback = Shell(BinDir() + "/sluice rollback " +
                        Query(Audit(dir.path()),
                              "SELECT run_id FROM runs ORDER BY started_ms "
                              "DESC, rowid DESC LIMIT 1")[0] +
                        " --state-dir " + dir.path() + "/state");
  ASSERT_EQ(rollback.exit_code, 0) << rollback.out << rollback.err;
  EXPECT_EQ(TargetId(target, "hcp", "crm", "C41"), c10);
}

}  // namespace
}  // namespace sluice::testing
