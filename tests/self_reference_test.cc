// Self-references end to end (issue 3): an hcp hierarchy (`parent_id`
// referencing hcp) whose parents come after their children in the load, a
// parent merged into a survivor of another system, and an orphan, run by
// the real executables; then `plan check` on self-references and cycles.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "common/connectors/postgres/pg_test_server.h"
#include "tests/harness.h"

namespace sluice::testing {
namespace {

CommandResult Sluice(const std::string& args) { return Shell(BinDir() + "/sluice " + args); }

std::string RunArgs(const std::string& dir) {
  return "run " + dir + "/plan.yaml --local --json --state-dir " + dir + "/state";
}

// The deduper emits survivors in (source, key) order, batch_size 2 cuts
// them into [C01 C02] [C03 C04] [Z01 E02] [E03]: every child but E03 loads
// in a batch before its parent's.
//  - C01 -> Z01 (two batches later), C02 -> C01 (same batch, itself waiting)
//  - C03 -> Z02, merged into erp's E02 (same national id, erp survives)
//  - C04 -> NOPE: an orphan
//  - E03 -> E02 (an earlier batch), of the erp system
void WriteHierarchyPlan(const std::string& dir, const std::string& validation = "",
                        const std::string& target = "{kind: sqlite, path: out/target.db}") {
  WriteFile(dir + "/model.yaml", R"(entities:
  hcp:
    fields:
      national_id: string
      name: string
      parent_id: {type: reference, entity: hcp}
)");
  WriteFile(dir + "/crm.csv",
            "id,nid,name,parent\n"
            "Z01,N01,Head of cardiology,\n"
            "C01,N11,Cardiologist,Z01\n"
            "C02,N12,Resident,C01\n"
            "Z02,N02,Head of paediatrics,\n"
            "C03,N13,Paediatrician,Z02\n"
            "C04,N14,Lost,NOPE\n");
  WriteFile(dir + "/erp.csv",
            "id,nid,name,parent\n"
            "E03,N23,Nurse,E02\n"
            "E02,N02,Head of paediatrics (ERP),\n");
  WriteFile(dir + "/plan.yaml", R"(name: hierarchy
batch_size: 2
model: model.yaml
sources:
  crm: {kind: csv, path: crm.csv, key: id}
  erp: {kind: csv, path: erp.csv, key: id}
mappings:
  - entity: hcp
    source: crm
    fields: {national_id: nid, name: name, parent_id: parent}
  - entity: hcp
    source: erp
    fields: {national_id: nid, name: name, parent_id: parent}
dedup:
  hcp:
    key: national_id
    survivorship: {source_priority: [erp, crm]}
)" + validation + "target: " + target +
                                    R"(
waves:
  - {name: people, entities: [hcp]}
)");
}

// key -> parent_id as stored ("" for NULL); keys of merged records absent.
std::map<std::string, std::string> Parents(const std::string& db) {
  std::map<std::string, std::string> out;
  for (const std::string& row :
       Query(db,
             "SELECT x.source || '/' || x.key, coalesce(h.parent_id, '') FROM hcp h JOIN "
             "sluice_xref x ON x.entity = 'hcp' AND x.target_id = h.sluice_id AND x.kind = "
             "'loaded'")) {
    auto bar = row.find('|');
    out[row.substr(0, bar)] = row.substr(bar + 1);
  }
  return out;
}

std::string IdOf(const std::string& db, const std::string& source, const std::string& key) {
  auto rows = Query(db, "SELECT target_id FROM sluice_xref WHERE entity = 'hcp' AND source = '" +
                            source + "' AND key = '" + key + "'");
  return rows.empty() ? "" : rows[0];
}

TEST(SelfReference, ParentsAfterChildrenMergedParentAndOrphan) {
  ScratchDir dir("self-reference");
  WriteHierarchyPlan(dir.path());
  auto check = Sluice("plan check " + dir.path() + "/plan.yaml");
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;

  auto r = Sluice(RunArgs(dir.path()));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(r.json["status"], "completed") << r.out;
  std::map<std::string, nlohmann::json> rows;
  for (const auto& e : r.json["entities"]) rows[e["source"]] = e;
  ASSERT_TRUE(rows.count("crm") && rows.count("erp")) << r.out;
  EXPECT_EQ(rows["crm"]["extracted"], 6);
  EXPECT_EQ(rows["crm"]["merged"], 1);
  EXPECT_EQ(rows["crm"]["rejected"], 1);
  EXPECT_EQ(rows["crm"]["loaded"], 4);
  EXPECT_EQ(rows["erp"]["loaded"], 2);
  for (auto& [source, e] : rows) {
    EXPECT_EQ(e["ri_check"], "PASS") << e.dump() << "\nself-references are checked";
    EXPECT_EQ(e["unresolved_references"], 0) << e.dump();
    EXPECT_TRUE(e["reconciled"].get<bool>()) << e.dump();
  }

  const std::string db = dir / "out/target.db";
  auto parents = Parents(db);
  EXPECT_EQ(parents.size(), 6u);
  EXPECT_EQ(parents["crm/C01"], IdOf(db, "crm", "Z01")) << "parent loaded two batches later";
  EXPECT_EQ(parents["crm/C02"], IdOf(db, "crm", "C01")) << "parent waiting in the same batch";
  EXPECT_EQ(parents["crm/C03"], IdOf(db, "erp", "E02")) << "merged parent: the survivor's row";
  EXPECT_EQ(IdOf(db, "crm", "Z02"), IdOf(db, "erp", "E02"));
  EXPECT_EQ(parents["erp/E03"], IdOf(db, "erp", "E02"));
  EXPECT_EQ(parents["crm/Z01"], "");
  EXPECT_FALSE(parents.count("crm/C04")) << "the orphan is not loaded";
  // No reference points at anything but a row of hcp.
  EXPECT_EQ(Query(db,
                  "SELECT count(*) FROM hcp WHERE parent_id IS NOT NULL AND CAST(parent_id AS "
                  "INTEGER) NOT IN (SELECT sluice_id FROM hcp)")[0],
            "0");

  auto trace = Sluice("trace hcp crm:C04 --state-dir " + dir.path() + "/state");
  EXPECT_NE(trace.out.find("orphan reference: hcp NOPE not found in source crm"), std::string::npos)
      << trace.out << trace.err;

  // A second run changes nothing.
  auto again = Sluice(RunArgs(dir.path()));
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  for (const auto& e : again.json["entities"]) {
    EXPECT_EQ(e["inserted"], 0) << e.dump();
    EXPECT_EQ(e["updated"], 0) << e.dump();
    EXPECT_EQ(e["ri_check"], "PASS") << e.dump();
  }
  EXPECT_EQ(Parents(db), parents);
}

// child "source/key" -> its parent's "source/key" (through the parent's
// row), so that two targets compare whatever ids they gave.
std::map<std::string, std::string> ParentKeys(const std::string& db) {
  std::map<std::string, std::string> out;
  for (const std::string& row :
       Query(db,
             "SELECT c.source || '/' || c.key, coalesce(p.source || '/' || p.key, '') FROM hcp h"
             " JOIN sluice_xref c ON c.entity = 'hcp' AND c.target_id = h.sluice_id AND c.kind ="
             " 'loaded' LEFT JOIN sluice_xref p ON p.entity = 'hcp' AND p.kind = 'loaded' AND"
             " p.target_id = CAST(h.parent_id AS INTEGER)")) {
    auto bar = row.find('|');
    out[row.substr(0, bar)] = row.substr(bar + 1);
  }
  return out;
}

// kill -9 of the loader while it holds batches waiting for their parents:
// the coordinator sends them again and the target is the clean run's.
TEST(SelfReference, AKilledLoaderHoldingChildrenLeavesTheSameTarget) {
  ScratchDir clean("self-reference-clean");
  ScratchDir crash("self-reference-crash");
  WriteHierarchyPlan(clean.path());
  WriteHierarchyPlan(crash.path());
  auto a = Sluice(RunArgs(clean.path()));
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  // Batches 0 and 1 are held (their children wait for batch 2); the loader
  // dies as batch 2 arrives.
  auto b = Sluice(RunArgs(crash.path()) + " --test-fault loader:sigkill_after=2");
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  EXPECT_GE(b.json["restarts"].get<int>(), 1) << b.out;
  const auto want = ParentKeys(clean / "out/target.db");
  EXPECT_EQ(want.at("crm/C01"), "crm/Z01");
  EXPECT_EQ(want.at("crm/C03"), "erp/E02");
  EXPECT_EQ(ParentKeys(crash / "out/target.db"), want);
  for (const auto& e : b.json["entities"]) {
    EXPECT_TRUE(e["reconciled"].get<bool>()) << e.dump();
    EXPECT_EQ(e["ri_check"], "PASS") << e.dump();
  }
}

TEST(SelfReference, AWarningRuleLoadsTheOrphanWithoutItsParent) {
  ScratchDir dir("self-reference-warning");
  WriteHierarchyPlan(dir.path(), R"(validation:
  hcp:
    - {name: parent_known, kind: reference, field: parent_id, severity: warning}
)");
  auto r = Sluice(RunArgs(dir.path()));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::map<std::string, nlohmann::json> rows;
  for (const auto& e : r.json["entities"]) rows[e["source"]] = e;
  EXPECT_EQ(rows["crm"]["loaded"], 5) << r.out;
  EXPECT_EQ(rows["crm"]["rejected"], 0) << r.out;
  const std::string db = dir / "out/target.db";
  EXPECT_EQ(Parents(db)["crm/C04"], "");
  auto trace = Sluice("trace hcp crm:C04 --state-dir " + dir.path() + "/state");
  EXPECT_NE(trace.out.find("loaded with parent_id NULL"), std::string::npos)
      << trace.out << trace.err;
}

// Several dedup shards each emit a stream of hcp (`dedup/<s>`), and every
// output batch carries every stream's batch count (BatchRange
// stream_batches): the loader knows when the entity is loaded, so the
// parents, the merged parent and the orphan come out as on one shard. A
// loader that could not count the other streams would wait for them and
// halt the run at its stall timeout. Shard 1 of 2 emits 2 batches here:
// killed as it starts its second (counted by output batch, not by every
// batch and lease it took, which varies with timing), its replacement
// rebuilds the resolution from the relayed rounds and sends again, with the
// counts, what was not loaded.
TEST(SelfReference, SeveralDedupShardsLoadAsOne) {
  ScratchDir one("self-reference-one-shard");
  WriteHierarchyPlan(one.path());
  auto a = Sluice(RunArgs(one.path()));
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  std::map<std::string, nlohmann::json> want;
  for (const auto& e : a.json["entities"]) want[e["source"]] = e;
  const auto parents = ParentKeys(one / "out/target.db");
  ASSERT_EQ(parents.at("crm/C01"), "crm/Z01");
  ASSERT_EQ(parents.at("crm/C03"), "erp/E02");
  const std::vector<std::pair<int, std::string>> runs = {
      {2, ""}, {3, ""}, {2, "--test-fault deduper-1:sigkill_before_output=1"}};
  for (const auto& [n, fault] : runs) {
    SCOPED_TRACE(std::to_string(n) + " dedup shards " + fault);
    ScratchDir dir("self-reference-shards-" + std::to_string(n));
    WriteHierarchyPlan(dir.path());
    auto r = Sluice(RunArgs(dir.path()) + " --dedup-shards " + std::to_string(n) +
                    " --stall-timeout 60 " + fault);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    ASSERT_EQ(r.json["status"], "completed") << r.out;
    if (!fault.empty()) EXPECT_GE(r.json["restarts"].get<int>(), 1) << r.out;
    std::map<std::string, nlohmann::json> rows;
    for (const auto& e : r.json["entities"]) rows[e["source"]] = e;
    ASSERT_EQ(rows.size(), want.size()) << r.out;
    for (auto& [source, e] : rows) {
      for (const char* count : {"extracted", "merged", "rejected", "loaded"}) {
        EXPECT_EQ(e[count], want[source][count]) << source << " " << count << "\n" << r.out;
      }
      EXPECT_EQ(e["ri_check"], "PASS") << e.dump();
      EXPECT_EQ(e["unresolved_references"], 0) << e.dump();
      EXPECT_TRUE(e["reconciled"].get<bool>()) << e.dump();
    }
    const std::string db = dir / "out/target.db";
    EXPECT_EQ(ParentKeys(db), parents);
    // The output did come in several streams.
    EXPECT_NE(Query(db, "SELECT count(*) FROM sluice_batches WHERE batch LIKE '%/dedup/1/%'")[0],
              "0");
    auto trace = Sluice("trace hcp crm:C04 --state-dir " + dir.path() + "/state");
    EXPECT_NE(trace.out.find("orphan reference: hcp NOPE not found in source crm"),
              std::string::npos)
        << trace.out << trace.err;
  }
}

TEST(SelfReference, PlanCheckAcceptsASelfReferenceButNotACycle) {
  ScratchDir dir("self-reference-check");
  WriteHierarchyPlan(dir.path());
  auto ok = Sluice("plan check " + dir.path() + "/plan.yaml");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  WriteFile(dir / "model.yaml", R"(entities:
  hcp:
    fields:
      national_id: string
      name: string
      parent_id: {type: reference, entity: hcp}
      account_ref: {type: reference, entity: account}
  account:
    fields:
      name: string
      head: {type: reference, entity: hcp}
)");
  auto cycle = Sluice("plan check " + dir.path() + "/plan.yaml");
  EXPECT_EQ(cycle.exit_code, 2) << cycle.out << cycle.err;
  EXPECT_NE((cycle.out + cycle.err).find("reference cycle: "), std::string::npos)
      << cycle.out << cycle.err;
  EXPECT_EQ((cycle.out + cycle.err).find("hcp -> hcp"), std::string::npos)
      << cycle.out << cycle.err;
}

// `plan check` without --env: the plan as written and every environment,
// mistakes in overrides under their environment, secrets of environments
// that cannot be resolved here as notes; with --env, the run's strictness.
TEST(PlanCheck, EveryEnvironmentIsCheckedAndItsSecretsAreNotes) {
  ScratchDir dir("plan-check-envs");
  WriteHierarchyPlan(dir.path());
  WriteFile(dir / "slim.yaml",
            "entities:\n  hcp:\n    fields:\n      national_id: string\n"
            "      name: string\n");
  const std::string plan = ReadFile(dir / "plan.yaml");
  WriteFile(dir / "plan.yaml", plan + R"(environments:
  sandbox:
    target: {path: out/sandbox.db}
  prod:
    target: {kind: postgres, dsn: "host=mdm user=sluice password=${env:SLUICE_SELFREF_SECRET}"}
  broken:
    batch_size: 0
  slim:
    model: slim.yaml
)");
  const std::string check = "plan check " + dir.path() + "/plan.yaml";
  auto all = Shell("env -u SLUICE_SELFREF_SECRET " + BinDir() + "/sluice " + check);
  EXPECT_EQ(all.exit_code, 2) << all.out << all.err;
  EXPECT_NE(all.out.find("plan.yaml: environments.broken.batch_size: must be between 1 and"),
            std::string::npos)
      << all.out;
  EXPECT_NE(all.out.find("plan.yaml: mappings[0].fields.parent_id: "), std::string::npos)
      << all.out;
  EXPECT_NE(all.out.find(" (environment slim)"), std::string::npos) << all.out;
  // Written in the plan itself, wrong only with prod's target kind.
  EXPECT_NE(all.out.find("plan.yaml: target.path: not used by a postgres target (it connects "
                         "with 'dsn') (environment prod)"),
            std::string::npos)
      << all.out;
  EXPECT_NE(all.out.find("plan.yaml: note: environments.prod.target.dsn: secret "
                         "${env:SLUICE_SELFREF_SECRET}: environment variable "
                         "SLUICE_SELFREF_SECRET is not set"),
            std::string::npos)
      << all.out;

  // Without the broken environments: clean, the note stays, every
  // environment is listed.
  WriteFile(dir / "plan.yaml", plan + R"(environments:
  sandbox:
    target: {path: out/sandbox.db}
  prod:
    target: {kind: postgres, path: null, dsn: "host=mdm user=sluice password=${env:SLUICE_SELFREF_SECRET}"}
)");
  auto clean = Shell("env -u SLUICE_SELFREF_SECRET " + BinDir() + "/sluice " + check);
  EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  EXPECT_NE(clean.out.find("note: environments.prod.target.dsn"), std::string::npos) << clean.out;
  EXPECT_NE(clean.out.find("  environment sandbox: ok"), std::string::npos) << clean.out;
  EXPECT_NE(clean.out.find("  environment prod: ok"), std::string::npos) << clean.out;

  // Chosen with --env, the missing secret is a problem, as for the run.
  auto prod =
      Shell("env -u SLUICE_SELFREF_SECRET " + BinDir() + "/sluice " + check + " --env prod");
  EXPECT_EQ(prod.exit_code, 2) << prod.out << prod.err;
  EXPECT_NE(prod.out.find("environments.prod.target.dsn: secret ${env:SLUICE_SELFREF_SECRET}"),
            std::string::npos)
      << prod.out;
  // Set, it resolves, and its value appears nowhere.
  auto set = Shell("SLUICE_SELFREF_SECRET=hunter2-selfref " + BinDir() + "/sluice " + check);
  EXPECT_EQ(set.exit_code, 0) << set.out << set.err;
  EXPECT_EQ(set.out.find("note:"), std::string::npos) << set.out;
  EXPECT_EQ((set.out + set.err).find("hunter2"), std::string::npos) << set.out;
}

// One value from psql (first column of the first row), trimmed.
std::string Psql(const std::string& dsn, const std::string& sql) {
  auto r = Shell("psql -X -A -t -q -v ON_ERROR_STOP=1 \"" + dsn + "\" -c \"" + sql + "\"");
  std::string out = r.exit_code == 0 ? r.out : "error: " + r.err;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// The same hierarchy into PostgreSQL: the parts load through COPY, the
// staging upsert and sluice.xref, completion is counted in sluice.batches.
TEST(SelfReference, PostgresTargetSettlesTheHierarchyToo) {
  const std::string server = PgTestDsn();
  ASSERT_FALSE(server.empty()) << kPgTestServerHelp;
  const std::string name = "selfref_" + std::to_string(getpid());
  ASSERT_EQ(Psql(server, "CREATE DATABASE " + name), "");
  struct Drop {
    std::string server, name;
    ~Drop() { Psql(server, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); }
  } drop{server, name};
  auto at = server.find("dbname=");
  const std::string dsn =
      (at == std::string::npos ? server + " " : server.substr(0, at)) + "dbname=" + name;
  ScratchDir dir("self-reference-pg");
  WriteHierarchyPlan(dir.path(), "", "{kind: postgres, dsn: \"" + dsn + "\", schema: mdm}");
  auto r = Sluice(RunArgs(dir.path()));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::map<std::string, nlohmann::json> rows;
  for (const auto& e : r.json["entities"]) rows[e["source"]] = e;
  EXPECT_EQ(rows["crm"]["loaded"], 4) << r.out;
  EXPECT_EQ(rows["crm"]["rejected"], 1) << r.out;
  EXPECT_EQ(rows["crm"]["ri_check"], "PASS") << r.out;
  auto id = [&](const std::string& source, const std::string& key) {
    return Psql(dsn, "SELECT target_id FROM sluice.xref WHERE entity = 'hcp' AND source = '" +
                         source + "' AND key = '" + key + "'");
  };
  auto parent = [&](const std::string& source, const std::string& key) {
    return Psql(dsn,
                "SELECT coalesce(parent_id, '') FROM mdm.hcp WHERE sluice_id = " + id(source, key));
  };
  EXPECT_EQ(parent("crm", "C01"), id("crm", "Z01"));
  EXPECT_EQ(parent("crm", "C02"), id("crm", "C01"));
  EXPECT_EQ(parent("crm", "C03"), id("erp", "E02"));
  EXPECT_EQ(parent("erp", "E03"), id("erp", "E02"));
  EXPECT_EQ(id("crm", "C04"), "") << "the orphan is not loaded";
  EXPECT_EQ(Psql(dsn, "SELECT count(*) FROM mdm.hcp"), "6");
}

}  // namespace
}  // namespace sluice::testing
