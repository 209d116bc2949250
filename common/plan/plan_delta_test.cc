// Issue 18: `incremental` and `deletions` of a source, read back, and every
// mistake refused at its YAML path.
#include "common/plan/plan_test_util.h"

namespace sluice {
namespace {

using plan_testing::Dump;
using plan_testing::PlanTest;
using plan_testing::PlanWith;

class PlanDeltaTest : public PlanTest {
 protected:
  Plan Parse(const std::string& crm, std::vector<PlanIssue>* issues) {
    return ParsePlan(PlanWith({{"sources",
                                "sources:\n  crm: {kind: csv, path: data/crm.csv, "
                                "key: hcp_id" +
                                    crm +
                                    "}\n  erp: {kind: sqlite, path: data/erp.db, "
                                    "table: doctors, key: doc_id}\n"}}),
                     Dir(), issues);
  }
  // The single issue of `crm`'s settings, "path: message".
  std::string IssueOf(const std::string& crm) {
    std::vector<PlanIssue> issues;
    Parse(crm, &issues);
    return issues.size() == 1 ? issues[0].ToString() : "not one issue:" + Dump(issues);
  }
};

TEST_F(PlanDeltaTest, DefaultsReadEverythingAndReportDeletions) {
  std::vector<PlanIssue> issues;
  Plan plan = Parse("", &issues);
  ASSERT_TRUE(issues.empty()) << Dump(issues);
  const SourceSpec* crm = plan.FindSource("crm");
  EXPECT_EQ(crm->incremental_column, "");
  EXPECT_EQ(crm->deletions, SourceSpec::Deletions::kReport);
  EXPECT_EQ(crm->soft_delete_field, "");
  EXPECT_FALSE(crm->extract_above.has_value());
  EXPECT_EQ(crm->options.count("incremental"), 0u);
}

TEST_F(PlanDeltaTest, ReadsIncrementalAndDeletions) {
  std::vector<PlanIssue> issues;
  Plan plan = Parse(", incremental: {column: upd}, deletions: propagate", &issues);
  ASSERT_TRUE(issues.empty()) << Dump(issues);
  EXPECT_EQ(plan.FindSource("crm")->incremental_column, "upd");
  EXPECT_EQ(plan.FindSource("crm")->deletions, SourceSpec::Deletions::kPropagate);
  plan = Parse(", deletions: ignore", &issues);
  EXPECT_EQ(plan.FindSource("crm")->deletions, SourceSpec::Deletions::kIgnore);
}

TEST_F(PlanDeltaTest, RefusesMistakesAtTheirPath) {
  EXPECT_EQ(IssueOf(", incremental: updated_at"), "sources.crm.incremental: must be a mapping");
  EXPECT_EQ(IssueOf(", incremental: {}"), "sources.crm.incremental.column: missing");
  EXPECT_EQ(IssueOf(", incremental: {column: upd, by: x}"),
            "sources.crm.incremental: unknown key 'by'");
  EXPECT_EQ(IssueOf(", incremental: {column: hcp_id}"),
            "sources.crm.incremental.column: is the key column; name a column that grows with "
            "every change (updated_at)");
  EXPECT_EQ(IssueOf(", deletions: purge"),
            "sources.crm.deletions: must be report, propagate or ignore");
  EXPECT_EQ(IssueOf(", deletions: {mode: erase}"),
            "sources.crm.deletions.mode: must be report, propagate or ignore");
  EXPECT_EQ(IssueOf(", deletions: {mode: report, soft_delete: updated_at}"),
            "sources.crm.deletions.soft_delete: only with mode: propagate");
  EXPECT_EQ(IssueOf(", deletions: {mode: propagate, soft_delete: gone}"),
            "sources.crm.deletions.soft_delete: entity hcp has no field 'gone'");
  EXPECT_EQ(IssueOf(", deletions: {mode: propagate, soft_delete: last_name}"),
            "sources.crm.deletions.soft_delete: field hcp.last_name must be a timestamp or a "
            "date");
}

TEST_F(PlanDeltaTest, SoftDeleteNamesAnOptionalTimestamp) {
  std::vector<PlanIssue> issues;
  Plan plan = Parse(", deletions: {mode: propagate, soft_delete: updated_at}", &issues);
  ASSERT_TRUE(issues.empty()) << Dump(issues);
  const SourceSpec* crm = plan.FindSource("crm");
  ASSERT_NE(crm, nullptr);
  EXPECT_EQ(crm->deletions, SourceSpec::Deletions::kPropagate);
  EXPECT_EQ(crm->soft_delete_field, "updated_at");
}

}  // namespace
}  // namespace sluice
