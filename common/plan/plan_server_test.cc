// Plans with server connectors: a postgres source needs `dsn` and no `path`,
// a postgres target needs `dsn` and may name a schema, a rate limit and retry
// bounds; a sqlite target needs `path` and takes none of those.
// (plan_test.cc covers the rest of the plan.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/plan/plan.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

constexpr char kModel[] =
    "model:\n  entities:\n    hcp:\n      fields:\n        national_id: {type: string}\n";
constexpr char kRest[] =
    "mappings:\n  - {entity: hcp, source: crm, fields: {national_id: nid}}\n"
    "  - {entity: hcp, source: erp, fields: {national_id: nid}}\n"
    "waves:\n  - {name: hcp, entities: [hcp]}\n";
constexpr char kCsv[] = "  crm: {kind: csv, path: crm.csv, key: id}\n";
constexpr char kPgSource[] =
    "  erp: {kind: postgres, dsn: 'host=db1 port=5433 dbname=erp', table: crm.doctors, key: id}\n";
constexpr char kSqliteTarget[] = "target: {kind: sqlite, path: out/target.db}\n";

class PlanServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("sluice_plan_server_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "crm.csv") << "id,nid\n1,A\n";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Parses a plan made of the two sources' lines and the target section.
  Plan Parse(const std::string& sources, const std::string& target) {
    issues_.clear();
    return ParsePlan(std::string(kModel) + "sources:\n" + sources + target + kRest, dir_.string(),
                     &issues_);
  }
  std::string Dump() const {
    std::string out;
    for (const PlanIssue& i : issues_) out += "\n  " + i.ToString();
    return out;
  }
  bool Has(const std::string& path, const std::string& message) const {
    for (const PlanIssue& i : issues_) {
      if (i.path == path && i.message.find(message) != std::string::npos) return true;
    }
    return false;
  }

  fs::path dir_;
  std::vector<PlanIssue> issues_;
};

TEST_F(PlanServerTest, PostgresSourceAndTargetReadBack) {
  Plan plan = Parse(std::string(kCsv) + kPgSource,
                    "target:\n  kind: postgres\n  dsn: host=127.0.0.1 port=5432 dbname=mdm\n"
                    "  schema: mdm\n  max_rows_per_second: 2500.5\n  max_attempts: 6\n"
                    "  retry_base_ms: 0x10\n  retry_max_ms: 8000\n");
  ASSERT_TRUE(issues_.empty()) << Dump();
  const SourceSpec* erp = plan.FindSource("erp");
  ASSERT_NE(erp, nullptr);
  EXPECT_EQ(erp->kind, "postgres");
  EXPECT_EQ(erp->path, "");
  EXPECT_EQ(erp->Option("dsn"), "host=db1 port=5433 dbname=erp");
  EXPECT_EQ(erp->Option("table"), "crm.doctors");
  EXPECT_EQ(erp->Option("key"), "id");
  EXPECT_EQ(plan.target.kind, "postgres");
  EXPECT_EQ(plan.target.path, "");
  EXPECT_EQ(plan.target.options.at("dsn"), "host=127.0.0.1 port=5432 dbname=mdm");
  EXPECT_EQ(plan.target.options.at("schema"), "mdm");
  EXPECT_EQ(plan.target.options.at("max_rows_per_second"), "2500.5");
  EXPECT_EQ(plan.target.options.at("max_attempts"), "6");
  EXPECT_EQ(plan.target.options.at("retry_base_ms"), "16");
  EXPECT_EQ(plan.target.options.at("retry_max_ms"), "8000");
}

TEST_F(PlanServerTest, ValidVariations) {
  const std::vector<std::pair<std::string, std::string>> valid = {
      // A query instead of a table; a URI as the connection string.
      {std::string(kCsv) +
           "  erp: {kind: postgres, dsn: 'postgresql://u@db1/erp', query: 'select 1', key: id}\n",
       "target: {kind: postgres, dsn: 'dbname=mdm'}\n"},
      // 0 means no rate limit, and no wait between attempts.
      {std::string(kCsv) + kPgSource,
       "target: {kind: postgres, dsn: x, max_rows_per_second: 0, max_attempts: 1, "
       "retry_base_ms: 0, retry_max_ms: 0}\n"},
  };
  for (const auto& [sources, target] : valid) {
    Parse(sources, target);
    EXPECT_TRUE(issues_.empty()) << sources << target << Dump();
  }
}

TEST_F(PlanServerTest, EachMistakeAtItsPath) {
  struct Case {
    std::string sources, target, path, message;
  };
  const std::string pg = "  erp: {kind: postgres, ";
  const std::vector<Case> cases = {
      {kCsv + pg + "table: t, key: id}\n", kSqliteTarget, "sources.erp.dsn", "missing"},
      {kCsv + pg + "dsn: '', table: t, key: id}\n", kSqliteTarget, "sources.erp.dsn",
       "must not be empty"},
      {kCsv + pg + "dsn: x, path: crm.csv, table: t, key: id}\n", kSqliteTarget, "sources.erp.path",
       "not used by a postgres source"},
      {kCsv + pg + "dsn: x, key: id}\n", kSqliteTarget, "sources.erp", "needs 'table' or 'query'"},
      {kCsv + pg + "dsn: x, table: t, query: q, key: id}\n", kSqliteTarget, "sources.erp",
       "use 'table' or 'query', not both"},
      {kCsv + pg + "dsn: x, table: t}\n", kSqliteTarget, "sources.erp.key", "missing"},
      {kCsv + pg + "dsn: x, table: t, key: id, password: p}\n", kSqliteTarget, "sources.erp",
       "unknown key 'password'"},
      {"  crm: {kind: csv, path: crm.csv, key: id, dsn: x}\n" + std::string(kPgSource),
       kSqliteTarget, "sources.crm.dsn", "only for postgres sources"},
      {kCsv + std::string(kPgSource), "target: {kind: postgres}\n", "target.dsn", "missing"},
      {kCsv + std::string(kPgSource), "target: {kind: postgres, dsn: x, path: t.db}\n",
       "target.path", "not used by a postgres target"},
      {kCsv + std::string(kPgSource), "target: {kind: postgres, dsn: x, schema: mdm-prod}\n",
       "target.schema", "not a valid schema name"},
      {kCsv + std::string(kPgSource), "target: {kind: sqlite}\n", "target.path", "missing"},
      {kCsv + std::string(kPgSource), "target: {kind: sqlite, path: t.db, dsn: x}\n", "target.dsn",
       "only for postgres targets"},
      {kCsv + std::string(kPgSource), "target: {kind: sqlite, path: t.db, schema: s}\n",
       "target.schema", "only for postgres targets"},
      {kCsv + std::string(kPgSource), "target: {kind: postgres, dsn: x, max_rows_per_second: -5}\n",
       "target.max_rows_per_second", "0 or more"},
      {kCsv + std::string(kPgSource),
       "target: {kind: postgres, dsn: x, max_rows_per_second: fast}\n",
       "target.max_rows_per_second", "must be a number"},
      {kCsv + std::string(kPgSource), "target: {kind: postgres, dsn: x, max_attempts: 0}\n",
       "target.max_attempts", "must be 1 or more"},
      {kCsv + std::string(kPgSource), "target: {kind: postgres, dsn: x, retry_base_ms: -1}\n",
       "target.retry_base_ms", "must be 0 or more"},
      {kCsv + std::string(kPgSource), "target: {kind: sqlite, path: t.db, max_attempts: 3}\n",
       "target.max_attempts", "only for postgres targets"},
      {kCsv + std::string(kPgSource), "target: {kind: postgres, dsn: x, retry_max_ms: soon}\n",
       "target.retry_max_ms", "must be an integer"},
      {kCsv + std::string(kPgSource),
       "target: {kind: postgres, dsn: x, retry_base_ms: 500, retry_max_ms: 100}\n", "target",
       "retry_base_ms is greater than retry_max_ms"},
      {kCsv + std::string(kPgSource), "target: {kind: postgres, dsn: x, retries: 3}\n", "target",
       "unknown key 'retries'"},
  };
  for (const Case& c : cases) {
    Parse(c.sources, c.target);
    EXPECT_TRUE(Has(c.path, c.message)) << c.sources << c.target << "expected " << c.path << ": "
                                        << c.message << "\ngot:" << Dump();
  }
}

}  // namespace
}  // namespace sluice
