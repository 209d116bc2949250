// Hostile plans and expressions (issue 23): each limit of common/core/limits.h
// the plan parser enforces is refused with its location, quickly, and the
// inputs that crashed or hung it before are regression cases
// (tests/data/fuzz/, run from the source folder as ctest does).
#include <chrono>
#include <fstream>
#include <sstream>

#include "common/core/limits.h"
#include "common/core/redact.h"
#include "common/core/utf8.h"
#include "common/plan/expression.h"
#include "common/plan/plan_test_util.h"

namespace sluice {
namespace {

using plan_testing::Dump;
using plan_testing::PlanTest;
using plan_testing::PlanWith;

std::string Case(const std::string& name) {
  std::ifstream in("tests/data/fuzz/" + name, std::ios::binary);
  EXPECT_TRUE(in) << "tests/data/fuzz/" << name << " (run from the source folder)";
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool Has(const std::vector<PlanIssue>& issues, const std::string& path, const std::string& part) {
  for (const PlanIssue& i : issues) {
    if (i.path == path && i.message.find(part) != std::string::npos) return true;
  }
  return false;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Parses `text` as a plan, in under `seconds`.
std::vector<PlanIssue> ParseQuickly(const std::string& text, double seconds = 2) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<PlanIssue> issues;
  ParsePlan(text, "/nonexistent", &issues);
  EXPECT_LT(Seconds(t0), seconds);
  return issues;
}

TEST(PlanLimitsTest, AnAliasInsideItsOwnNodeIsRefused) {
  // Segfaulted `plan check`: every walk of the plan followed the cycle.
  std::vector<PlanIssue> issues = ParseQuickly(Case("yaml_self_alias.yaml"));
  EXPECT_TRUE(Has(issues, "", "alias *a at line 1, column 8 refers to a node that contains it"))
      << Dump(issues);
  issues.clear();
  ParseModel(Case("yaml_self_alias.yaml"), &issues);
  EXPECT_TRUE(Has(issues, "", "refers to a node that contains it")) << Dump(issues);
}

TEST(PlanLimitsTest, BillionLaughsAreRefusedQuickly) {
  // 10^10 nodes once the aliases are expanded; did not finish in 20 s.
  std::vector<PlanIssue> issues = ParseQuickly(Case("yaml_billion_laughs.yaml"));
  EXPECT_TRUE(Has(issues, "", "more than 200000 yaml nodes (an alias counts as a copy"))
      << Dump(issues);
}

TEST(PlanLimitsTest, AHugeFlowMappingIsRefusedBeforeItIsBuilt) {
  // 400k empty entries took 430 MB; 110k cross the limit, counted without
  // building a node.
  std::vector<PlanIssue> issues = ParseQuickly(Case("yaml_flow_map_110k.yaml"), 1);
  EXPECT_TRUE(Has(issues, "", "more than 200000 yaml nodes")) << Dump(issues);
}

TEST(PlanLimitsTest, DepthSizeAndEncodingAreLimited) {
  std::string deep = "x: ";
  for (int i = 0; i < 100; ++i) deep += "[";
  std::vector<PlanIssue> issues = ParseQuickly(deep);
  EXPECT_TRUE(Has(issues, "", "yaml nested deeper than 64 levels at line 1, column "))
      << Dump(issues);
  issues = ParseQuickly("name: x\n# " + std::string(limits::kMaxPlanBytes, 'x') + "\n");
  EXPECT_TRUE(Has(issues, "", "too large: 4194315 bytes (at most 4194304)")) << Dump(issues);
  issues = ParseQuickly("name: ok\nnote: \"caf\xe9\"\n");
  EXPECT_TRUE(Has(issues, "", "not valid UTF-8: byte 19 (line 2)")) << Dump(issues);
}

TEST(PlanLimitsTest, YamlErrorsStayValidUtf8) {
  // Found by fuzz/run: yaml-cpp quoted the first byte of "é" after a
  // backslash, and `plan check` printed (and a worker would have sent) it.
  std::vector<PlanIssue> issues = ParseQuickly(Case("yaml_escape_splits_a_character.yaml"));
  EXPECT_TRUE(Has(issues, "", "unknown escape character: \xEF\xBF\xBD")) << Dump(issues);
  for (const PlanIssue& i : issues) {
    EXPECT_EQ(FindInvalidUtf8(i.ToString()), std::string::npos) << i.ToString();
  }
}

class PlanSecretsTest : public PlanTest {};

TEST_F(PlanSecretsTest, ASecretOutsideSourcesAndTargetIsRefused) {
  // `sluice runs` printed the plan's name, and the audit store kept it.
  ::setenv("SLUICE_LIMITS_TEST_SECRET", "hunter3", 1);
  std::vector<PlanIssue> issues;
  Plan plan = ParsePlan(PlanWith({{"top", "name: \"run-${env:SLUICE_LIMITS_TEST_SECRET}\"\n"}}),
                        Dir(), &issues);
  EXPECT_TRUE(Has(issues, "name",
                  "a secret (${env:...}, ${file:...}) is allowed only in the "
                  "settings of a source or the target"))
      << Dump(issues);
  EXPECT_EQ(plan.name.find("hunter3"), std::string::npos);
  for (const PlanIssue& i : issues) EXPECT_EQ(i.ToString().find("hunter3"), std::string::npos);

  // Where secrets belong they resolve, and every log line of the process
  // then shows *** in their place.
  issues.clear();
  plan = ParsePlan(PlanWith({{"target",
                              "target: {kind: sqlite, path: "
                              "\"out/${env:SLUICE_LIMITS_TEST_SECRET}.db\"}\n"}}),
                   Dir(), &issues);
  EXPECT_TRUE(issues.empty()) << Dump(issues);
  EXPECT_NE(plan.target.path.find("hunter3"), std::string::npos);
  EXPECT_EQ(Redact("no such column: hunter3"), "no such column: ***");
  EXPECT_EQ(RedactSecrets("empty file: out/hunter3.db", {}), "empty file: out/***.db");
  ::unsetenv("SLUICE_LIMITS_TEST_SECRET");
}

Entity Flags() {
  Entity e;
  e.name = "hcp";
  ModelField active;
  active.name = "active";
  active.type = FieldType::kBool;
  ModelField beds;
  beds.name = "beds";
  beds.type = FieldType::kInt;
  e.fields = {active, beds};
  return e;
}

TEST(ExpressionLimitsTest, DeepNestingIsRefusedNotACrash) {
  // 7,000 parentheses (14 KB) segfaulted `plan check` and `run`; a `not`
  // chain crashed from about 100,000 deep, which the length limit now refuses,
  // and 3,000 deep is past the depth limit.
  const Entity entity = Flags();
  for (const char* name : {"expression_deep_parens.txt", "expression_deep_not.txt"}) {
    Result<Expression> e = Expression::Compile(Case(name), entity);
    ASSERT_FALSE(e.ok()) << name;
    EXPECT_NE(e.status().message().find("nested deeper than 100 levels"), std::string::npos)
        << e.status().message();
  }
  Result<Expression> ok =
      Expression::Compile(std::string(100, '(') + "active" + std::string(100, ')'), entity);
  EXPECT_TRUE(ok.ok()) << ok.status().message();
}

TEST(ExpressionLimitsTest, AFlatChainParsesInLinearTimeAndEvaluatesFlat) {
  // `a and a and ...` was quadratic (30k terms 4.5 s) and its syntax tree as
  // deep as the chain was long.
  const Entity entity = Flags();
  const std::string chain = Case("expression_flat_and.txt");
  auto t0 = std::chrono::steady_clock::now();
  Result<Expression> e = Expression::Compile(chain, entity);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_LT(Seconds(t0), 0.2);
  EXPECT_EQ(e->Evaluate({Value::Int(1), Value::Null()}, nullptr, 0), Truth::kTrue);
  EXPECT_EQ(e->Evaluate({Value::Int(0), Value::Null()}, nullptr, 0), Truth::kFalse);
  EXPECT_EQ(e->Evaluate({Value::Null(), Value::Null()}, nullptr, 0), Truth::kUnknown);

  // 100k terms: refused at once, by length.
  std::string longer = "active";
  for (int i = 1; i < 100000; ++i) longer += " or active";
  t0 = std::chrono::steady_clock::now();
  e = Expression::Compile(longer, entity);
  ASSERT_FALSE(e.ok());
  EXPECT_LT(Seconds(t0), 0.2);
  EXPECT_EQ(e.status().message(),
            "position 1: the expression is too long: 999996 bytes (at most 16384)");
}

TEST(ExpressionLimitsTest, AndOrKeepSqlLogicOverManyOperands) {
  const Entity entity = Flags();
  auto eval = [&](const std::string& text, std::vector<Value> values) {
    Result<Expression> e = Expression::Compile(text, entity);
    EXPECT_TRUE(e.ok()) << e.status().message();
    return e.ok() ? e->Evaluate(values, nullptr, 0) : Truth::kUnknown;
  };
  const std::vector<Value> null_beds = {Value::Int(1), Value::Null()};
  EXPECT_EQ(eval("active and beds > 1 and active", null_beds), Truth::kUnknown);
  EXPECT_EQ(eval("active and beds > 1 and not active", null_beds), Truth::kFalse);
  EXPECT_EQ(eval("not active or beds > 1 or active", null_beds), Truth::kTrue);
  EXPECT_EQ(eval("not active or beds > 1 or not active", null_beds), Truth::kUnknown);
  EXPECT_EQ(eval("not active or not active or not active", null_beds), Truth::kFalse);
  Result<Expression> bad = Expression::Compile("active and beds and active", entity);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "position 12: 'and' needs a condition, not a number");
  bad = Expression::Compile("beds and active", entity);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "position 1: 'and' at position 6 needs a condition, not a number");
}

}  // namespace
}  // namespace sluice
