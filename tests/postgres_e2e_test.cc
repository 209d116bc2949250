// End-to-end tests on a PostgreSQL target: the real coordinator and workers,
// a real server. The restart test starts a server of its own (restarting the
// shared fixture server would disturb the tests running beside it); the
// rollback test uses the fixture server with a database of its own.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <thread>

#include "common/connectors/postgres/pg_test_server.h"
#include "tests/harness.h"
#include "tests/pg_database.h"

namespace sluice::testing {
namespace {

// The quickstart plan with its SQLite target replaced by `target`.
void UsePostgresTarget(const std::string& dir, const std::string& target) {
  std::string plan = ReadFile(dir + "/plan.yaml");
  const std::string sqlite = "target: {kind: sqlite, path: out/target.db}";
  auto at = plan.find(sqlite);
  ASSERT_NE(at, std::string::npos) << "the quickstart plan's target line changed";
  plan.replace(at, sqlite.size(), "target: " + target);
  WriteFile(dir + "/plan.yaml", plan);
}

// A digest of everything the target holds for the plan: the entity table and
// sluice's cross-reference, in a fixed order.
std::string TargetMd5(const std::string& dsn, const std::string& schema) {
  return PsqlOut(dsn,
                 "SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY sluice_id), ''))"
                 " || '/' || (SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY entity,"
                 " source, key), '')) FROM sluice.xref x) FROM " +
                     schema + ".hcp t");
}

// What the target holds for the plan, without what differs between two
// correct runs (row ids, run ids): every entry with the values of the row it
// points at and the key of that row's own entry, in key order; then how many
// rows the entity table holds.
std::string TargetContent(const std::string& dsn, const std::string& schema) {
  return PsqlOut(dsn,
                 "SELECT md5(coalesce(string_agg(concat_ws(' ', x.source, x.key, x.kind,"
                 " x.content_hash, o.source, o.key, (to_jsonb(t) - 'sluice_id')::text), ','"
                 " ORDER BY x.source, x.key), '')) || '/' || (SELECT count(*) FROM " +
                     schema + ".hcp) FROM sluice.xref x LEFT JOIN " + schema +
                     ".hcp t ON t.sluice_id = x.target_id LEFT JOIN sluice.xref o ON"
                     " o.entity = x.entity AND o.target_id = x.target_id AND o.kind = 'loaded'"
                     " WHERE x.entity = 'hcp'");
}

// kill -9 of the loader while its pipelined loads (loader/load_pipeline.h)
// have batches in flight: the transactions in flight roll back, the loader
// is replaced, the batches are loaded again or found applied, and the
// target is the one a clean run gives.
TEST(PostgresEndToEnd, ALoaderKilledMidRunLeavesTheTargetOfACleanRun) {
  TestDatabase killed_db("e2e_loader_kill");
  ASSERT_EQ(killed_db.error, "") << killed_db.error;
  TestDatabase clean_db("e2e_loader_clean");
  ASSERT_EQ(clean_db.error, "") << clean_db.error;

  ScratchDir killed_dir("pg-loader-kill"), clean_dir("pg-loader-clean");
  PrepareQuickstart(killed_dir.path(), 3000, 1000, "batch_size: 250\n");
  PrepareQuickstart(clean_dir.path(), 3000, 1000, "batch_size: 250\n");
  UsePostgresTarget(killed_dir.path(), "{kind: postgres, dsn: \"" + killed_db.dsn + "\"}");
  UsePostgresTarget(clean_dir.path(), "{kind: postgres, dsn: \"" + clean_db.dsn + "\"}");
  auto killed = RunPlan(killed_dir.path(), "--test-fault loader:sigkill_after=5");
  ASSERT_EQ(killed.exit_code, 0) << killed.out << killed.err;
  EXPECT_GE(killed.json["restarts"].get<int>(), 1) << killed.out;
  EXPECT_NE(killed.out.find("PASS"), std::string::npos) << killed.out;
  auto clean = RunPlan(clean_dir.path());
  ASSERT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  EXPECT_EQ(Sum(killed.json, "loaded"), Sum(clean.json, "loaded"));
  EXPECT_EQ(Sum(killed.json, "merged"), Sum(clean.json, "merged"));
  const std::string content = TargetContent(clean_db.dsn, "public");
  ASSERT_GT(content.size(), 33u) << content;
  EXPECT_EQ(TargetContent(killed_db.dsn, "public"), content);
}

// `sluice plan check` opens a PostgreSQL source (a table, a query) and names
// a column it does not have at its YAML path, with the near name (issue 19).
TEST(PostgresEndToEnd, PlanCheckNamesAColumnTheTableOrQueryLacks) {
  TestDatabase db("sluice_plan_check");
  ASSERT_EQ(db.error, "") << db.error;
  ASSERT_EQ(PsqlOut(db.dsn, "CREATE TABLE doctors (doc_id text PRIMARY KEY, full_name text)"), "");
  ScratchDir dir("pg-plan-check");
  WriteFile(dir / "model.yaml", "entities:\n  hcp:\n    fields:\n      name: {type: string}\n");
  WriteFile(dir / "plan.yaml",
            "name: pg_check\nmodel: model.yaml\nsources:\n"
            "  erp: {kind: postgres, dsn: \"" +
                db.dsn +
                "\", table: doctors, key: doc_id}\n"
                "  erp_q: {kind: postgres, dsn: \"" +
                db.dsn +
                "\", query: \"SELECT doc_id AS id, full_name FROM doctors\", "
                "key: doc_id}\n"
                "mappings:\n"
                "  - {entity: hcp, source: erp, fields: {name: ful_name}}\n"
                "  - {entity: hcp, source: erp_q, fields: {name: full_name}}\n"
                "target: {kind: sqlite, path: out/target.db}\n"
                "waves:\n  - {name: w, entities: [hcp]}\n");
  CommandResult check = Shell(BinDir() + "/sluice plan check " + dir.path() + "/plan.yaml");
  EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
  EXPECT_NE(check.out.find("mappings[0].fields.name.from: source has no column 'ful_name' "
                           "(did you mean 'full_name'?)"),
            std::string::npos)
      << check.out;
  EXPECT_NE(check.out.find("sources.erp_q.key: "), std::string::npos) << check.out;
}

// The server goes away while the loader is writing and comes back on the
// same port: the loader retries with backoff, logs each retry, and the run
// completes and reconciles with every record accounted for.
TEST(PostgresEndToEnd, ServerRestartedMidRunIsRetriedAndTheRunCompletes) {
  ScratchDir dir("pg-restart");
  const std::string pg = dir / "pg";
  auto start = Shell(SourceDir() + "/scripts/pg.sh start " + pg);
  ASSERT_EQ(start.exit_code, 0) << start.err;
  struct Stop {
    std::string pg;
    ~Stop() { Shell(SourceDir() + "/scripts/pg.sh stop " + pg); }
  } stop{pg};
  const std::string dsn = ReadFile(pg + "/dsn").substr(0, ReadFile(pg + "/dsn").find('\n'));
  PrepareQuickstart(dir.path(), 20000, 5000);
  // Slow enough (about 5 s of loading) for the restart to land mid-load;
  // enough attempts to outlast the server's absence.
  UsePostgresTarget(dir.path(), "{kind: postgres, dsn: \"" + dsn +
                                    "\", schema: restart, max_rows_per_second: 5000,"
                                    " max_attempts: 40, retry_base_ms: 100, retry_max_ms: 500}");
  auto run = std::async(std::launch::async, [&] { return RunPlan(dir.path()); });
  // Restart once the load is under way but far from done.
  bool restarted = false;
  for (int i = 0; i < 600 && !restarted; ++i) {
    if (run.wait_for(std::chrono::milliseconds(100)) == std::future_status::ready) break;
    std::string n = PsqlOut(dsn, "SELECT count(*) FROM sluice.xref");
    if (n.find_first_not_of("0123456789") == std::string::npos && !n.empty() &&
        std::stoll(n) > 2000) {
      auto restart = Shell(SourceDir() + "/scripts/pg.sh restart " + pg);
      ASSERT_EQ(restart.exit_code, 0) << restart.err;
      restarted = true;
    }
  }
  CommandResult r = run.get();
  ASSERT_TRUE(restarted) << "the run ended before the load got under way:\n" << r.out << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.json["status"], "completed");
  std::string run_id = r.json["run_id"];
  std::string loader_log = ReadFile(dir.path() + "/state/logs/" + run_id + "/loader-0.log");
  EXPECT_NE(loader_log.find("failed, retrying"), std::string::npos)
      << "no retry in the loader's log:\n"
      << loader_log;
  const uint64_t loaded = Sum(r.json, "loaded");
  EXPECT_EQ(Sum(r.json, "extracted"),
            loaded + Sum(r.json, "merged") + Sum(r.json, "rejected") + Sum(r.json, "review"));
  EXPECT_EQ(PsqlOut(dsn, "SELECT count(*) FROM restart.hcp"), std::to_string(loaded));
  EXPECT_NE(r.out.find("PASS"), std::string::npos) << r.out;
}

// `sluice rollback RUN` on a PostgreSQL target gives back the exact
// pre-run content of the entity table and the cross-reference, after a run
// that inserted, updated and merged rows.
TEST(PostgresEndToEnd, RollbackRestoresThePreRunTarget) {
  TestDatabase db("e2e_rollback");
  ASSERT_EQ(db.error, "") << db.error;
  const std::string& dsn = db.dsn;

  ScratchDir dir("pg-rollback");
  PrepareQuickstart(dir.path(), 2000, 1000);
  UsePostgresTarget(dir.path(), "{kind: postgres, dsn: \"" + dsn + "\", schema: rb}");
  auto first = RunPlan(dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const std::string before = TargetMd5(dsn, "rb");
  ASSERT_EQ(before.size(), 65u) << before;
  auto gen = Shell(BinDir() + "/sluice-sample quickstart --out " + dir.path() +
                   "/data --crm-rows 2500 --erp-rows 1000 --seed 2");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  auto second = RunPlan(dir.path());
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  ASSERT_GT(Sum(second.json, "inserted"), 0u);
  ASSERT_GT(Sum(second.json, "updated"), 0u);
  ASSERT_NE(TargetMd5(dsn, "rb"), before);
  std::string run = second.json["run_id"];
  auto rb = Shell(BinDir() + "/sluice rollback " + run + " --plan " + dir.path() +
                  "/plan.yaml --state-dir " + dir.path() + "/state");
  ASSERT_EQ(rb.exit_code, 0) << rb.out << rb.err;
  EXPECT_EQ(TargetMd5(dsn, "rb"), before);
}

// The consolidation example into PostgreSQL: children are rewritten to their
// parents' target ids through sluice.xref, to the survivor's when the parent
// was merged, and the reconciler's ri_check passes.
TEST(PostgresEndToEnd, ConsolidationChildrenPointAtTheirParentsAndSurvivors) {
  TestDatabase db("e2e_consolidation");
  ASSERT_EQ(db.error, "") << db.error;
  const std::string& dsn = db.dsn;

  ScratchDir dir("pg-consolidation");
  PrepareConsolidation(dir.path(),
                       {{"target:\n  kind: sqlite\n  path: out/target.db",
                         "target: {kind: postgres, dsn: \"" + dsn + "\", schema: consolidated}"}});
  auto r = RunPlan(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const auto& e : r.json["entities"]) {
    if (e["entity"] == "interaction") {
      EXPECT_EQ(e["ri_check"], "PASS") << e.dump();
      EXPECT_EQ(e["unresolved_references"], 0) << e.dump();
    }
  }
  auto id = [&](const std::string& entity, const std::string& source, const std::string& key) {
    return PsqlOut(dsn, "SELECT target_id FROM sluice.xref WHERE entity = '" + entity +
                            "' AND source = '" + source + "' AND key = '" + key + "'");
  };
  auto ref = [&](const std::string& source, const std::string& key) {
    return PsqlOut(dsn,
                   "SELECT i.hcp_ref FROM consolidated.interaction i JOIN sluice.xref x ON"
                   " x.entity = 'interaction' AND x.target_id = i.sluice_id WHERE x.source = '" +
                       source + "' AND x.key = '" + key + "'");
  };
  EXPECT_EQ(PsqlOut(dsn, "SELECT count(*) FROM consolidated.hcp"), "11");
  EXPECT_EQ(PsqlOut(dsn, "SELECT count(*) FROM consolidated.interaction"), "8");
  const std::string fr001 = id("hcp", "fr", "FR001");
  ASSERT_FALSE(fr001.empty());
  EXPECT_EQ(id("hcp", "us", "US01"), fr001);  // merged into the French survivor
  EXPECT_EQ(ref("us_visits", "V001"), fr001);
  EXPECT_EQ(ref("us_visits", "V002"), id("hcp", "us", "US02"));
  EXPECT_EQ(ref("eu_calls", "C002"), id("hcp", "eu", "EU0002"));
  EXPECT_EQ(PsqlOut(dsn,
                    "SELECT count(*) FROM consolidated.interaction WHERE hcp_ref::bigint NOT IN"
                    " (SELECT sluice_id FROM consolidated.hcp)"),
            "0");
}

}  // namespace
}  // namespace sluice::testing
