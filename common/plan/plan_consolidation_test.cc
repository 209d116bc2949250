// Plan features of consolidations: wave order from references, cycles,
// source checks, environments, secrets and the production window.
#include <cstdlib>

#include "common/plan/plan_test_util.h"

namespace sluice {
namespace {

using plan_testing::Dump;
using plan_testing::PlanTest;
using plan_testing::PlanWith;

// Parses `text` in the fixture's folder.
struct Parsed {
  Plan plan;
  std::vector<PlanIssue> issues;
};

class PlanConsolidationTest : public PlanTest {
 protected:
  Parsed Parse(const std::string& text, const std::string& env = "") {
    Parsed p;
    p.plan = ParsePlan(text, Dir(), &p.issues, env);
    return p;
  }
  // True when some issue has exactly `path` and contains `message`.
  static bool Has(const Parsed& p, const std::string& path, const std::string& message) {
    for (const PlanIssue& i : p.issues) {
      if (i.path == path && i.message.find(message) != std::string::npos) return true;
    }
    return false;
  }
};

constexpr char kThreeEntities[] = R"y(model:
  entities:
    interaction:
      fields:
        id: {type: string, required: true}
        hcp_ref: {type: reference, entity: hcp}
        account_ref: {type: reference, entity: account}
    account:
      fields:
        name: {type: string}
    hcp:
      fields:
        national_id: {type: string}
        parent_id: {type: reference, entity: hcp}
)y";

std::string ThreeEntityPlan(const std::string& waves) {
  return PlanWith({{"model", kThreeEntities},
                   {"mappings", R"y(mappings:
  - {entity: hcp, source: crm, fields: {national_id: nat_id}}
  - {entity: account, source: crm, fields: {name: acc}}
  - {entity: interaction, source: crm, fields: {id: iid, hcp_ref: h, account_ref: a}}
)y"},
                   {"dedup", ""},
                   {"validation", ""},
                   {"waves", waves}});
}

TEST_F(PlanConsolidationTest, WaveOrderFollowsReferencesWithParallelGroups) {
  Parsed p =
      Parse(ThreeEntityPlan("waves:\n  - {name: all, entities: [interaction, account, hcp]}\n"));
  ASSERT_TRUE(p.issues.empty()) << Dump(p.issues);
  ASSERT_EQ(p.plan.waves.size(), 1u);
  EXPECT_EQ(p.plan.waves[0].entities, (std::vector<std::string>{"account", "hcp", "interaction"}));
  ASSERT_EQ(p.plan.waves[0].groups.size(), 2u);
  EXPECT_EQ(p.plan.waves[0].groups[0], (std::vector<std::string>{"account", "hcp"}));
  EXPECT_EQ(p.plan.waves[0].groups[1], (std::vector<std::string>{"interaction"}));
}

// The loader counts every dedup shard's output batches (BatchRange
// stream_batches): a self-reference runs on several shards.
TEST_F(PlanConsolidationTest, SelfReferenceOnSeveralDedupShardsIsAccepted) {
  const std::string waves = "waves:\n  - {name: all, entities: [interaction, account, hcp]}\n";
  std::string text = ThreeEntityPlan(waves);
  text.replace(text.find("name: t\n"), 8, "name: t\ndedup_shards: 2\n");
  Parsed p = Parse(text);
  EXPECT_TRUE(p.issues.empty()) << Dump(p.issues);
  EXPECT_EQ(p.plan.dedup_shards, 2);
}

TEST_F(PlanConsolidationTest, ChildBeforeParentIsRefused) {
  Parsed p =
      Parse(ThreeEntityPlan("waves:\n  - {name: first, entities: [account, interaction]}\n"
                            "  - {name: second, entities: [hcp]}\n"));
  EXPECT_TRUE(Has(p, "waves[0].entities[1]", "references 'hcp', which loads in a later wave"))
      << Dump(p.issues);
}

TEST_F(PlanConsolidationTest, WaveNamingUnknownEntityIsRefused) {
  Parsed p = Parse(
      ThreeEntityPlan("waves:\n  - {name: first, entities: [account, hcp, interaction, visit]}\n"));
  EXPECT_TRUE(Has(p, "waves[0].entities[3]", "unknown entity 'visit'")) << Dump(p.issues);
}

TEST_F(PlanConsolidationTest, ReferenceCycleIsAnErrorNamingTheCycle) {
  std::string model = R"y(model:
  entities:
    hcp:
      fields:
        national_id: {type: string}
        account_ref: {type: reference, entity: account}
    account:
      fields:
        name: {type: string}
        hcp_ref: {type: reference, entity: hcp}
)y";
  Parsed p = Parse(PlanWith({{"model", model},
                             {"mappings",
                              "mappings:\n  - {entity: hcp, source: crm, fields: "
                              "{national_id: n}}\n  - {entity: account, source: crm, "
                              "fields: {name: n}}\n"},
                             {"dedup", ""},
                             {"validation", ""},
                             {"waves", "waves:\n  - {name: all, entities: [hcp, account]}\n"}}));
  bool named = false;
  for (const PlanIssue& i : p.issues) {
    named = named || i.message.find("reference cycle: ") != std::string::npos;
  }
  EXPECT_TRUE(named) << Dump(p.issues);
  EXPECT_TRUE(Has(p, "model.entities.account.fields.hcp_ref.entity",
                  "reference cycle: hcp -> account -> hcp"))
      << Dump(p.issues);
}

TEST_F(PlanConsolidationTest, MissingSqliteTableIsReported) {
  Parsed p = Parse(PlanWith({{"sources", R"y(sources:
  crm: {kind: csv, path: data/crm.csv, key: hcp_id}
  erp: {kind: sqlite, path: data/erp.db, table: doctorz, key: doc_id}
)y"}}));
  EXPECT_TRUE(Has(p, "sources.erp.table", "table 'doctorz' not found in")) << Dump(p.issues);
}

TEST_F(PlanConsolidationTest, JsonlSourceAndNestedColumns) {
  Write("data/eu.jsonl", "{\"id\": \"1\", \"address\": {\"city\": \"Lyon\"}}\n");
  Parsed p = Parse(PlanWith({{"sources", R"y(sources:
  crm: {kind: csv, path: data/crm.csv, key: hcp_id}
  eu: {kind: jsonl, path: data/eu.jsonl, key: id}
)y"},
                             {"mappings", R"y(mappings:
  - entity: hcp
    source: eu
    fields:
      national_id: id
      last_name: address.city
  - entity: account
    source: crm
    fields:
      name: acc
)y"}}));
  EXPECT_TRUE(p.issues.empty()) << Dump(p.issues);
}

TEST_F(PlanConsolidationTest, EnvironmentOverridesTargetAndIsRecorded) {
  std::string text = PlanWith({}) + R"y(environments:
  sandbox:
    target: {path: out/sandbox.db}
  prod:
    target: {path: out/prod.db}
    batch_size: 100
)y";
  Parsed base = Parse(text);
  ASSERT_TRUE(base.issues.empty()) << Dump(base.issues);
  EXPECT_EQ(base.plan.target.path, At("out/target.db"));
  EXPECT_EQ(base.plan.environment_names, (std::vector<std::string>{"sandbox", "prod"}));
  Parsed prod = Parse(text, "prod");
  ASSERT_TRUE(prod.issues.empty()) << Dump(prod.issues);
  EXPECT_EQ(prod.plan.environment, "prod");
  EXPECT_EQ(prod.plan.target.path, At("out/prod.db"));
  EXPECT_EQ(prod.plan.target.kind, "sqlite");  // merged, not replaced
  EXPECT_EQ(prod.plan.batch_size, 100);
  EXPECT_NE(prod.plan.content_hash, base.plan.content_hash);
  // Workers parse the shipped text without an environment and see the same plan.
  std::vector<PlanIssue> issues;
  Plan again = ParsePlan(prod.plan.yaml_text, Dir(), &issues);
  EXPECT_TRUE(issues.empty()) << Dump(issues);
  EXPECT_EQ(again.target.path, At("out/prod.db"));
  EXPECT_EQ(again.batch_size, 100);

  Parsed unknown = Parse(text, "staging");
  EXPECT_TRUE(
      Has(unknown, "environments", "unknown environment 'staging' (defined: sandbox, prod)"))
      << Dump(unknown.issues);
  Parsed typo = Parse(PlanWith({}) + "environments:\n  prod: {targt: {path: x.db}}\n");
  EXPECT_TRUE(Has(typo, "environments.prod", "unknown key 'targt'")) << Dump(typo.issues);
}

TEST_F(PlanConsolidationTest, SecretsResolveAndStayOutOfTheShippedText) {
  ::setenv("SLUICE_PLAN_TEST_SECRET", "hunter2-env", 1);
  Write("secret.txt", "hunter2-file\n");
  std::string text = PlanWith({{"sources", R"y(sources:
  crm: {kind: csv, path: data/crm.csv, key: hcp_id}
  erp: {kind: sqlite, path: data/erp.db, key: doc_id, query: "SELECT * FROM doctors WHERE '${env:SLUICE_PLAN_TEST_SECRET}' <> '${file:secret.txt}'"}
)y"}});
  Parsed p = Parse(text);
  ASSERT_TRUE(p.issues.empty()) << Dump(p.issues);
  EXPECT_EQ(p.plan.FindSource("erp")->Option("query"),
            "SELECT * FROM doctors WHERE 'hunter2-env' <> 'hunter2-file'");
  EXPECT_EQ(p.plan.yaml_text.find("hunter2"), std::string::npos);
  EXPECT_EQ(p.plan.secret_values, (std::vector<std::string>{"hunter2-env", "hunter2-file"}));
  EXPECT_EQ(RedactSecrets("dsn password=hunter2-env", p.plan.secret_values), "dsn password=***");

  ::unsetenv("SLUICE_PLAN_TEST_SECRET");
  Parsed missing = Parse(text);
  EXPECT_TRUE(Has(missing, "sources.erp.query",
                  "secret ${env:SLUICE_PLAN_TEST_SECRET}: environment variable "
                  "SLUICE_PLAN_TEST_SECRET is not set"))
      << Dump(missing.issues);
}

TEST_F(PlanConsolidationTest, WindowPerEnvironment) {
  std::string text = PlanWith({}) + R"y(environments:
  prod:
    window: {start: "03:00", end: "06:00", tz: America/New_York}
  sandbox:
)y";
  Parsed sandbox = Parse(text, "sandbox");
  ASSERT_TRUE(sandbox.issues.empty()) << Dump(sandbox.issues);
  EXPECT_FALSE(sandbox.plan.window.has_value());
  Parsed prod = Parse(text, "prod");
  ASSERT_TRUE(prod.issues.empty()) << Dump(prod.issues);
  ASSERT_TRUE(prod.plan.window.has_value());
  EXPECT_EQ(prod.plan.window->start_minute, 180);
  EXPECT_EQ(prod.plan.window->end_minute, 360);
  EXPECT_EQ(prod.plan.window->tz, "America/New_York");

  Parsed bad = Parse(PlanWith({}) + "window: {start: \"3h\", end: \"06:00\", tz: Mars/Olympus}\n");
  EXPECT_TRUE(Has(bad, "window.start", "must be a time of day HH:MM")) << Dump(bad.issues);
  EXPECT_TRUE(Has(bad, "window.tz", "unknown time zone 'Mars/Olympus'")) << Dump(bad.issues);
}

}  // namespace
}  // namespace sluice
