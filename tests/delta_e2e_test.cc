// Issue 18, end to end with the real executables: a second run of a plan
// whose source declares `incremental` extracts only the rows changed since
// the first (above its high-water mark), finds the rows deleted at the
// source (reported or removed, as the plan says), and leaves the target a
// fresh full run on the changed source would leave. A delta run killed or
// halted midway loses nothing: the mark moves only once its wave reconciled.
// SQLite and PostgreSQL sources.
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "common/audit/sqlite_util.h"
#include "tests/harness.h"
#include "tests/pg_database.h"

namespace sluice::testing {
namespace {

constexpr int kRows = 600;

// The plan over `source` (a `sources:` entry, indented), one entity `hcp`.
void WritePlan(const std::string& dir, const std::string& source) {
  WriteFile(dir + "/plan.yaml", R"yaml(name: delta
batch_size: 50
model:
  entities:
    hcp:
      fields:
        name: {type: string, required: true}
        city: {type: string}
sources:
)yaml" + source + R"yaml(
mappings:
  - entity: hcp
    source: legacy
    fields:
      name: name
      city: city
target: {kind: sqlite, path: out/target.db}
waves:
  - {name: people, entities: [hcp]}
)yaml");
}

std::string SqliteSource(const std::string& deletions) {
  return "  legacy:\n    kind: sqlite\n    path: legacy.db\n    table: people\n    key: id\n"
         "    incremental: {column: upd}\n    deletions: " +
         deletions + "\n";
}

// The statements that create the source table with kRows rows, and those
// that change it: 12 rows updated (their `upd` raised), 6 inserted and 4
// deleted (1% of the rows each, about).
std::string CreateSql() {
  std::string sql = "CREATE TABLE people(id TEXT PRIMARY KEY, name TEXT, city TEXT, upd TEXT);";
  for (int i = 0; i < kRows; ++i) {
    char row[160];
    std::snprintf(
        row, sizeof row,
        "INSERT INTO people VALUES('P%04d','Name %d','City %d','2026-01-01 00:%02d:%02d');", i, i,
        i % 17, (i / 60) % 60, i % 60);
    sql += row;
  }
  return sql;
}
const char kChangeSql[] =
    "UPDATE people SET name = name || ' (moved)', city = 'Lyon', upd = '2026-02-01 10:00:00'"
    " WHERE id IN ('P0003','P0050','P0100','P0150','P0200','P0250','P0300','P0350','P0400',"
    "'P0450','P0500','P0599');"
    "INSERT INTO people VALUES('N001','New 1','Nice','2026-02-01 11:00:00'),"
    "('N002','New 2','Nice','2026-02-01 11:00:01'),('N003','New 3','Nice','2026-02-01 11:00:02'),"
    "('N004','New 4','Nice','2026-02-01 11:00:03'),('N005','New 5','Nice','2026-02-01 11:00:04'),"
    "('N006','New 6','Nice','2026-02-01 11:00:05');"
    "DELETE FROM people WHERE id IN ('P0010','P0020','P0030','P0040');";

// Runs every statement of `sql` on `db` with the sqlite3 shell.
void ExecSqlite(const std::string& db, const std::string& sql) {
  WriteFile(db + ".sql", sql);
  auto r = Shell("sqlite3 -bail " + db + " < " + db + ".sql");
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

std::string Sluice() { return BinDir() + "/sluice"; }

std::string LastRun(const std::string& dir) {
  auto rows = Query(dir + "/state/audit.db",
                    "SELECT run_id FROM runs ORDER BY started_ms DESC, rowid DESC LIMIT 1");
  return rows.empty() ? "" : rows[0];
}

// The mark of the latest raise (marks only rise).
std::string Mark(const std::string& dir) {
  auto rows = Query(dir + "/state/audit.db", "SELECT mark FROM delta_marks ORDER BY rowid DESC");
  return rows.empty() ? "" : rows[0];
}

void ExpectBalanced(const CommandResult& r) {
  ASSERT_TRUE(r.json.is_object()) << r.out << r.err;
  EXPECT_EQ(r.json["status"], "completed") << r.out << r.err;
  for (const auto& e : r.json["entities"]) {
    EXPECT_EQ(e["extracted"].get<uint64_t>(),
              e["loaded"].get<uint64_t>() + e["merged"].get<uint64_t>() +
                  e["rejected"].get<uint64_t>() + e["review"].get<uint64_t>())
        << e.dump();
    EXPECT_TRUE(e["reconciled"].get<bool>()) << e.dump();
  }
}

// A plan directory with its SQLite source, run once in full.
struct LoadedOnce {
  explicit LoadedOnce(const std::string& name, const std::string& deletions = "propagate")
      : dir(name) {
    WritePlan(dir.path(), SqliteSource(deletions));
    ExecSqlite(dir / "legacy.db", CreateSql());
    first = RunPlan(dir.path(), "--quiet");
  }
  ScratchDir dir;
  CommandResult first;
};

// What a full run on the changed source leaves in a fresh target.
std::string FreshDigest() {
  ScratchDir fresh("delta-fresh");
  WritePlan(fresh.path(), SqliteSource("propagate"));
  ExecSqlite(fresh / "legacy.db", CreateSql());
  ExecSqlite(fresh / "legacy.db", kChangeSql);
  auto r = RunPlan(fresh.path(), "--quiet");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return TargetDigest(fresh / "out/target.db");
}

TEST(DeltaRun, OnlyTheChangedRowsAreExtractedAndDeletionsPropagate) {
  LoadedOnce base("delta-sqlite");
  ASSERT_EQ(base.first.exit_code, 0) << base.first.out << base.first.err;
  EXPECT_EQ(Sum(base.first.json, "extracted"), static_cast<uint64_t>(kRows));
  EXPECT_EQ(Mark(base.dir.path()), "2026-01-01 00:09:59");
  ExecSqlite(base.dir / "legacy.db", kChangeSql);

  auto delta = RunPlan(base.dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  ExpectBalanced(delta);
  const auto& row = delta.json["entities"][0];
  EXPECT_EQ(row["extracted"].get<uint64_t>(), 18u) << row.dump();  // 12 updated + 6 new
  EXPECT_EQ(row["inserted"].get<uint64_t>(), 6u) << row.dump();
  EXPECT_EQ(row["updated"].get<uint64_t>(), 12u) << row.dump();
  EXPECT_EQ(row["mark"], "2026-01-01 00:09:59") << row.dump();
  EXPECT_EQ(row["deleted_at_source"].get<uint64_t>(), 4u) << row.dump();
  EXPECT_EQ(Mark(base.dir.path()), "2026-02-01 11:00:05");
  // The target is what a full run on the changed source gives.
  EXPECT_EQ(TargetDigest(base.dir / "out/target.db"), FreshDigest());
  EXPECT_EQ(Query(base.dir / "out/target.db", "SELECT count(*) FROM hcp"),
            std::vector<std::string>{std::to_string(kRows + 6 - 4)});

  // The deletions are in the error log and the trace.
  const std::string run = LastRun(base.dir.path());
  auto errors = Shell(Sluice() + " errors " + run + " --state-dir " + base.dir.path() + "/state");
  EXPECT_EQ(errors.exit_code, 0) << errors.err;
  EXPECT_NE(errors.out.find("legacy:P0010"), std::string::npos) << errors.out;
  EXPECT_NE(errors.out.find("deleted"), std::string::npos) << errors.out;
  auto trace =
      Shell(Sluice() + " trace hcp legacy:P0020 --state-dir " + base.dir.path() + "/state");
  EXPECT_EQ(trace.exit_code, 0) << trace.err;
  EXPECT_NE(trace.out.find("DELETED AT SOURCE"), std::string::npos) << trace.out;

  // Nothing changed since: nothing is extracted, nothing more is deleted.
  auto again = RunPlan(base.dir.path(), "--quiet");
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  ExpectBalanced(again);
  EXPECT_EQ(Sum(again.json, "extracted"), 0u) << again.out;
  EXPECT_EQ(Sum(again.json, "deleted_at_source"), 0u) << again.out;
  // --full reads everything again and changes nothing.
  auto full = RunPlan(base.dir.path(), "--quiet --full");
  ASSERT_EQ(full.exit_code, 0) << full.out << full.err;
  ExpectBalanced(full);
  EXPECT_EQ(Sum(full.json, "extracted"), static_cast<uint64_t>(kRows + 6 - 4));
  EXPECT_EQ(Sum(full.json, "unchanged"), static_cast<uint64_t>(kRows + 6 - 4));
}

// Rolling a delta run back restores the target of the first run and its
// mark: the next delta run extracts the same changes again.
TEST(DeltaRun, RollingADeltaRunBackRestoresItsMark) {
  LoadedOnce base("delta-rollback");
  ASSERT_EQ(base.first.exit_code, 0) << base.first.out << base.first.err;
  const std::string before = TargetDigest(base.dir / "out/target.db");
  ExecSqlite(base.dir / "legacy.db", kChangeSql);
  auto delta = RunPlan(base.dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  const std::string run = LastRun(base.dir.path());
  auto rollback =
      Shell(Sluice() + " rollback " + run + " --state-dir " + base.dir.path() + "/state");
  ASSERT_EQ(rollback.exit_code, 0) << rollback.out << rollback.err;
  EXPECT_EQ(TargetDigest(base.dir / "out/target.db"), before);
  EXPECT_EQ(Query(base.dir / "state/audit.db", "SELECT count(*) FROM delta_marks"),
            std::vector<std::string>{"2"});  // both raises kept; the rolled-back one unread
  auto again = RunPlan(base.dir.path(), "--quiet");
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  ExpectBalanced(again);
  EXPECT_EQ(Sum(again.json, "extracted"), 18u) << again.out;
  EXPECT_EQ(Sum(again.json, "deleted_at_source"), 4u) << again.out;
  EXPECT_EQ(TargetDigest(base.dir / "out/target.db"), FreshDigest());
}

TEST(DeltaRun, ReportedDeletionsKeepTheirRows) {
  LoadedOnce base("delta-report", "report");
  ASSERT_EQ(base.first.exit_code, 0) << base.first.out << base.first.err;
  ExecSqlite(base.dir / "legacy.db", kChangeSql);
  auto delta = RunPlan(base.dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  ExpectBalanced(delta);
  EXPECT_EQ(Sum(delta.json, "deleted_at_source"), 4u) << delta.out;
  EXPECT_EQ(Query(base.dir / "out/target.db", "SELECT count(*) FROM hcp"),
            std::vector<std::string>{std::to_string(kRows + 6)});
  EXPECT_EQ(TargetId(base.dir / "out/target.db", "hcp", "legacy", "P0010").empty(), false);
}

// The plan with `deletions: {mode: propagate, soft_delete: deleted_at}`, a
// timestamp `deleted_at` in the model and, when given, `target` in place of
// the SQLite one.
void WriteSoftDeletePlan(const std::string& dir, const std::string& target = "") {
  WritePlan(dir,
            "  legacy:\n    kind: sqlite\n    path: legacy.db\n    table: people\n"
            "    key: id\n    incremental: {column: upd}\n"
            "    deletions: {mode: propagate, soft_delete: deleted_at}\n");
  std::string plan = ReadFile(dir + "/plan.yaml");
  const std::string city = "        city: {type: string}\n";
  plan.replace(plan.find(city), city.size(), city + "        deleted_at: {type: timestamp}\n");
  const std::string sqlite = "target: {kind: sqlite, path: out/target.db}";
  if (!target.empty()) plan.replace(plan.find(sqlite), sqlite.size(), "target: " + target);
  WriteFile(dir + "/plan.yaml", plan);
}

// deletions: {mode: propagate, soft_delete: deleted_at}: the rows of the
// keys deleted at the source stay, marked; a rollback unmarks them; a key
// that comes back at its source is loaded again, unmarked.
TEST(DeltaRun, SoftDeletedRowsAreMarkedAndComeBack) {
  ScratchDir dir("delta-soft");
  WriteSoftDeletePlan(dir.path());
  ExecSqlite(dir / "legacy.db", CreateSql());
  auto first = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const std::string target = dir / "out/target.db";
  const std::string before = TargetDigest(target);
  ExecSqlite(dir / "legacy.db", kChangeSql);

  auto delta = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  ExpectBalanced(delta);
  EXPECT_EQ(Sum(delta.json, "deleted_at_source"), 4u) << delta.out;
  // Every row stays; the four deleted keys' rows are marked, no other.
  EXPECT_EQ(Query(target, "SELECT count(*) FROM hcp"),
            std::vector<std::string>{std::to_string(kRows + 6)});
  const std::string marked =
      "SELECT x.key FROM hcp h JOIN sluice_xref x ON x.entity = 'hcp' AND x.target_id = "
      "h.sluice_id WHERE h.deleted_at IS NOT NULL ORDER BY x.key";
  EXPECT_EQ(Query(target, marked), (std::vector<std::string>{"P0010", "P0020", "P0030", "P0040"}));
  const std::string run = LastRun(dir.path());
  auto trace = Shell(Sluice() + " trace hcp legacy:P0030 --state-dir " + dir.path() + "/state");
  EXPECT_NE(trace.out.find("marked deleted"), std::string::npos) << trace.out;

  // Nothing new: nothing reported again, nothing marked again.
  auto again = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  ExpectBalanced(again);
  EXPECT_EQ(Sum(again.json, "deleted_at_source"), 0u) << again.out;

  // Rolling the delta back unmarks the rows (and undoes its changes).
  auto rollback = Shell(Sluice() + " rollback " + run + " --state-dir " + dir.path() + "/state");
  ASSERT_EQ(rollback.exit_code, 0) << rollback.out << rollback.err;
  EXPECT_EQ(TargetDigest(target), before);
  EXPECT_TRUE(Query(target, marked).empty());

  // Marked again by the next run; then P0020 comes back at the source.
  auto redo = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(redo.exit_code, 0) << redo.out << redo.err;
  EXPECT_EQ(Query(target, marked).size(), 4u);
  ExecSqlite(dir / "legacy.db",
             "INSERT INTO people VALUES('P0020','Name 20','City 3','2026-03-01 00:00:00');");
  auto back = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(back.exit_code, 0) << back.out << back.err;
  ExpectBalanced(back);
  EXPECT_EQ(Sum(back.json, "updated"), 1u) << back.out;
  EXPECT_EQ(Query(target, marked), (std::vector<std::string>{"P0010", "P0030", "P0040"}));
}

// kill -9 of the extractor, or of the loader, in the middle of the delta
// run: the worker is replaced, and the target is the one a clean run gives.
class KilledInDelta : public ::testing::TestWithParam<const char*> {};

TEST_P(KilledInDelta, TheRunCompletesWithTheSameTarget) {
  LoadedOnce base(std::string("delta-kill-") + GetParam());
  ASSERT_EQ(base.first.exit_code, 0) << base.first.out << base.first.err;
  // More changes than a batch, so that the worker dies between two.
  ExecSqlite(base.dir / "legacy.db", std::string(kChangeSql) +
                                         "UPDATE people SET city = 'Paris', upd = "
                                         "'2026-02-02 00:00:00' WHERE id < 'P0120';");
  auto delta = RunPlan(base.dir.path(),
                       std::string("--quiet --test-fault ") + GetParam() + ":sigkill_after=1");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  ExpectBalanced(delta);
  EXPECT_GE(delta.json["restarts"].get<int>(), 1) << delta.out;
  EXPECT_EQ(Mark(base.dir.path()), "2026-02-02 00:00:00");
  ScratchDir fresh("delta-kill-fresh");
  WritePlan(fresh.path(), SqliteSource("propagate"));
  ExecSqlite(fresh / "legacy.db", CreateSql());
  ExecSqlite(fresh / "legacy.db", std::string(kChangeSql) +
                                      "UPDATE people SET city = 'Paris', upd = "
                                      "'2026-02-02 00:00:00' WHERE id < 'P0120';");
  ASSERT_EQ(RunPlan(fresh.path(), "--quiet").exit_code, 0);
  EXPECT_EQ(TargetDigest(base.dir / "out/target.db"), TargetDigest(fresh / "out/target.db"));
}

INSTANTIATE_TEST_SUITE_P(DeltaRun, KilledInDelta, ::testing::Values("extractor", "loader"));

// The coordinator dies as the delta wave is about to reconcile: the mark
// has not moved; `sluice resume` continues the run and moves it.
TEST(DeltaRun, ACoordinatorKilledMidDeltaLosesNothingOnResume) {
  LoadedOnce base("delta-resume");
  ASSERT_EQ(base.first.exit_code, 0) << base.first.out << base.first.err;
  ExecSqlite(base.dir / "legacy.db", kChangeSql);
  auto killed = RunPlan(base.dir.path(), "--quiet --test-fault coordinator:sigkill_at=reconcile");
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.out << killed.err;
  EXPECT_EQ(Mark(base.dir.path()), "2026-01-01 00:09:59");
  const std::string run = LastRun(base.dir.path());
  auto resumed = Shell(Sluice() + " resume " + run + " --quiet --json --state-dir " +
                       base.dir.path() + "/state");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  ExpectBalanced(resumed);
  EXPECT_EQ(Mark(base.dir.path()), "2026-02-01 11:00:05");
  EXPECT_EQ(TargetDigest(base.dir / "out/target.db"), FreshDigest());
}

// A delta run halted (a record lost on the way: conservation breaks) moves
// no mark; `sluice resume` extracts the same rows again and loads them.
TEST(DeltaRun, AHaltedDeltaRunLosesNothingOnResume) {
  LoadedOnce base("delta-halt");
  ASSERT_EQ(base.first.exit_code, 0) << base.first.out << base.first.err;
  ExecSqlite(base.dir / "legacy.db", kChangeSql);
  auto halted = RunPlan(base.dir.path(), "--quiet --test-fault transformer:drop_key=N003");
  EXPECT_NE(halted.exit_code, 0) << halted.out;
  EXPECT_EQ(halted.json["status"], "halted") << halted.out;
  EXPECT_EQ(Mark(base.dir.path()), "2026-01-01 00:09:59");
  const std::string run = LastRun(base.dir.path());
  auto resumed = Shell(Sluice() + " resume " + run + " --quiet --json --state-dir " +
                       base.dir.path() + "/state");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  ExpectBalanced(resumed);
  EXPECT_EQ(Sum(resumed.json, "extracted"), 18u) << resumed.out;
  EXPECT_EQ(Mark(base.dir.path()), "2026-02-01 11:00:05");
  EXPECT_EQ(TargetDigest(base.dir / "out/target.db"), FreshDigest());
}

// The same delta on a PostgreSQL source: the WHERE runs in the server.
TEST(DeltaRun, APostgresSourceIsReadAboveItsMarkInTheServer) {
  TestDatabase db("sluice_delta");
  ASSERT_EQ(db.error, "");
  const std::string& dsn = db.dsn;
  // upd a real timestamp column: compared as timestamps by the server.
  std::string create = CreateSql();
  create.replace(create.find("upd TEXT"), 8, "upd timestamp");
  ASSERT_EQ(PsqlOut(dsn, create), "");
  ScratchDir dir("delta-pg");
  WritePlan(dir.path(), "  legacy:\n    kind: postgres\n    dsn: \"" + dsn +
                            "\"\n    table: people\n    key: id\n    incremental: {column: upd}\n"
                            "    deletions: propagate\n");
  auto first = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(Sum(first.json, "extracted"), static_cast<uint64_t>(kRows));
  ASSERT_EQ(PsqlOut(dsn, kChangeSql), "");
  auto delta = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  ExpectBalanced(delta);
  EXPECT_EQ(Sum(delta.json, "extracted"), 18u) << delta.out;
  EXPECT_EQ(Sum(delta.json, "skipped"), 0u) << delta.out;  // left out by the server's WHERE
  EXPECT_EQ(Sum(delta.json, "deleted_at_source"), 4u) << delta.out;
  EXPECT_EQ(TargetDigest(dir / "out/target.db"), FreshDigest());
}

// The marks of `soft_delete` on a PostgreSQL target (Target::SoftDeleteRows,
// postgres_soft_delete.cc): the rows stay, the four deleted keys' are
// marked, and a rollback of the delta unmarks them.
TEST(DeltaRun, SoftDeletedRowsAreMarkedOnAPostgresTarget) {
  TestDatabase db("sluice_delta_soft");
  ASSERT_EQ(db.error, "");
  const std::string& dsn = db.dsn;
  ScratchDir dir("delta-soft-pg");
  WriteSoftDeletePlan(dir.path(), "{kind: postgres, dsn: \"" + dsn + "\"}");
  ExecSqlite(dir / "legacy.db", CreateSql());
  auto first = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const std::string rows = "SELECT md5(string_agg(t::text, '|' ORDER BY sluice_id)) FROM hcp t";
  const std::string before = PsqlOut(dsn, rows);
  ExecSqlite(dir / "legacy.db", kChangeSql);

  auto delta = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  ExpectBalanced(delta);
  EXPECT_EQ(Sum(delta.json, "deleted_at_source"), 4u) << delta.out;
  EXPECT_EQ(PsqlOut(dsn, "SELECT count(*) FROM hcp"), std::to_string(kRows + 6));
  const std::string marked =
      "SELECT string_agg(x.key, ',' ORDER BY x.key) FROM hcp h JOIN sluice.xref x ON x.entity ="
      " 'hcp' AND x.target_id = h.sluice_id WHERE h.deleted_at IS NOT NULL";
  EXPECT_EQ(PsqlOut(dsn, marked), "P0010,P0020,P0030,P0040");
  auto trace = Shell(Sluice() + " trace hcp legacy:P0030 --state-dir " + dir.path() + "/state");
  EXPECT_NE(trace.out.find("marked deleted"), std::string::npos) << trace.out;

  auto rollback = Shell(Sluice() + " rollback " + LastRun(dir.path()) + " --state-dir " +
                        dir.path() + "/state");
  ASSERT_EQ(rollback.exit_code, 0) << rollback.out << rollback.err;
  EXPECT_EQ(PsqlOut(dsn, marked), "");
  EXPECT_EQ(PsqlOut(dsn, rows), before);
}

// deletions: propagate on a PostgreSQL target: the rows of the four keys
// deleted at the source and their cross-reference entries are removed, with
// their before-images in sluice.rollback, so that a rollback of the delta
// restores the target the first run left, row for row.
TEST(DeltaRun, PropagatedDeletionsOnAPostgresTargetRollBack) {
  TestDatabase db("sluice_delta_hard");
  ASSERT_EQ(db.error, "");
  const std::string& dsn = db.dsn;
  ScratchDir dir("delta-hard-pg");
  WritePlan(dir.path(), SqliteSource("propagate"));
  std::string plan = ReadFile(dir / "plan.yaml");
  const std::string sqlite = "target: {kind: sqlite, path: out/target.db}";
  plan.replace(plan.find(sqlite), sqlite.size(), "target: {kind: postgres, dsn: \"" + dsn + "\"}");
  WriteFile(dir / "plan.yaml", plan);
  ExecSqlite(dir / "legacy.db", CreateSql());
  auto first = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const std::string rows = "SELECT md5(string_agg(t::text, '|' ORDER BY sluice_id)) FROM hcp t";
  const std::string xref =
      "SELECT md5(string_agg(x.source || ':' || x.key || '=' || x.target_id, '|' ORDER BY x.key))"
      " FROM sluice.xref x WHERE x.entity = 'hcp'";
  const std::string rows_before = PsqlOut(dsn, rows);
  const std::string xref_before = PsqlOut(dsn, xref);
  ExecSqlite(dir / "legacy.db", kChangeSql);

  auto delta = RunPlan(dir.path(), "--quiet");
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  ExpectBalanced(delta);
  EXPECT_EQ(Sum(delta.json, "extracted"), 18u) << delta.out;
  EXPECT_EQ(Sum(delta.json, "deleted_at_source"), 4u) << delta.out;
  EXPECT_EQ(PsqlOut(dsn, "SELECT count(*) FROM hcp"), std::to_string(kRows + 6 - 4));
  EXPECT_EQ(PsqlOut(dsn,
                    "SELECT count(*) FROM sluice.xref WHERE entity = 'hcp' AND key IN "
                    "('P0010','P0020','P0030','P0040')"),
            "0");
  auto trace = Shell(Sluice() + " trace hcp legacy:P0040 --state-dir " + dir.path() + "/state");
  EXPECT_NE(trace.out.find("DELETED AT SOURCE"), std::string::npos) << trace.out;

  auto rollback = Shell(Sluice() + " rollback " + LastRun(dir.path()) + " --state-dir " +
                        dir.path() + "/state");
  ASSERT_EQ(rollback.exit_code, 0) << rollback.out << rollback.err;
  EXPECT_EQ(PsqlOut(dsn, rows), rows_before);
  EXPECT_EQ(PsqlOut(dsn, xref), xref_before);
  EXPECT_EQ(PsqlOut(dsn, "SELECT count(*) FROM hcp"), std::to_string(kRows));
}

}  // namespace
}  // namespace sluice::testing
