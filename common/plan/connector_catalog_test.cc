// The plan parser asks a ConnectorCatalog about kinds and names none: with
// a catalog of made-up kinds, sources and targets of those kinds parse, their
// keys and checks apply, and every other kind is unknown.
#include "common/plan/connector_catalog.h"

#include <gtest/gtest.h>

#include "common/plan/plan_test_util.h"

namespace sluice {
namespace plan_testing {
namespace {

// `sheet` files (a source) and a `ledger` server (a source and a target).
ConnectorCatalog MadeUpKinds(std::vector<std::string>* checked) {
  ConnectorKind sheet;
  sheet.name = "sheet";
  sheet.source = ConnectorRole{{"tab", "skip_rows"}, [checked](ConnectorSettings& s) {
                                 checked->push_back(s.yaml_path() + " " + s.path());
                                 if (auto n = s.Int("skip_rows"); n && *n > 9) {
                                   s.Issue("skip_rows", "at most 9");
                                 }
                                 if (s.options().count("tab") && s.options().at("tab") == "") {
                                   s.Issue("", "an empty tab");
                                 }
                               }};
  ConnectorKind ledger;
  ledger.name = "ledger";
  ledger.server = true;
  ledger.dsn_help = "ledger://host";
  ledger.source = ConnectorRole{{"book"}, nullptr};
  ledger.target = ConnectorRole{{"book", "strict"}, [checked](ConnectorSettings& s) {
                                  checked->push_back(s.yaml_path());
                                  (void)s.Bool("strict", "must be yes or no");
                                }};
  return ConnectorCatalog({sheet, ledger});
}

class ConnectorCatalogTest : public PlanTest {
 protected:
  Plan Parse(const std::string& sources, const std::string& target) {
    issues_.clear();
    return ParsePlan(PlanWith({{"sources", "sources:\n" + sources}, {"target", target}}), Dir(),
                     &issues_, "", catalog_);
  }
  bool Has(const std::string& path, const std::string& message) const {
    for (const PlanIssue& i : issues_) {
      if (i.path == path && i.message == message) return true;
    }
    return false;
  }

  std::vector<std::string> checked_;
  ConnectorCatalog catalog_ = MadeUpKinds(&checked_);
  std::vector<PlanIssue> issues_;
};

constexpr char kSources[] =
    "  crm: {kind: sheet, path: data/crm.csv, key: hcp_id, skip_rows: 0x2}\n"
    "  erp: {kind: ledger, dsn: 'ledger://erp', book: main, key: doc_id}\n";
constexpr char kTarget[] = "target: {kind: ledger, dsn: 'ledger://mdm', strict: yes}\n";

TEST_F(ConnectorCatalogTest, KindsOfTheCatalogParseAndTheirChecksRun) {
  Plan plan = Parse(kSources, kTarget);
  ASSERT_TRUE(issues_.empty()) << Dump(issues_);
  EXPECT_EQ(checked_, (std::vector<std::string>{"sources.crm " + At("data/crm.csv"), "target"}));
  const SourceSpec* crm = plan.FindSource("crm");
  ASSERT_NE(crm, nullptr);
  EXPECT_EQ(crm->Option("skip_rows"), "2");  // Int wrote it back in decimal
  const SourceSpec* erp = plan.FindSource("erp");
  ASSERT_NE(erp, nullptr);
  EXPECT_EQ(erp->path, "");
  EXPECT_EQ(erp->Option("dsn"), "ledger://erp");
  EXPECT_EQ(plan.target.kind, "ledger");
  EXPECT_EQ(plan.target.options.at("strict"), "true");  // Bool wrote it back
}

TEST_F(ConnectorCatalogTest, TheKindsChecksReportAtTheirPaths) {
  Parse("  crm: {kind: sheet, path: data/crm.csv, key: hcp_id, skip_rows: 12, tab: ''}\n",
        "target: {kind: ledger, dsn: x, strict: perhaps}\n");
  EXPECT_TRUE(Has("sources.crm.skip_rows", "at most 9")) << Dump(issues_);
  EXPECT_TRUE(Has("sources.crm", "an empty tab")) << Dump(issues_);
  EXPECT_TRUE(Has("target.strict", "must be yes or no")) << Dump(issues_);
}

TEST_F(ConnectorCatalogTest, UnknownKindsListTheKnownOnes) {
  // csv and sqlite are kinds of the build, not of this catalog.
  Parse("  crm: {kind: csv, path: data/crm.csv, key: hcp_id}\n",
        "target: {kind: sheet, path: out/t.db}\n");
  EXPECT_TRUE(Has("sources.crm.kind", "unknown source kind 'csv' (known: ledger, sheet)"))
      << Dump(issues_);
  EXPECT_TRUE(Has("target.kind", "unknown target kind 'sheet' (known: ledger)")) << Dump(issues_);
  EXPECT_TRUE(checked_.empty());  // no kind, no kind's check
}

TEST_F(ConnectorCatalogTest, KeysOfAnotherKindOrOfNone) {
  Parse(
      "  crm: {kind: sheet, path: data/crm.csv, key: hcp_id, book: b, dsn: x, colour: red}\n"
      "  erp: {kind: ledger, dsn: y, key: doc_id, tab: t, path: data/erp.db}\n",
      "target: {kind: ledger, dsn: z, tab: t}\n");
  EXPECT_TRUE(Has("sources.crm.book", "only for ledger sources")) << Dump(issues_);
  EXPECT_TRUE(Has("sources.crm.dsn", "only for ledger sources")) << Dump(issues_);
  EXPECT_TRUE(Has("sources.crm", "unknown key 'colour'")) << Dump(issues_);
  EXPECT_TRUE(Has("sources.erp.tab", "only for sheet sources")) << Dump(issues_);
  EXPECT_TRUE(Has("sources.erp.path", "not used by a ledger source (it connects with 'dsn')"))
      << Dump(issues_);
  EXPECT_TRUE(Has("target", "unknown key 'tab'")) << Dump(issues_);  // no target kind takes it
}

TEST_F(ConnectorCatalogTest, ServerKindsNeedTheirDsn) {
  Parse(kSources, "target: {kind: ledger}\n");
  EXPECT_TRUE(Has("target.dsn", "missing (ledger://host)")) << Dump(issues_);
}

TEST(ConnectorCatalog, FindsKindsByRole) {
  std::vector<std::string> checked;
  ConnectorCatalog catalog = MadeUpKinds(&checked);
  EXPECT_EQ(catalog.SourceKinds(), (std::vector<std::string>{"ledger", "sheet"}));
  EXPECT_EQ(catalog.TargetKinds(), (std::vector<std::string>{"ledger"}));
  EXPECT_NE(catalog.FindSource("sheet"), nullptr);
  EXPECT_EQ(catalog.FindTarget("sheet"), nullptr);
  EXPECT_EQ(catalog.FindSource("csv"), nullptr);
  EXPECT_TRUE(ConnectorCatalog().SourceKinds().empty());
}

}  // namespace
}  // namespace plan_testing
}  // namespace sluice
