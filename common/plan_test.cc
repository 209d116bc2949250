#include "common/plan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/hash.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed at the end of the test.
class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("sluice_plan_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(counter++) + "_" + info->name());
    fs::create_directories(dir_ / "data");
    Write("data/crm.csv", "hcp_id,nat_id\n1,A\n");
    Write("data/erp.db", "");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Write(const std::string& rel, const std::string& text) {
    std::ofstream out(dir_ / rel, std::ios::binary);
    out << text;
  }
  std::string Dir() const { return dir_.string(); }
  std::string At(const std::string& rel) const { return (dir_ / rel).lexically_normal().string(); }

  fs::path dir_;
};

// --- A valid plan, every feature, read back. -------------------------------

constexpr char kModel[] = R"y(entities:
  hcp:
    description: healthcare professional
    fields:
      national_id: {type: string, required: true, max_length: 20, pii: true, owner: "MDM team", description: "national id"}
      last_name: {type: string, required: true}
      first_name: {type: string}
      email: string
      phone: {type: string}
      revenue: {type: "decimal(12,2)"}
      birth_date: {type: date}
      updated_at: {type: timestamp}
      active: {type: bool}
      specialty: {type: enum, values: [cardiology, general_practice]}
      parent_id: {type: reference, entity: hcp}
      country: {type: string}
      count: {type: int}
)y";

constexpr char kPlan[] = R"y(name: quickstart
version: 1
batch_size: 500
model: model.yaml
sources:
  crm:
    kind: csv
    path: data/crm.csv
    key: hcp_id
    delimiter: ";"
    header: yes
  erp:
    kind: sqlite
    path: data/erp.db
    table: doctors
    key: doc_id
mappings:
  - entity: hcp
    source: crm
    fields:
      national_id: nat_id
      last_name: {from: last, trim: false}
      first_name: {from: first, trim: true}
      birth_date: {from: dob, format: "%d/%m/%Y"}
      updated_at: {from: upd, formats: ["%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S"]}
      specialty: {from: spec, map: {CARD: cardiology, GP: general_practice}}
      country: {default: "FR"}
      active: {from: active, true_values: [Y], false_values: [N]}
      revenue: {from: rev, decimal_point: ",", group_separator: "."}
  - entity: hcp
    source: erp
    fields:
      national_id: nid
      last_name: name
dedup:
  hcp:
    key: [national_id, last_name]
    survivorship:
      source_priority: [erp, crm]
      most_recent: updated_at
validation:
  hcp:
    - {name: email_format, kind: regex, field: email, pattern: "^[^@]+@[^@]+$", severity: warning}
    - {name: revenue_range, kind: range, field: revenue, min: 0, max: 10000000}
    - {name: last_name_required, kind: required, field: last_name}
    - {name: specialty_allowed, kind: picklist, field: specialty}
    - {name: phone_digits, kind: type, field: phone, type: int}
    - {name: last_name_len, kind: max_length, field: last_name, max: 80}
    - {name: birth_range, kind: date_range, field: birth_date, min: "1900-01-01", max: "2010-12-31", severity: review}
target:
  kind: sqlite
  path: out/target.db
waves:
  - name: hcp
    entities: [hcp]
)y";

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
  EXPECT_EQ(plan.state_dir, At(".sluice"));
  EXPECT_EQ(plan.target.path, "/tmp/x.db");
  EXPECT_EQ(plan.waves[0].name, "wave1");
  EXPECT_EQ(plan.model.content_hash.size(), 16u);
  EXPECT_TRUE(plan.dedup.empty());
  EXPECT_TRUE(plan.rules.empty());
}

// --- Mistakes, each located by its YAML path. ------------------------------

// A small valid plan in sections; a case replaces one section.
const std::vector<std::pair<std::string, std::string>> kSections = {
    {"top", "name: t\n"},
    {"model", R"y(model:
  entities:
    hcp:
      fields:
        national_id: {type: string, required: true, max_length: 20}
        last_name: {type: string, required: true}
        first_name: {type: string}
        birth_date: {type: date}
        updated_at: {type: timestamp}
        active: {type: bool}
        revenue: {type: "decimal(12,2)"}
        specialty: {type: enum, values: [cardiology, general_practice]}
        parent_id: {type: reference, entity: hcp}
        email: string
    account:
      fields:
        name: {type: string, required: true}
        hcp_id: {type: reference, entity: hcp}
)y"},
    {"sources", R"y(sources:
  crm: {kind: csv, path: data/crm.csv, key: hcp_id}
  erp: {kind: sqlite, path: data/erp.db, table: doctors, key: doc_id}
)y"},
    {"mappings", R"y(mappings:
  - entity: hcp
    source: crm
    fields:
      national_id: nat_id
      last_name: {from: last}
  - entity: account
    source: erp
    fields:
      name: acc
)y"},
    {"dedup", "dedup:\n  hcp: {key: national_id}\n"},
    {"validation", "validation:\n  hcp:\n    - {name: r1, kind: required, field: last_name}\n"},
    {"target", "target: {kind: sqlite, path: out/target.db}\n"},
    {"waves",
     "waves:\n  - {name: hcp, entities: [hcp]}\n  - {name: accounts, entities: [account]}\n"},
};

std::string PlanWith(const std::map<std::string, std::string>& replace) {
  std::string text;
  for (const auto& [name, section] : kSections) {
    auto it = replace.find(name);
    text += it == replace.end() ? section : it->second;
  }
  return text;
}

std::string Dump(const std::vector<PlanIssue>& issues) {
  std::string out;
  for (const PlanIssue& i : issues) out += "\n  " + i.ToString();
  return out;
}

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

struct BadCase {
  std::string section;
  std::string text;
  std::string path;     // the exact YAML path expected
  std::string message;  // a part of the message
};

TEST_F(PlanTest, PlanReportsEachMistakeAtItsPath) {
  const std::string kMapHead = "mappings:\n  - entity: hcp\n    source: crm\n    fields:\n";
  const std::string kMapOk = "      national_id: nat_id\n      last_name: last\n";
  const std::string kRule = "validation:\n  hcp:\n    - ";
  const std::vector<BadCase> cases = {
      // Top level.
      {"top", "name: t\nbatch_size: lots\n", "batch_size", "must be an integer"},
      {"top", "batch_size: 0\n", "batch_size", "between 1 and 1000000"},
      {"top", "version: 2\n", "version", "unsupported version 2"},
      {"top", "nmae: t\n", "", "unknown key 'nmae'"},
      {"top", "state_dir: ''\n", "state_dir", "must not be empty"},
      // Model.
      {"model", "", "model", "missing"},
      {"model", "model: nowhere.yaml\n", "model", "file not found"},
      {"model", "model: [a]\n", "model", "must be a file path or a mapping"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: money}}}}}\n",
       "model.entities.hcp.fields.a.type", "unknown type 'money'"},
      {"model", "model: {entities: {hcp: {fields: {a: money}}}}\n", "model.entities.hcp.fields.a",
       "unknown type 'money'"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: 'decimal(19,2)'}}}}}\n",
       "model.entities.hcp.fields.a.type", "precision must be 1..18"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: 'decimal(4,5)'}}}}}\n",
       "model.entities.hcp.fields.a.type", "scale must be 0..precision"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: 'decimal(4;5)'}}}}}\n",
       "model.entities.hcp.fields.a.type", "bad decimal type"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: decimal}}}}}\n",
       "model.entities.hcp.fields.a.type", "needs a precision and a scale"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: enum}}}}}\n",
       "model.entities.hcp.fields.a.values", "missing"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: string, values: [x]}}}}}\n",
       "model.entities.hcp.fields.a.values", "only for enum fields"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: reference, entity: doc}}}}}\n",
       "model.entities.hcp.fields.a.entity", "unknown entity 'doc'"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: reference}}}}}\n",
       "model.entities.hcp.fields.a.entity", "missing"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: string, required: maybe}}}}}\n",
       "model.entities.hcp.fields.a.required", "must be true or false"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: string, max_len: 3}}}}}\n",
       "model.entities.hcp.fields.a", "unknown key 'max_len'"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: string, max_length: 0}}}}}\n",
       "model.entities.hcp.fields.a.max_length", "must be at least 1"},
      {"model", "model: {entities: {hcp: {fields: {}}}}\n", "model.entities.hcp.fields",
       "must not be empty"},
      {"model", "model: {entities: {hcp: {fields: {a: string}, desc: x}}}\n", "model.entities.hcp",
       "unknown key 'desc'"},
      {"model", "model: {entities: {hcp: {fields: {a: string, a: int}}}}\n",
       "model.entities.hcp.fields", "duplicate field 'a'"},
      {"model", "model: {entities: {'bad name': {fields: {a: string}}}}\n",
       "model.entities.bad name",
       "not a valid entity name (letters, digits and '_', not starting with a digit)"},
      {"model",
       "model: {entities: {a: {fields: {b_id: {type: reference, entity: b}}}, "
       "b: {fields: {a_id: {type: reference, entity: a}}}}}\n",
       "model.entities.b.fields.a_id.entity", "reference cycle: a -> b -> a"},
      // Sources.
      {"sources", "sources:\n  crm: {kind: csv, path: data/crm.csv, key: id, delimter: ';'}\n",
       "sources.crm", "unknown key 'delimter'"},
      {"sources", "sources:\n  crm: {path: data/crm.csv, key: id}\n", "sources.crm.kind",
       "missing"},
      {"sources", "sources:\n  crm: {kind: csv, key: id}\n", "sources.crm.path", "missing"},
      {"sources", "sources:\n  crm: {kind: csv, path: data/none.csv, key: id}\n",
       "sources.crm.path", "file not found: " + At("data/none.csv")},
      {"sources", "sources:\n  crm: {kind: csv, path: data/crm.csv}\n", "sources.crm.key",
       "missing"},
      {"sources", "sources:\n  crm: {kind: csv, path: data/crm.csv, key: id, delimiter: ';;'}\n",
       "sources.crm.delimiter", "must be a single character"},
      {"sources", "sources:\n  crm: {kind: csv, path: data/crm.csv, key: id, header: maybe}\n",
       "sources.crm.header", "must be true or false"},
      {"sources", "sources:\n  crm: {kind: csv, path: data/crm.csv, key: [a, b]}\n",
       "sources.crm.key", "must be text"},
      {"sources", "sources:\n  crm: {kind: sqlite, path: data/erp.db, key: id}\n", "sources.crm",
       "needs 'table' or 'query'"},
      {"sources",
       "sources:\n  crm: {kind: csv, path: data/crm.csv, key: a}\n"
       "  crm: {kind: csv, path: data/crm.csv, key: b}\n",
       "sources", "duplicate key 'crm'"},
      {"sources", "sources: [crm]\n", "sources", "must be a mapping"},
      // Mappings.
      {"mappings", "mappings:\n  - source: crm\n    fields: {a: b}\n", "mappings[0].entity",
       "missing"},
      {"mappings", "mappings:\n  - {entity: doctor, source: crm, fields: {a: b}}\n",
       "mappings[0].entity", "unknown entity 'doctor'"},
      {"mappings",
       "mappings:\n  - {entity: hcp, source: sap, fields: {national_id: a, last_name: b}}\n",
       "mappings[0].source", "unknown source 'sap'"},
      {"mappings", "mappings:\n  - {entity: hcp, source: crm}\n", "mappings[0].fields", "missing"},
      {"mappings", "mappings: {entity: hcp}\n", "mappings", "must be a list"},
      {"mappings", kMapHead + kMapOk + "      nickname: nick\n", "mappings[0].fields.nickname",
       "entity 'hcp' has no field 'nickname'"},
      {"mappings", kMapHead + "      national_id: nat_id\n", "mappings[0].fields",
       "required field 'last_name' has no mapping and no default"},
      {"mappings",
       kMapHead + kMapOk +
           "  - {entity: hcp, source: crm, fields: {national_id: a, last_name: b}}\n",
       "mappings[1]", "duplicate mapping of entity 'hcp' from source 'crm' (first at mappings[0])"},
      {"mappings", kMapHead + kMapOk + "      first_name: {from: f, format: '%d/%m/%Y'}\n",
       "mappings[0].fields.first_name.format", "only for date and timestamp fields"},
      {"mappings", kMapHead + kMapOk + "      birth_date: {from: d, formats: ['%Y', '%d.%q']}\n",
       "mappings[0].fields.birth_date.formats[1]", "unsupported directive '%q'"},
      {"mappings",
       kMapHead + "      national_id: nat_id\n      last_name: {from: l, trim: often}\n",
       "mappings[0].fields.last_name.trim", "must be true or false"},
      {"mappings", kMapHead + "      national_id: nat_id\n      last_name: {form: l}\n",
       "mappings[0].fields.last_name", "unknown key 'form'"},
      {"mappings", kMapHead + kMapOk + "      first_name: {trim: true}\n",
       "mappings[0].fields.first_name", "needs 'from' or 'default'"},
      {"mappings", kMapHead + kMapOk + "      specialty: {from: s, map: {CARD: cardio}}\n",
       "mappings[0].fields.specialty.map.CARD", "'cardio' is not a value of enum 'specialty'"},
      {"mappings", kMapHead + kMapOk + "      specialty: {from: s, default: surgery}\n",
       "mappings[0].fields.specialty.default", "'surgery' is not a value of enum 'specialty'"},
      {"mappings", kMapHead + kMapOk + "      first_name: {from: f, true_values: [Y]}\n",
       "mappings[0].fields.first_name.true_values", "only for bool fields"},
      {"mappings", kMapHead + kMapOk + "      revenue: {from: r, decimal_point: ',,'}\n",
       "mappings[0].fields.revenue.decimal_point", "must be a single character"},
      {"mappings",
       kMapHead + kMapOk + "      revenue: {from: r, decimal_point: ',', group_separator: ','}\n",
       "mappings[0].fields.revenue", "decimal_point and group_separator must differ"},
      {"mappings", kMapHead + kMapOk + "      first_name: {from: f, decimal_point: ','}\n",
       "mappings[0].fields.first_name.decimal_point", "only for decimal fields"},
      {"mappings", kMapHead + kMapOk + "      first_name: [a]\n", "mappings[0].fields.first_name",
       "must be a column name or a mapping"},
      // Dedup.
      {"dedup", "dedup:\n  doctor: {key: id}\n", "dedup.doctor", "unknown entity 'doctor'"},
      {"dedup", "dedup:\n  hcp: {survivorship: {}}\n", "dedup.hcp.key", "missing"},
      {"dedup", "dedup:\n  hcp: {key: nid}\n", "dedup.hcp.key", "entity 'hcp' has no field 'nid'"},
      {"dedup", "dedup:\n  hcp: {key: [national_id, nid]}\n", "dedup.hcp.key[1]",
       "entity 'hcp' has no field 'nid'"},
      {"dedup", "dedup:\n  hcp: {key: national_id, survivorship: {source_priority: [sap]}}\n",
       "dedup.hcp.survivorship.source_priority[0]", "unknown source 'sap'"},
      {"dedup", "dedup:\n  hcp: {key: national_id, survivorship: {source_priority: [crm, crm]}}\n",
       "dedup.hcp.survivorship.source_priority[1]", "source 'crm' is listed twice"},
      {"dedup", "dedup:\n  hcp: {key: national_id, survivorship: {most_recent: first_name}}\n",
       "dedup.hcp.survivorship.most_recent", "must be a date, timestamp or int field"},
      {"dedup", "dedup:\n  hcp: {key: national_id, survivorship: {newest: updated_at}}\n",
       "dedup.hcp.survivorship", "unknown key 'newest'"},
      // Validation.
      {"validation", "validation:\n  doctor: []\n", "validation.doctor", "unknown entity 'doctor'"},
      {"validation", kRule + "{name: a, kind: regexp, field: email}\n", "validation.hcp[0].kind",
       "unknown rule kind 'regexp'"},
      {"validation", kRule + "{name: a, field: email}\n", "validation.hcp[0].kind", "missing"},
      {"validation", kRule + "{name: a, kind: required, field: mail}\n", "validation.hcp[0].field",
       "entity 'hcp' has no field 'mail'"},
      {"validation", kRule + "{name: a, kind: required, field: email, severity: fatal}\n",
       "validation.hcp[0].severity", "must be error, warning or review"},
      {"validation", kRule + "{name: a, kind: range, field: revenue, min: 10, max: 5}\n",
       "validation.hcp[0]", "min is greater than max"},
      {"validation", kRule + "{name: a, kind: range, field: revenue, min: ten}\n",
       "validation.hcp[0].min", "'ten' is not a valid decimal(12,2)"},
      {"validation", kRule + "{name: a, kind: range, field: revenue, max: 0.125}\n",
       "validation.hcp[0].max", "'0.125' is not a valid decimal(12,2)"},
      {"validation", kRule + "{name: a, kind: range, field: nope, max: x}\n",
       "validation.hcp[0].max", "must be a number"},
      {"validation", kRule + "{name: a, kind: range, field: revenue}\n", "validation.hcp[0]",
       "range needs min or max"},
      {"validation", kRule + "{name: a, kind: range, field: email, min: 1}\n",
       "validation.hcp[0].field", "range needs an int or decimal field"},
      {"validation", kRule + "{name: a, kind: picklist, field: email}\n",
       "validation.hcp[0].values", "missing; field 'email' is not an enum"},
      {"validation", kRule + "{name: a, kind: regex, field: email}\n", "validation.hcp[0].pattern",
       "missing"},
      {"validation", kRule + "{name: a, kind: regex, field: email, pattern: '(a'}\n",
       "validation.hcp[0].pattern", "bad regex '(a': missing closing parenthesis at offset 2"},
      {"validation", kRule + "{name: a, kind: max_length, field: email}\n", "validation.hcp[0].max",
       "missing; field 'email' has no max_length in the model"},
      {"validation", kRule + "{name: a, kind: type, field: email, type: enum}\n",
       "validation.hcp[0].type", "must be int, decimal, date, timestamp or bool"},
      {"validation", kRule + "{name: a, kind: type, field: email}\n", "validation.hcp[0].type",
       "missing"},
      {"validation", kRule + "{name: a, kind: type, field: email, type: number}\n",
       "validation.hcp[0].type", "unknown type 'number'"},
      {"validation", kRule + "{name: a, kind: date_range, field: birth_date, min: 01/01/1900}\n",
       "validation.hcp[0].min", "'01/01/1900' is not a valid date (YYYY-MM-DD)"},
      {"validation",
       kRule + "{name: a, kind: date_range, field: birth_date, min: 2000-01-02, max: 2000-01-01}\n",
       "validation.hcp[0]", "min is greater than max"},
      {"validation", kRule + "{name: a, kind: range, field: revenue, min: 1, pattern: x}\n",
       "validation.hcp[0].pattern", "not used by kind 'range'"},
      {"validation",
       kRule + "{name: a, kind: required, field: email}\n    - {name: a, kind: required, field: "
               "last_name}\n",
       "validation.hcp[1].name", "duplicate rule name 'a'"},
      // Target.
      {"target", "", "target", "missing"},
      {"target", "target: {path: out/target.db}\n", "target.kind", "missing"},
      {"target", "target: {kind: sqlite, path: out/t.db, file: x}\n", "target",
       "unknown key 'file'"},
      // Waves.
      {"waves", "", "waves", "missing"},
      {"waves", "waves: []\n", "waves", "must list at least one wave"},
      {"waves", "waves:\n  - {name: w}\n", "waves[0].entities", "missing"},
      {"waves", "waves:\n  - {name: w, entities: [hcp, doctor, account]}\n", "waves[0].entities[1]",
       "unknown entity 'doctor'"},
      {"waves", "waves:\n  - {name: w, entities: [hcp, account]}\n  - {name: v, entities: [hcp]}\n",
       "waves[1].entities[0]", "entity 'hcp' is already in wave 'w'"},
      {"waves", "waves:\n  - {name: w, entities: [hcp]}\n", "waves",
       "entity 'account' has mappings but is in no wave"},
      {"waves", "waves:\n  - {name: w, entities: [account]}\n  - {name: v, entities: [hcp]}\n",
       "waves[0].entities[0]", "entity 'account' references 'hcp', which loads in a later wave"},
      {"waves", "waves:\n  - {name: w, entities: [hcp]}\n  - {name: w, entities: [account]}\n",
       "waves[1].name", "duplicate wave name 'w'"},
  };
  for (const BadCase& c : cases) {
    std::vector<PlanIssue> issues;
    ParsePlan(PlanWith({{c.section, c.text}}), Dir(), &issues);
    bool found = false;
    for (const PlanIssue& i : issues) {
      found = found || (i.path == c.path && i.message.find(c.message) != std::string::npos);
    }
    EXPECT_TRUE(found) << "section " << c.section << ":\n"
                       << c.text << "expected " << c.path << ": " << c.message
                       << "\ngot:" << Dump(issues);
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
}  // namespace sluice
