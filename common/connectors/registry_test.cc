// The registry: each kind's registration carries its keys, its checks and its
// DDL, and the plan parser and the CLI find them there.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "common/audit/sqlite_util.h"
#include "common/connectors/connector.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("sluice_registry_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "crm.csv") << "id,nid\n1,A\n";
    std::ofstream(dir_ / "eu.jsonl") << "{\"id\": 1}\n";
    auto db = SqliteDb::Open((dir_ / "erp.db").string());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE doctors(id TEXT, nid TEXT)").ok());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Parses a plan with `sources` (lines under `sources:`) and `target`.
  Plan Parse(const std::string& sources, const std::string& target) {
    issues_.clear();
    return ParsePlan(
        "model:\n  entities:\n    hcp:\n      fields:\n        nid: string\n"
        "sources:\n" +
            sources + target +
            "mappings:\n  - {entity: hcp, source: crm, fields: {nid: nid}}\n"
            "waves:\n  - {name: w, entities: [hcp]}\n",
        dir_.string(), &issues_);
  }
  bool Has(const std::string& path, const std::string& message) const {
    for (const PlanIssue& i : issues_) {
      if (i.path == path && i.message == message) return true;
    }
    return false;
  }
  std::string Dump() const {
    std::string out;
    for (const PlanIssue& i : issues_) out += "\n  " + i.ToString();
    return out;
  }

  fs::path dir_;
  std::vector<PlanIssue> issues_;
};

constexpr char kCsv[] = "  crm: {kind: csv, path: crm.csv, key: id}\n";
constexpr char kTarget[] = "target: {kind: sqlite, path: out.db}\n";

TEST_F(RegistryTest, TheBuildsKinds) {
  EXPECT_EQ(SourceKinds(),
            (std::vector<std::string>{"csv", "fixed_width", "jsonl", "postgres", "sqlite"}));
  EXPECT_EQ(TargetKinds(), (std::vector<std::string>{"postgres", "sqlite"}));
  EXPECT_EQ(DdlTargetKinds(), (std::vector<std::string>{"postgres", "sqlite"}));
  EXPECT_EQ(BuiltinConnectors().SourceKinds(), SourceKinds());
  const ConnectorKind* pg = BuiltinConnectors().FindTarget("postgres");
  ASSERT_NE(pg, nullptr);
  EXPECT_TRUE(pg->server);
  EXPECT_FALSE(BuiltinConnectors().FindSource("csv")->server);
}

TEST_F(RegistryTest, AValidPlanOfEveryKind) {
  Parse(std::string(kCsv) +
            "  eu: {kind: jsonl, path: eu.jsonl, key: id}\n"
            "  us: {kind: sqlite, path: erp.db, table: doctors, key: id}\n"
            "  pg: {kind: postgres, dsn: 'dbname=x', query: 'select 1', key: id}\n"
            "  host: {kind: fixed_width, path: crm.csv, key: id, layout: 'id 4', "
            "encoding: cp037}\n",
        kTarget);
  EXPECT_TRUE(issues_.empty()) << Dump();
}

TEST_F(RegistryTest, UnknownKindsListTheKnownOnes) {
  Parse("  crm: {kind: cobol, path: crm.csv, key: id}\n", "target: {kind: csv, path: o}\n");
  EXPECT_TRUE(Has("sources.crm.kind",
                  "unknown source kind 'cobol' (known: csv, fixed_width, jsonl, postgres, sqlite)"))
      << Dump();
  EXPECT_TRUE(Has("target.kind", "unknown target kind 'csv' (known: postgres, sqlite)")) << Dump();

  SourceSpec source;
  source.kind = "cobol";
  source.yaml_path = "sources.crm";
  auto opened = OpenSource(source);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().message(),
            "sources.crm.kind: unknown source kind 'cobol' (known: csv, fixed_width, jsonl, "
            "postgres, sqlite)");
  TargetSpec target;
  target.kind = "csv";
  auto loaded = OpenTarget(target);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().message(),
            "target.kind: unknown target kind 'csv' (known: postgres, sqlite)");
}

TEST_F(RegistryTest, AKindRefusesTheKeysOfOtherKindsAtTheirPath) {
  Parse(std::string(kCsv) +
            "  eu: {kind: jsonl, path: eu.jsonl, key: id, delimiter: ';', table: t}\n"
            "  us: {kind: sqlite, path: erp.db, table: doctors, key: id, header: false}\n"
            "  pg: {kind: postgres, dsn: x, table: t, key: id, encoding: utf-8, pasword: p}\n",
        "target: {kind: sqlite, path: out.db, schema: mdm, retries: 3}\n");
  EXPECT_TRUE(Has("sources.eu.delimiter", "only for csv sources")) << Dump();
  EXPECT_TRUE(Has("sources.eu.table", "only for postgres and sqlite sources")) << Dump();
  EXPECT_TRUE(Has("sources.us.header", "only for csv sources")) << Dump();
  EXPECT_TRUE(Has("sources.pg.encoding", "only for csv, fixed_width and jsonl sources")) << Dump();
  EXPECT_TRUE(Has("sources.pg", "unknown key 'pasword'")) << Dump();
  EXPECT_TRUE(Has("target.schema", "only for postgres targets")) << Dump();
  EXPECT_TRUE(Has("target", "unknown key 'retries'")) << Dump();
}

TEST_F(RegistryTest, TheChecksAKindContributesRun) {
  Parse(
      "  crm: {kind: csv, path: crm.csv, key: id, quote: \"''\", header: maybe}\n"
      "  us: {kind: sqlite, path: erp.db, table: doctorz, key: id}\n"
      "  us2: {kind: sqlite, path: erp.db, key: id}\n"
      "  pg: {kind: postgres, dsn: x, table: t, query: q, key: id}\n",
      "target: {kind: postgres, dsn: x, retry_base_ms: 0x20, retry_max_ms: 16}\n");
  EXPECT_TRUE(Has("sources.crm.quote", "must be a single character")) << Dump();
  EXPECT_TRUE(Has("sources.crm.header", "must be true or false")) << Dump();
  EXPECT_TRUE(Has("sources.us.table", "table 'doctorz' not found in " + (dir_ / "erp.db").string()))
      << Dump();
  EXPECT_TRUE(Has("sources.us2", "needs 'table' or 'query'")) << Dump();
  EXPECT_TRUE(Has("sources.pg", "use 'table' or 'query', not both")) << Dump();
  EXPECT_TRUE(Has("target", "retry_base_ms is greater than retry_max_ms")) << Dump();
}

// The rule behind the plan check is the one the sources apply when opened.
TEST_F(RegistryTest, TableOrQueryIsOneRule) {
  SourceSpec spec;
  spec.kind = "sqlite";
  spec.path = (dir_ / "erp.db").string();
  spec.yaml_path = "sources.us";
  spec.options = {{"key", "id"}};
  auto opened = OpenSource(spec);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().message(), "sources.us: needs 'table' or 'query'");
  spec.kind = "postgres";
  spec.options = {{"dsn", "dbname=x"}, {"table", "t"}, {"query", "q"}, {"key", "id"}};
  opened = OpenSource(spec);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().message(), "sources.us: use 'table' or 'query', not both");
}

TEST_F(RegistryTest, TheDdlOfEachTargetKind) {
  Plan plan = Parse(kCsv, kTarget);
  ASSERT_TRUE(issues_.empty()) << Dump();
  auto sqlite = TargetDdl(plan.model, TargetSpec{"sqlite", "", {}});
  ASSERT_TRUE(sqlite.ok()) << sqlite.status().ToString();
  EXPECT_EQ(*sqlite, "-- sluice model, content hash " + plan.model.content_hash +
                         "\nCREATE TABLE IF NOT EXISTS \"hcp\"(sluice_id INTEGER PRIMARY KEY, "
                         "\"nid\" TEXT);\n");
  auto pg = TargetDdl(plan.model, TargetSpec{"postgres", "", {{"schema", "crm"}}});
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  EXPECT_NE(pg->find("CREATE TABLE IF NOT EXISTS \"crm\".\"hcp\"(sluice_id bigint PRIMARY KEY, "
                     "\"nid\" text);\n"),
            std::string::npos)
      << *pg;
  auto none = TargetDdl(plan.model, TargetSpec{"jsonl", "", {}});
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice
