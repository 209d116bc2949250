// Issue 18 item 3, end to end with the real executables: a delta run of an
// entity deduplicated by a fuzzy rule reads its delta and, by key, only the
// residents of the blocks the delta touches (counted apart in the summary),
// and still merges a new duplicate of a loaded person into that person's
// row, as a full run would. A rolled-back run's population stops counting.
// (docs/incremental_dedup.md)
#include <gtest/gtest.h>

#include <string>

#include "tests/delta_dedup_testing.h"
#include "tests/harness.h"

namespace sluice::testing {
namespace {

constexpr int kCities = 30;
constexpr int kPerCity = 4;
constexpr int kPeople = kCities * kPerCity;
const char* const kSurnames[kPerCity] = {"Anderson", "Brown", "Clark", "Davis"};
const char* const kFirsts[5] = {"John", "Mary", "Peter", "Susan", "Tom"};

// Blocked on the city; merged when the names are near and the city equal.
void WritePlan(const std::string& dir) {
  WriteFile(dir + "/plan.yaml", DeltaDedupPlanHead("incremental_dedup", "") + R"yaml(dedup:
  hcp:
    key: national_id
    blocking:
      - {name: city, on: [city]}
    rules:
      - {name: near_name, when: "jw(name) >= 0.95 and city exact", decide: merge}
    survivorship:
      source_priority: [crm, erp]
target: {kind: sqlite, path: out/target.db}
waves:
  - {name: people, entities: [hcp]}
)yaml");
}

std::string CityOf(int i) { return "City " + std::to_string(i / kPerCity); }
std::string NameOf(int i) {
  return std::string(kSurnames[i % kPerCity]) + " " + kFirsts[(i / kPerCity) % 5];
}

// crm: kPeople people, kPerCity a city, names far apart within a city; erp:
// 10 people in a town of their own.
void CreateSources(const std::string& dir) {
  std::string crm =
      "CREATE TABLE people(id TEXT PRIMARY KEY, nid TEXT, name TEXT, city TEXT, upd TEXT);";
  for (int i = 0; i < kPeople; ++i) {
    crm += "INSERT INTO people VALUES('C" + std::to_string(i) + "','N" + std::to_string(i) + "','" +
           NameOf(i) + "','" + CityOf(i) + "','2026-01-01 00:00:00');";
  }
  std::string erp =
      "CREATE TABLE people(id TEXT PRIMARY KEY, nid TEXT, name TEXT, city TEXT, upd TEXT);";
  for (int i = 0; i < 10; ++i) {
    erp += "INSERT INTO people VALUES('E" + std::to_string(i) + "','X" + std::to_string(i) +
           "','Erp " + std::to_string(i) + "','Town','2026-01-01 00:00:00');";
  }
  ExecSqlite(dir + "/crm.db", crm);
  ExecSqlite(dir + "/erp.db", erp);
}

// The summary row of `source`.
nlohmann::json RowOf(const CommandResult& r, const std::string& source) {
  for (const auto& row : r.json["entities"]) {
    if (row["source"] == source) return row;
  }
  return {};
}

std::string LatestRun(const std::string& dir) {
  auto runs =
      Query(Audit(dir), "SELECT run_id FROM runs ORDER BY started_ms DESC, rowid DESC LIMIT 1");
  return runs.empty() ? "" : runs[0];
}

// The target of one full run on sources changed by `crm_sql` and `erp_sql`.
std::string FullRunDigest(const std::string& crm_sql, const std::string& erp_sql) {
  ScratchDir fresh("incremental-dedup-fresh");
  WritePlan(fresh.path());
  CreateSources(fresh.path());
  if (!crm_sql.empty()) ExecSqlite(fresh / "crm.db", crm_sql);
  if (!erp_sql.empty()) ExecSqlite(fresh / "erp.db", erp_sql);
  auto r = RunPlan(fresh.path(), "--quiet");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return TargetDigest(fresh / "out/target.db");
}

// E20 is C8 with a misspelt name (Jaro-Winkler 0.987 after folding) and no national id: only the
// fuzzy rule pairs them, in the block of C9's city.
const char kTwin[] =
    "INSERT INTO people VALUES('E20',NULL,'Anderson Petter','City 2','2026-02-01 10:00:00');";

TEST(IncrementalDedup, ADeltaReadsOnlyItsBlocksResidentsAndMergesAFuzzyDuplicate) {
  ASSERT_EQ(NameOf(8), "Anderson Peter");
  ScratchDir dir("incremental-dedup");
  WritePlan(dir.path());
  CreateSources(dir.path());
  auto first = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(Sum(first.json, "extracted"), static_cast<uint64_t>(kPeople + 10));
  const std::string target = dir / "out/target.db";
  const std::string c8 = TargetId(target, "hcp", "crm", "C8");
  ASSERT_FALSE(c8.empty());

  ExecSqlite(dir / "erp.db", kTwin);
  auto delta = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  // Read: the new record, and the kPerCity people of City 2 by key.
  const nlohmann::json crm = RowOf(delta, "crm"), erp = RowOf(delta, "erp");
  EXPECT_EQ(crm["extracted"].get<uint64_t>(), static_cast<uint64_t>(kPerCity)) << crm.dump();
  EXPECT_EQ(crm["residents"].get<uint64_t>(), static_cast<uint64_t>(kPerCity)) << crm.dump();
  EXPECT_EQ(erp["extracted"].get<uint64_t>(), 1u) << erp.dump();
  EXPECT_EQ(erp["residents"].get<uint64_t>(), 0u) << erp.dump();
  EXPECT_EQ(Sum(delta.json, "extracted"), static_cast<uint64_t>(kPerCity + 1));
  // Merged into C8's row by the fuzzy rule; nobody else's row changed.
  EXPECT_EQ(Sum(delta.json, "merged"), 1u) << delta.out;
  EXPECT_EQ(LatestFate(dir.path(), "erp", "E20"), "merged|crm|C8");
  EXPECT_EQ(TargetId(target, "hcp", "erp", "E20"), c8);
  EXPECT_EQ(Query(target, "SELECT count(*) FROM hcp"),
            std::vector<std::string>{std::to_string(kPeople + 10)});
  auto trace = Shell(BinDir() + "/sluice trace hcp erp:E20 --state-dir " + dir.path() + "/state");
  ASSERT_EQ(trace.exit_code, 0) << trace.err;
  EXPECT_NE(trace.out.find("MATCH DECISION with crm:C8: merge by near_name"), std::string::npos)
      << trace.out;
  // The same target as one full run on the changed sources.
  EXPECT_EQ(TargetDigest(target), FullRunDigest("", kTwin));
}

// C5 moves to City 7 in a delta run, which is rolled back; C5's upd is then
// put back below the mark (its change is not read again). A later delta
// adds a record to City 7: the residents of City 7 are the four people the
// first run left there, not C5, whose move the rolled-back run wrote.
TEST(IncrementalDedup, ARolledBackRunsPopulationNoLongerCounts) {
  ScratchDir dir("incremental-dedup-rollback");
  WritePlan(dir.path());
  CreateSources(dir.path());
  auto first = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;

  ExecSqlite(dir / "crm.db",
             "UPDATE people SET city = 'City 7', upd = '2026-02-01 09:00:00' WHERE id = 'C5';");
  auto moved = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(moved.exit_code, 0) << moved.out << moved.err;
  // C5 and the four people of City 7 (C5's old cluster is itself).
  EXPECT_EQ(RowOf(moved, "crm")["residents"].get<uint64_t>(), static_cast<uint64_t>(kPerCity));
  auto rollback = Shell(BinDir() + "/sluice rollback " + LatestRun(dir.path()) + " --state-dir " +
                        dir.path() + "/state");
  ASSERT_EQ(rollback.exit_code, 0) << rollback.out << rollback.err;
  ExecSqlite(dir / "crm.db", "UPDATE people SET upd = '2026-01-01 00:00:00' WHERE id = 'C5';");

  ExecSqlite(dir / "erp.db",
             "INSERT INTO people VALUES('E30','Y30','Erp 30','City 7','2026-02-02 10:00:00');");
  auto later = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(later.exit_code, 0) << later.out << later.err;
  const nlohmann::json crm = RowOf(later, "crm");
  EXPECT_EQ(crm["residents"].get<uint64_t>(), static_cast<uint64_t>(kPerCity)) << crm.dump();
  EXPECT_EQ(crm["extracted"].get<uint64_t>(), static_cast<uint64_t>(kPerCity)) << crm.dump();
  // C5 was not read: its latest fate is the first run's.
  const std::string run = LatestRun(dir.path());
  EXPECT_EQ(Query(Audit(dir.path()), "SELECT count(*) FROM all_fates WHERE run_id = '" + run +
                                         "' AND source = 'crm' AND key = 'C5'"),
            std::vector<std::string>{"0"});
  EXPECT_EQ(Query(Audit(dir.path()), "SELECT count(*) FROM all_fates WHERE run_id = '" + run +
                                         "' AND source = 'crm' AND key = 'C28'"),
            std::vector<std::string>{"1"});  // one of City 7's people
}

}  // namespace
}  // namespace sluice::testing
