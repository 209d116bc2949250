// Issue 3: mistakes in an environment's overrides are reported where they
// are written (`environments.prod.target.path`), and `plan check` records a
// secret it cannot resolve as a note instead of an issue.
#include <cstdlib>

#include "common/plan/plan_test_util.h"

namespace sluice {
namespace {

using plan_testing::Dump;
using plan_testing::PlanTest;
using plan_testing::PlanWith;

class PlanEnvCheckTest : public PlanTest {
 protected:
  static bool Has(const std::vector<PlanIssue>& issues, const std::string& path,
                  const std::string& message) {
    for (const PlanIssue& i : issues) {
      if (i.path == path && i.message.find(message) != std::string::npos) return true;
    }
    return false;
  }
};

TEST_F(PlanEnvCheckTest, AMistakeInAnOverrideIsReportedUnderItsEnvironment) {
  const std::string text = PlanWith({}) + R"y(environments:
  sandbox:
    target: {path: out/sandbox.db}
    batch_size: 0
  prod:
    sources:
      crm: {path: data/missing.csv, delimiter: ";;"}
    target: {kind: postgres, dsn: ""}
)y";
  std::vector<PlanIssue> base;
  ParsePlan(text, Dir(), &base);
  EXPECT_TRUE(base.empty()) << Dump(base);

  std::vector<PlanIssue> sandbox;
  ParsePlan(text, Dir(), &sandbox, "sandbox");
  EXPECT_TRUE(Has(sandbox, "environments.sandbox.batch_size", "must be between 1 and 1000000"))
      << Dump(sandbox);
  EXPECT_EQ(sandbox.size(), 1u) << Dump(sandbox);

  std::vector<PlanIssue> prod;
  ParsePlan(text, Dir(), &prod, "prod");
  EXPECT_TRUE(Has(prod, "environments.prod.sources.crm.path", "file not found")) << Dump(prod);
  EXPECT_TRUE(Has(prod, "environments.prod.sources.crm.delimiter", "must be a single character"))
      << Dump(prod);
  EXPECT_TRUE(Has(prod, "environments.prod.target.dsn", "must not be empty")) << Dump(prod);
  // `target.path` is written in the plan itself: the environment's kind
  // makes it wrong, but it is reported where it is written.
  EXPECT_TRUE(Has(prod, "target.path", "not used by a postgres target")) << Dump(prod);
  EXPECT_EQ(prod.size(), 4u) << Dump(prod);
}

TEST_F(PlanEnvCheckTest, AMistakeInThePlanItselfKeepsItsPath) {
  const std::string text = PlanWith({{"top", "name: t\nbatch_size: -1\n"}}) + R"y(environments:
  prod:
    target: {path: out/prod.db}
)y";
  std::vector<PlanIssue> prod;
  ParsePlan(text, Dir(), &prod, "prod");
  EXPECT_TRUE(Has(prod, "batch_size", "must be between 1 and 1000000")) << Dump(prod);
}

TEST_F(PlanEnvCheckTest, AnUnresolvableSecretIsANoteWhenChecking) {
  ::unsetenv("SLUICE_ENV_CHECK_SECRET");
  const std::string text = PlanWith({}) + R"y(environments:
  prod:
    sources:
      crm: {query: "SELECT '${env:SLUICE_ENV_CHECK_SECRET}'", kind: sqlite, path: data/erp.db}
  other:
    target: {path: "${file:missing-secret.txt}"}
)y";
  std::vector<PlanIssue> issues, notes;
  ParsePlanForCheck(text, Dir(), &issues, &notes, "prod");
  EXPECT_TRUE(issues.empty()) << Dump(issues);
  ASSERT_EQ(notes.size(), 1u) << Dump(notes);
  EXPECT_EQ(notes[0].ToString(),
            "environments.prod.sources.crm.query: secret ${env:SLUICE_ENV_CHECK_SECRET}: "
            "environment "
            "variable SLUICE_ENV_CHECK_SECRET is not set");
  // What depends on the unresolved value is not reported as well: the
  // note says why it could not be checked.
  issues.clear();
  notes.clear();
  ParsePlanForCheck(text, Dir(), &issues, &notes, "other");
  EXPECT_TRUE(issues.empty()) << Dump(issues);
  EXPECT_TRUE(Has(notes, "environments.other.target.path", "cannot read")) << Dump(notes);

  // A run (ParsePlan) still refuses it.
  std::vector<PlanIssue> run;
  ParsePlan(text, Dir(), &run, "prod");
  EXPECT_TRUE(Has(run, "environments.prod.sources.crm.query", "is not set")) << Dump(run);
  // A malformed reference is a mistake even when checking.
  issues.clear();
  notes.clear();
  ParsePlanForCheck(PlanWith({}) + "environments:\n  p:\n    name: \"${env:OOPS\"\n", Dir(),
                    &issues, &notes, "p");
  EXPECT_TRUE(Has(issues, "environments.p.name", "has no closing '}'")) << Dump(issues);
  EXPECT_TRUE(notes.empty()) << Dump(notes);
}

}  // namespace
}  // namespace sluice
