// Issue 19: `pii: {mode, key, shapes}` in the plan or an environment, refused
// at its YAML path when malformed, and the ways around the mask refused.
#include <cstdlib>

#include "common/plan/plan_test_util.h"

namespace sluice {
namespace {

using plan_testing::Dump;
using plan_testing::PlanTest;
using plan_testing::PlanWith;

constexpr char kKey[] = "SLUICE_PLAN_PII_TEST_KEY";

// The sample plan with first_name, last_name, email and birth_date of hcp
// marked pii (email filled by an `email: true` mapping), and `pii` as given.
std::string PiiPlan(const std::string& pii, const std::string& mappings = "") {
  return PlanWith({{"model", R"y(model:
  entities:
    hcp:
      fields:
        national_id: {type: string, required: true, max_length: 20}
        last_name: {type: string, required: true, pii: true}
        first_name: {type: string, pii: true}
        birth_date: {type: date, pii: true}
        email: {type: string, pii: true}
        parent_id: {type: reference, entity: hcp}
    account:
      fields:
        name: {type: string, required: true}
        hcp_id: {type: reference, entity: hcp}
)y"},
                   {"mappings", mappings.empty() ? R"y(mappings:
  - entity: hcp
    source: crm
    fields:
      national_id: nat_id
      last_name: {from: last}
      email: {from: mail, email: true}
  - entity: account
    source: erp
    fields:
      name: acc
)y"
                                                 : mappings},
                   {"top", "name: t\n" + pii}});
}

class PlanPiiTest : public PlanTest {
 protected:
  void SetUp() override {
    PlanTest::SetUp();
    setenv(kKey, "a-rehearsal-key-of-32-bytes-long", 1);
  }
  void TearDown() override {
    unsetenv(kKey);
    PlanTest::TearDown();
  }
  static bool Has(const std::vector<PlanIssue>& issues, const std::string& path,
                  const std::string& message) {
    for (const PlanIssue& i : issues) {
      if (i.path == path && i.message.find(message) != std::string::npos) return true;
    }
    return false;
  }
};

TEST_F(PlanPiiTest, ModeAndKeyFromAnEnvironment) {
  const std::string text =
      PiiPlan("") +
      "environments:\n  staging:\n    pii: {mode: pseudonymise, key: \"${env:" + kKey +
      "}\", shapes: {hcp.first_name: identifier}}\n  prod: ~\n";
  std::vector<PlanIssue> issues;
  Plan plain = ParsePlan(text, Dir(), &issues);
  EXPECT_TRUE(issues.empty()) << Dump(issues);
  EXPECT_FALSE(plain.pii.active());
  Plan staging = ParsePlan(text, Dir(), &issues, "staging");
  ASSERT_TRUE(issues.empty()) << Dump(issues);
  EXPECT_EQ(staging.pii.mode, PiiMode::kPseudonymise);
  EXPECT_EQ(staging.pii.key, "a-rehearsal-key-of-32-bytes-long");
  // Workers parse the shipped text: the key stays a reference there.
  EXPECT_EQ(staging.yaml_text.find("a-rehearsal-key"), std::string::npos);
  const Entity& hcp = *staging.model.Find("hcp");
  EXPECT_EQ(PiiShapeOf(staging, hcp, *hcp.Find("last_name")), PiiShape::kName);
  EXPECT_EQ(PiiShapeOf(staging, hcp, *hcp.Find("first_name")), PiiShape::kIdentifier);
  EXPECT_EQ(PiiShapeOf(staging, hcp, *hcp.Find("email")), PiiShape::kEmail);
  EXPECT_EQ(PiiShapeOf(staging, hcp, *hcp.Find("birth_date")), PiiShape::kDate);
}

TEST_F(PlanPiiTest, MalformedSettingsAreRefusedAtTheirPath) {
  struct Case {
    std::string pii, path, message;
  };
  const std::vector<Case> cases = {
      {"pii: {mode: hide}\n", "pii.mode", "unknown mode 'hide'"},
      {"pii: {mode: pseudonymise}\n", "pii.key", "missing"},
      {"pii: {mode: pseudonymise, key: \"${env:SLUICE_PLAN_PII_UNSET}\"}\n", "pii.key",
       "environment variable SLUICE_PLAN_PII_UNSET is not set"},
      {"pii: {mode: pseudonymise, key: written-in-the-plan-0123456789}\n", "pii.key",
       "must be a secret"},
      {"pii: {mode: drop, key: \"${env:" + std::string(kKey) + "}\"}\n", "pii.key",
       "only with mode: pseudonymise"},
      {"pii: {mode: drop, shapes: {hcp.national_id: identifier}}\n", "pii.shapes.hcp.national_id",
       "not marked pii"},
      {"pii: {mode: drop, shapes: {hcp.birth_date: name}}\n", "pii.shapes.hcp.birth_date",
       "does not fit a date field"},
      {"pii: {mode: drop, colour: red}\n", "pii", "colour"},
      {"pii: [drop]\n", "pii", "must be a mapping"},
  };
  for (const Case& c : cases) {
    std::vector<PlanIssue> issues;
    ParsePlan(PiiPlan(c.pii), Dir(), &issues);
    EXPECT_TRUE(Has(issues, c.path, c.message)) << c.pii << Dump(issues);
  }
  setenv(kKey, "k3y-5", 1);
  std::vector<PlanIssue> issues;
  ParsePlan(PiiPlan("pii: {mode: pseudonymise, key: \"${env:" + std::string(kKey) + "}\"}\n"),
            Dir(), &issues);
  EXPECT_TRUE(Has(issues, "pii.key", "at least 16 bytes, got 5")) << Dump(issues);
  for (const PlanIssue& i : issues) EXPECT_EQ(i.message.find("k3y-5"), std::string::npos);
}

TEST_F(PlanPiiTest, NoWayAroundTheMask) {
  const std::string mappings = R"y(mappings:
  - entity: hcp
    source: crm
    fields:
      national_id: last
      last_name: {from: last}
      first_name: hcp_id
  - entity: account
    source: erp
    fields:
      name: acc
)y";
  std::vector<PlanIssue> issues;
  ParsePlan(PiiPlan("pii: {mode: drop}\n", mappings), Dir(), &issues);
  EXPECT_TRUE(Has(issues, "mappings[0].fields.national_id",
                  "column last also fills pii field hcp.last_name"))
      << Dump(issues);
  EXPECT_TRUE(
      Has(issues, "mappings[0].fields.first_name", "column hcp_id is the key of source crm"))
      << Dump(issues);
  // Without a mode nothing is masked, so nothing is refused.
  issues.clear();
  ParsePlan(PiiPlan("", mappings), Dir(), &issues);
  EXPECT_TRUE(issues.empty()) << Dump(issues);
}

}  // namespace
}  // namespace sluice
