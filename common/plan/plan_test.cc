#include <gtest/gtest.h>

#include "common/plan/plan_test_util.h"

namespace sluice {
namespace plan_testing {
namespace {

TEST_F(PlanTest, PlanLoadsEveryFeature) {
  Write("model.yaml", kModel);
  Write("plan.yaml", kPlan);
  Result<Plan> loaded = LoadPlan(At("plan.yaml"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const Plan& plan = *loaded;

  EXPECT_EQ(plan.name, "quickstart");
  EXPECT_EQ(plan.path, At("plan.yaml"));
  EXPECT_EQ(plan.base_dir, Dir());
  EXPECT_EQ(plan.batch_size, 500);
  EXPECT_EQ(plan.state_dir, At(".sluice"));
  EXPECT_EQ(plan.yaml_text, kPlan);
  EXPECT_EQ(plan.content_hash.size(), 16u);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Hash64(kModel)));
  EXPECT_EQ(plan.model.content_hash, hex);

  // The model: fields in document order, not sorted.
  ASSERT_EQ(plan.model.entities.size(), 1u);
  const Entity& hcp = plan.model.entities[0];
  EXPECT_EQ(hcp.description, "healthcare professional");
  std::vector<std::string> names;
  for (const ModelField& f : hcp.fields) names.push_back(f.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"national_id", "last_name", "first_name", "email", "phone",
                                      "revenue", "birth_date", "updated_at", "active", "specialty",
                                      "parent_id", "country", "count"}));
  const ModelField* nid = hcp.Find("national_id");
  ASSERT_NE(nid, nullptr);
  EXPECT_TRUE(nid->required);
  EXPECT_TRUE(nid->pii);
  EXPECT_EQ(nid->max_length, 20);
  EXPECT_EQ(nid->owner, "MDM team");
  EXPECT_EQ(nid->description, "national id");
  EXPECT_EQ(hcp.Find("email")->type, FieldType::kString);
  const ModelField* revenue = hcp.Find("revenue");
  EXPECT_EQ(revenue->type, FieldType::kDecimal);
  EXPECT_EQ(revenue->precision, 12);
  EXPECT_EQ(revenue->scale, 2);
  EXPECT_EQ(hcp.Find("birth_date")->type, FieldType::kDate);
  EXPECT_EQ(hcp.Find("updated_at")->type, FieldType::kTimestamp);
  EXPECT_EQ(hcp.Find("active")->type, FieldType::kBool);
  EXPECT_EQ(hcp.Find("count")->type, FieldType::kInt);
  EXPECT_EQ(hcp.Find("specialty")->enum_values,
            (std::vector<std::string>{"cardiology", "general_practice"}));
  EXPECT_EQ(hcp.Find("parent_id")->type, FieldType::kReference);
  EXPECT_EQ(hcp.Find("parent_id")->references, "hcp");
  EXPECT_EQ(hcp.Find("nope"), nullptr);
  EXPECT_EQ(plan.model.Find("hcp"), &hcp);
  EXPECT_EQ(plan.model.Find("nope"), nullptr);

  Schema schema = hcp.ToSchema();
  ASSERT_EQ(schema.fields.size(), hcp.fields.size());
  EXPECT_EQ(schema.fields[5].name, "revenue");
  EXPECT_EQ(schema.fields[5].type, FieldType::kDecimal);
  EXPECT_EQ(schema.fields[5].precision, 12);
  EXPECT_EQ(schema.fields[5].scale, 2);

  // Sources: paths resolved, other settings as text.
  ASSERT_EQ(plan.sources.size(), 2u);
  const SourceSpec* crm = plan.FindSource("crm");
  ASSERT_NE(crm, nullptr);
  EXPECT_EQ(crm->kind, "csv");
  EXPECT_EQ(crm->path, At("data/crm.csv"));
  EXPECT_EQ(crm->yaml_path, "sources.crm");
  EXPECT_EQ(crm->Option("key"), "hcp_id");
  EXPECT_EQ(crm->Option("delimiter"), ";");
  EXPECT_EQ(crm->Option("header"), "true");
  EXPECT_EQ(crm->Option("quote", "\""), "\"");
  EXPECT_EQ(crm->options.count("kind"), 0u);
  const SourceSpec* erp = plan.FindSource("erp");
  ASSERT_NE(erp, nullptr);
  EXPECT_EQ(erp->Option("table"), "doctors");
  EXPECT_EQ(plan.FindSource("sap"), nullptr);

  // Mappings.
  ASSERT_EQ(plan.mappings.size(), 2u);
  const Mapping* m = plan.FindMapping("hcp", "crm");
  ASSERT_EQ(m, &plan.mappings[0]);
  EXPECT_EQ(m->yaml_path, "mappings[0]");
  ASSERT_EQ(m->fields.size(), 9u);
  EXPECT_EQ(m->fields[0].target, "national_id");
  EXPECT_EQ(m->fields[0].from, "nat_id");
  EXPECT_TRUE(m->fields[0].trim);
  EXPECT_EQ(m->fields[0].yaml_path, "mappings[0].fields.national_id");
  EXPECT_FALSE(m->fields[1].trim);
  EXPECT_EQ(m->fields[3].formats, (std::vector<std::string>{"%d/%m/%Y"}));
  EXPECT_EQ(m->fields[4].formats.size(), 2u);
  EXPECT_TRUE(m->fields[5].has_value_map);
  EXPECT_EQ(m->fields[5].value_map.at("GP"), "general_practice");
  EXPECT_FALSE(m->fields[0].has_value_map);
  EXPECT_EQ(m->fields[6].from, "");
  EXPECT_EQ(m->fields[6].default_value, "FR");
  EXPECT_EQ(m->fields[7].true_values, std::vector<std::string>{"Y"});
  EXPECT_EQ(m->fields[7].false_values, std::vector<std::string>{"N"});
  EXPECT_EQ(m->fields[8].decimal_point, ',');
  EXPECT_EQ(m->fields[8].group_separator, '.');
  EXPECT_EQ(m->fields[0].decimal_point, '.');
  EXPECT_EQ(m->fields[0].group_separator, '\0');
  EXPECT_EQ(plan.FindMapping("hcp", "sap"), nullptr);
  auto all = plan.MappingsFor("hcp");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1]->source, "erp");

  // Dedup.
  const DedupSpec& dedup = plan.dedup.at("hcp");
  EXPECT_EQ(dedup.key_fields, (std::vector<std::string>{"national_id", "last_name"}));
  EXPECT_EQ(dedup.source_priority, (std::vector<std::string>{"erp", "crm"}));
  EXPECT_EQ(dedup.most_recent_field, "updated_at");
  EXPECT_EQ(dedup.yaml_path, "dedup.hcp");

  // Validation rules, in order.
  const std::vector<RuleSpec>& rules = plan.rules.at("hcp");
  ASSERT_EQ(rules.size(), 7u);
  EXPECT_EQ(rules[0].kind, "regex");
  EXPECT_EQ(rules[0].pattern, "^[^@]+@[^@]+$");
  EXPECT_EQ(rules[0].severity, "warning");
  EXPECT_EQ(rules[1].name, "revenue_range");
  EXPECT_EQ(rules[1].min, "0");
  EXPECT_EQ(rules[1].max, "10000000");
  EXPECT_EQ(rules[1].severity, "error");
  EXPECT_EQ(rules[2].kind, "required");
  EXPECT_TRUE(rules[3].values.empty());
  EXPECT_EQ(rules[4].type, FieldType::kInt);
  EXPECT_EQ(rules[5].max_length, 80);
  EXPECT_EQ(rules[6].min, "1900-01-01");
  EXPECT_EQ(rules[6].severity, "review");
  EXPECT_EQ(rules[6].yaml_path, "validation.hcp[6]");

  EXPECT_EQ(plan.target.kind, "sqlite");
  EXPECT_EQ(plan.target.path, At("out/target.db"));
  ASSERT_EQ(plan.waves.size(), 1u);
  EXPECT_EQ(plan.waves[0].name, "hcp");
  EXPECT_EQ(plan.waves[0].entities, std::vector<std::string>{"hcp"});

  // A worker parsing the shipped text gets the same plan.
  std::vector<PlanIssue> issues;
  Plan again = ParsePlan(plan.yaml_text, plan.base_dir, &issues);
  EXPECT_TRUE(issues.empty());
  EXPECT_EQ(again.content_hash, plan.content_hash);
  EXPECT_EQ(again.model.content_hash, plan.model.content_hash);
  EXPECT_EQ(again.sources[0].path, crm->path);
  EXPECT_EQ(again.mappings[0].fields[8].group_separator, '.');
}

TEST_F(PlanTest, PlanContentHashFollowsTheModel) {
  Write("model.yaml", kModel);
  std::vector<PlanIssue> issues;
  Plan a = ParsePlan(kPlan, Dir(), &issues);
  ASSERT_TRUE(issues.empty()) << issues[0].ToString();
  Write("model.yaml", std::string(kModel) + "      extra: {type: string}\n");
  Plan b = ParsePlan(kPlan, Dir(), &issues);
  ASSERT_TRUE(issues.empty()) << issues[0].ToString();
  EXPECT_NE(a.content_hash, b.content_hash);
  EXPECT_NE(a.model.content_hash, b.model.content_hash);
}

TEST_F(PlanTest, PlanDefaults) {
  std::vector<PlanIssue> issues;
  Plan plan = ParsePlan(R"y(model: {entities: {e: {fields: {a: string}}}}
sources: {s: {kind: csv, path: data/crm.csv, key: id}}
mappings: [{entity: e, source: s, fields: {a: col}}]
target: {kind: sqlite, path: /tmp/x.db}
waves: [{entities: [e]}]
)y",
                        Dir() + "/", &issues);
  ASSERT_TRUE(issues.empty()) << issues[0].ToString();
  EXPECT_EQ(plan.name, dir_.filename().string());
  EXPECT_EQ(plan.batch_size, 4096);
  EXPECT_EQ(plan.dedup_shards, 1);
  EXPECT_EQ(plan.state_dir, At(".sluice"));
  EXPECT_EQ(plan.target.path, "/tmp/x.db");
  EXPECT_EQ(plan.waves[0].name, "wave1");
  EXPECT_EQ(plan.model.content_hash.size(), 16u);
  EXPECT_TRUE(plan.dedup.empty());
  EXPECT_TRUE(plan.rules.empty());
}

// --- Mistakes, each located by its YAML path. ------------------------------

TEST_F(PlanTest, PlanSectionsAreValid) {
  std::vector<PlanIssue> issues;
  ParsePlan(PlanWith({}), Dir(), &issues);
  EXPECT_TRUE(issues.empty()) << Dump(issues);
  // Variations that are valid too.
  const std::string kRule = "validation:\n  hcp:\n    - ";
  const std::vector<std::pair<std::string, std::string>> valid = {
      // max_length falls back to the model's max_length.
      {"validation", kRule + "{kind: max_length, field: national_id}\n"},
      // Without a name, rules are named <kind>_<field>: these two differ.
      {"validation", kRule + "{kind: required, field: email}\n    - {kind: required, field: "
                             "last_name}\n"},
      {"validation", kRule + "{kind: date_range, field: updated_at, min: 2020-01-01}\n"},
      {"validation", kRule + "{kind: picklist, field: email, values: [a, b]}\n"},
      // A map output of "" means "no value"; a default is cast by the
      // transformer with the mapping's formats.
      {"mappings",
       "mappings:\n  - {entity: hcp, source: crm, fields: {national_id: n, "
       "last_name: {default: x}, specialty: {from: s, map: {CA: cardiology, '-': ''}}, "
       "birth_date: {from: b, format: '%d/%m/%Y', default: 01/01/1900}}}\n"
       "  - {entity: account, source: erp, fields: {name: n}}\n"},
      {"sources",
       "sources:\n  crm: {kind: csv, path: data/crm.csv, key: hcp_id, delimiter: "
       "\"\\t\", header: false}\n  erp: {kind: sqlite, path: data/erp.db, query: "
       "'select 1', key: doc_id}\n"},
      {"dedup",
       "dedup:\n  hcp: {key: [national_id], survivorship: {source_priority: [crm], "
       "most_recent: updated_at}}\n"},
  };
  for (const auto& [section, text] : valid) {
    ParsePlan(PlanWith({{section, text}}), Dir(), &issues);
    EXPECT_TRUE(issues.empty()) << text << Dump(issues);
    issues.clear();
  }
}

TEST_F(PlanTest, PlanListsEveryMistakeInOnePass) {
  std::vector<PlanIssue> issues;
  ParsePlan(PlanWith({{"top", "batch_size: x\n"},
                      {"sources",
                       "sources:\n  crm: {kind: csv, path: data/crm.csv, key: id, "
                       "delimter: ';'}\n  erp: {path: data/erp.db, key: id}\n"},
                      {"target", "target: {path: out/t.db}\n"}}),
            Dir(), &issues);
  std::vector<std::string> got;
  for (const PlanIssue& i : issues) got.push_back(i.ToString());
  EXPECT_EQ(got, (std::vector<std::string>{"batch_size: must be an integer",
                                           "sources.crm: unknown key 'delimter'",
                                           "sources.erp.kind: missing", "target.kind: missing"}));
}

TEST_F(PlanTest, PlanDedupShards) {
  std::vector<PlanIssue> issues;
  // The fixture's model has a self-reference (hcp.parent_id): it runs on
  // several shards too.
  Plan plan = ParsePlan(PlanWith({{"top", "dedup_shards: 4\n"}}), Dir(), &issues);
  EXPECT_TRUE(issues.empty()) << Dump(issues);
  EXPECT_EQ(plan.dedup_shards, 4);
  issues.clear();
  plan = ParsePlan(PlanWith({{"top", "dedup_shards: 1\n"}}), Dir(), &issues);
  EXPECT_TRUE(issues.empty()) << Dump(issues);
  EXPECT_EQ(plan.dedup_shards, 1);
  for (const char* bad : {"dedup_shards: 0\n", "dedup_shards: 65\n"}) {
    issues.clear();
    ParsePlan(PlanWith({{"top", bad}}), Dir(), &issues);
    ASSERT_EQ(issues.size(), 1u) << bad << Dump(issues);
    EXPECT_EQ(issues[0].ToString(), "dedup_shards: must be between 1 and 64");
  }
}

TEST_F(PlanTest, PlanBadFieldTypeDoesNotCascade) {
  // birth_date's type is wrong: its mapping's format must not add an issue.
  std::string model = kSections[1].second;
  model.replace(model.find("{type: date}"), 12, "{type: datetime}");
  std::vector<PlanIssue> issues;
  ParsePlan(PlanWith({{"model", model},
                      {"mappings",
                       "mappings:\n  - entity: hcp\n    source: crm\n    fields:\n"
                       "      national_id: n\n      last_name: l\n"
                       "      birth_date: {from: d, format: '%d/%m/%Y'}\n"
                       "  - {entity: account, source: erp, fields: {name: n}}\n"}}),
            Dir(), &issues);
  ASSERT_EQ(issues.size(), 1u) << Dump(issues);
  EXPECT_EQ(issues[0].path, "model.entities.hcp.fields.birth_date.type");
}

TEST_F(PlanTest, PlanMissingModelFileDoesNotCascade) {
  std::vector<PlanIssue> issues;
  ParsePlan(PlanWith({{"model", "model: missing.yaml\n"}}), Dir(), &issues);
  ASSERT_EQ(issues.size(), 1u) << Dump(issues);
  EXPECT_EQ(issues[0].ToString(), "model: file not found: " + At("missing.yaml"));
}

TEST_F(PlanTest, PlanBadSourcesDoNotCascade) {
  std::vector<PlanIssue> issues;
  ParsePlan(PlanWith({{"sources", "sources: [crm, erp]\n"}}), Dir(), &issues);
  ASSERT_EQ(issues.size(), 1u) << Dump(issues);
  EXPECT_EQ(issues[0].ToString(), "sources: must be a mapping");
}

TEST_F(PlanTest, PlanYamlSyntaxError) {
  std::vector<PlanIssue> issues;
  ParsePlan("name: t\nsources: [crm\ntarget: x\n", Dir(), &issues);
  ASSERT_EQ(issues.size(), 1u) << Dump(issues);
  EXPECT_EQ(issues[0].path, "");
  EXPECT_NE(issues[0].message.find("invalid yaml at line 3, column 7: "), std::string::npos)
      << issues[0].message;
}

TEST_F(PlanTest, PlanModelFileSyntaxError) {
  Write("model.yaml", "entities:\n  hcp: {fields: {a: string}\n");
  std::vector<PlanIssue> issues;
  ParsePlan(PlanWith({{"model", "model: model.yaml\n"}}), Dir(), &issues);
  ASSERT_EQ(issues.size(), 1u) << Dump(issues);
  EXPECT_EQ(issues[0].path, "model");
  EXPECT_NE(issues[0].message.find("invalid yaml at line"), std::string::npos);
}

TEST_F(PlanTest, PlanNotAMapping) {
  std::vector<PlanIssue> issues;
  ParsePlan("- a\n- b\n", Dir(), &issues);
  ASSERT_EQ(issues.size(), 1u);
  ParsePlan("", Dir(), &issues);
  EXPECT_EQ(issues.size(), 2u);
}

TEST_F(PlanTest, PlanLoadReportsEveryIssueWithTheFileName) {
  Write("plan.yaml", PlanWith({{"sources",
                                "sources:\n  crm: {path: data/crm.csv, key: id}\n"
                                "  erp: {kind: sqlite, path: data/erp.db, table: t, "
                                "key: id}\n"},
                               {"target", "target: {path: out/t.db}\n"}}));
  Result<Plan> plan = LoadPlan(At("plan.yaml"));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(plan.status().message(), At("plan.yaml") + ": sources.crm.kind: missing\n" +
                                         At("plan.yaml") + ": target.kind: missing");
}

TEST_F(PlanTest, PlanLoadMissingFile) {
  Result<Plan> plan = LoadPlan(At("nope.yaml"));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(plan.status().message(), At("nope.yaml") + ": file not found");
}

// --- The model on its own. -------------------------------------------------

TEST(PlanModelTest, ParseFieldType) {
  ModelField f;
  ASSERT_TRUE(ParseFieldType("decimal(12,2)", &f).ok());
  EXPECT_EQ(f.type, FieldType::kDecimal);
  EXPECT_EQ(f.precision, 12);
  EXPECT_EQ(f.scale, 2);
  ASSERT_TRUE(ParseFieldType("decimal( 18 , 0 )", &f).ok());
  EXPECT_EQ(f.precision, 18);
  EXPECT_EQ(f.scale, 0);
  ASSERT_TRUE(ParseFieldType("int", &f).ok());
  EXPECT_EQ(f.type, FieldType::kInt);
  EXPECT_EQ(f.precision, 0);
  for (const char* t : {"string", "date", "timestamp", "bool", "enum", "reference"}) {
    EXPECT_TRUE(ParseFieldType(t, &f).ok()) << t;
    EXPECT_STREQ(FieldTypeName(f.type), t);
  }
  for (const char* bad : {"", "integer", "String", "decimal(0,0)", "decimal(19,2)", "decimal(2,3)",
                          "decimal(2)", "decimal(2,1)x", "decimal(-1,0)", "decimal"}) {
    EXPECT_FALSE(ParseFieldType(bad, &f).ok()) << bad;
  }
}

TEST(PlanModelTest, ParseModelFile) {
  const std::string text =
      "entities:\n  b:\n    fields:\n      z: int\n      a: {type: reference, entity: b}\n"
      "  a:\n    fields:\n      id: string\n";
  std::vector<PlanIssue> issues;
  Model model = ParseModel(text, &issues);
  ASSERT_TRUE(issues.empty()) << Dump(issues);
  ASSERT_EQ(model.entities.size(), 2u);
  EXPECT_EQ(model.entities[0].name, "b");
  EXPECT_EQ(model.entities[0].fields[0].name, "z");
  EXPECT_EQ(model.entities[0].fields[1].references, "b");  // a self-reference is fine
  EXPECT_EQ(model.content_hash.size(), 16u);
}

TEST(PlanModelTest, ParseModelPathsStartAtTheFileRoot) {
  std::vector<PlanIssue> issues;
  ParseModel("entities:\n  hcp:\n    fields:\n      revenue: {type: money}\n", &issues);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].ToString(),
            "entities.hcp.fields.revenue.type: unknown type 'money' (string, int, decimal(p,s), "
            "date, timestamp, bool, enum, reference)");
  issues.clear();
  ParseModel("entities: [", &issues);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "");
  issues.clear();
  ParseModel("fields: {}", &issues);
  ASSERT_EQ(issues.size(), 2u) << Dump(issues);
  EXPECT_EQ(issues[0].ToString(), ": unknown key 'fields'");
  EXPECT_EQ(issues[1].ToString(), "entities: missing");
}

}  // namespace
}  // namespace plan_testing
}  // namespace sluice
