// Golden cases: every tests/data/transform/*.yaml is one case (see
// tests/data/transform/README.md for the format), so adding a case needs no
// C++. The test runs from the repository root.
#include "transformer/transform.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "common/core/record_test_util.h"
#include "transformer/field_cast.h"

namespace sluice {
namespace {

constexpr const char* kCaseDir = "tests/data/transform";

// "decimal(10,2)" and the other model type names.
ModelField ParseModelField(const YAML::Node& n) {
  ModelField f;
  f.name = n["name"].as<std::string>();
  std::string type = n["type"].as<std::string>("string");
  if (type.rfind("decimal", 0) == 0) {
    f.type = FieldType::kDecimal;
    if (sscanf(type.c_str(), "decimal(%d,%d)", &f.precision, &f.scale) != 2) {
      ADD_FAILURE() << "bad decimal type " << type;
    }
  } else {
    const FieldType all[] = {FieldType::kString,    FieldType::kInt,  FieldType::kDate,
                             FieldType::kTimestamp, FieldType::kBool, FieldType::kEnum,
                             FieldType::kReference};
    bool found = false;
    for (FieldType t : all) {
      if (type == FieldTypeName(t)) f.type = t, found = true;
    }
    EXPECT_TRUE(found) << "unknown type " << type;
  }
  if (n["values"]) f.enum_values = n["values"].as<std::vector<std::string>>();
  return f;
}

// The case files, sorted; empty when the folder is missing.
std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kCaseDir, ec)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Text(const YAML::Node& n) { return n.IsNull() ? "~" : n.as<std::string>(); }

std::string Show(const FieldSpec& f, const Value& v) {
  auto text = FormatValue(f, v);
  return text ? "'" + *text + "'" : "~";
}

class TransformGoldenTest : public testing::TestWithParam<std::string> {};

TEST_P(TransformGoldenTest, Case) {
  const YAML::Node doc = YAML::LoadFile(GetParam());
  Entity entity;
  entity.name = doc["model"]["name"].as<std::string>();
  for (const auto& f : doc["model"]["fields"]) entity.fields.push_back(ParseModelField(f));

  const std::string source = doc["source"]["name"].as<std::string>("crm");
  Schema source_schema;
  for (const auto& col : doc["source"]["columns"]) {
    if (col.IsScalar()) {
      source_schema.fields.push_back({col.as<std::string>(), FieldType::kString, 0, 0});
    } else {  // a typed column, as an SQLite source may give: {name: BEDS, type: int}
      ModelField typed = ParseModelField(col);
      source_schema.fields.push_back({typed.name, typed.type, typed.precision, typed.scale});
    }
  }

  // The mapping goes through the real plan parser, so that the cases use
  // (and check) the plan syntax itself; relative files resolve against the
  // case folder.
  YAML::Node plan_yaml;
  YAML::Node fields = plan_yaml["model"]["entities"][entity.name]["fields"];
  for (const auto& f : doc["model"]["fields"]) {
    YAML::Node spec;
    spec["type"] = f["type"].as<std::string>("string");
    if (f["values"]) spec["values"] = f["values"];
    if (f["required"]) spec["required"] = f["required"];
    fields[f["name"].as<std::string>()] = spec;
  }
  YAML::Node src;
  src["kind"] = "csv";
  src["path"] = std::filesystem::path(GetParam()).filename().string();  // exists; never read
  src["key"] = source_schema.fields.at(0).name;
  if (doc["source"]["region"]) src["region"] = doc["source"]["region"];
  plan_yaml["sources"][source] = src;
  YAML::Node mapping;
  mapping["entity"] = entity.name;
  mapping["source"] = source;
  mapping["fields"] = doc["mapping"]["fields"];
  plan_yaml["mappings"].push_back(mapping);
  plan_yaml["target"]["kind"] = "sqlite";
  plan_yaml["target"]["path"] = "out.db";
  YAML::Node wave;
  wave["name"] = "w";
  wave["entities"].push_back(entity.name);
  plan_yaml["waves"].push_back(wave);
  std::vector<PlanIssue> issues;
  Plan plan = ParsePlan(YAML::Dump(plan_yaml), kCaseDir, &issues);
  const YAML::Node& expect = doc["expect"];
  if (expect["plan_error"]) {
    ASSERT_FALSE(issues.empty()) << "the plan should not parse";
    EXPECT_EQ(issues.front().ToString(), expect["plan_error"].as<std::string>());
    return;
  }
  for (const PlanIssue& issue : issues) ADD_FAILURE() << "plan issue: " << issue.ToString();
  ASSERT_TRUE(issues.empty());

  // The steward's decisions on records of the case's source (issue 14).
  v1::ReviewDecisions decisions;
  for (const auto& d : doc["decisions"]) {
    v1::RecordDecision* r = decisions.add_records();
    r->set_entity(entity.name);
    r->set_source(source);
    r->set_key(d["key"].as<std::string>());
    r->set_decision(d["decision"].as<std::string>("load"));
    r->set_steward(d["steward"].as<std::string>("steward"));
    for (const auto& kv : d["corrections"]) {
      v1::FieldCorrection* c = r->add_corrections();
      c->set_field(kv.first.as<std::string>());
      if (kv.second.IsNull()) {
        c->set_null(true);
      } else {
        c->set_value(kv.second.as<std::string>());
      }
    }
  }
  auto transformer =
      EntityTransformer::Create(plan, entity.name, source, source_schema, &decisions);
  if (expect["create_error"]) {
    ASSERT_FALSE(transformer.ok()) << "Create should fail";
    EXPECT_EQ(transformer.status().message(), expect["create_error"].as<std::string>());
    return;
  }
  ASSERT_TRUE(transformer.ok()) << transformer.status().ToString();

  RecordBatch in;
  in.id.set_entity(entity.name);
  in.id.set_source(source);
  in.id.set_sequence(7);
  in.epoch = 3;
  in.schema = source_schema;
  uint64_t line = 1;
  for (const auto& row : doc["input"]) {
    Record r;
    r.source = source;
    r.key = row[0].as<std::string>();
    r.line = ++line;  // a CSV with a header line
    ASSERT_EQ(row.size(), source_schema.fields.size() + 1) << "input row has wrong width";
    for (size_t i = 1; i < row.size(); ++i) {
      if (row[i].IsNull()) {
        r.values.push_back(Value::Null());
        continue;
      }
      auto v = ParseCanonical(source_schema.fields[i - 1], row[i].as<std::string>());
      ASSERT_TRUE(v.ok()) << v.status().ToString();
      r.values.push_back(*v);
    }
    in.records.push_back(std::move(r));
  }

  RecordBatch out;
  std::vector<v1::Fate> fates;
  LineageWriter lineage;
  std::vector<v1::ReviewItem> items;
  (*transformer)->Apply(in, &out, &fates, &lineage, &items);
  auto changes = DecodeLineage(lineage.Finish());
  ASSERT_TRUE(changes.ok()) << changes.status().ToString();

  const Schema schema = entity.ToSchema();
  EXPECT_EQ(out.schema, schema);
  EXPECT_EQ(out.id.sequence(), 7u);
  EXPECT_EQ(out.epoch, 3u);
  // Conservation: every input record is passed on, rejected or held, once
  // (warnings go with records passed on).
  size_t terminal = 0;
  for (const v1::Fate& f : fates) terminal += f.kind() != v1::FATE_WARNING;
  EXPECT_EQ(out.records.size() + terminal, in.records.size());

  const YAML::Node& want_out = expect["output"];
  ASSERT_EQ(out.records.size(), want_out ? want_out.size() : 0u);
  for (size_t i = 0; i < out.records.size(); ++i) {
    const Record& got = out.records[i];
    const YAML::Node& want = want_out[i];
    SCOPED_TRACE("output row " + std::to_string(i) + " key " + got.key);
    EXPECT_EQ(got.key, want[0].as<std::string>());
    EXPECT_EQ(got.source, source);
    EXPECT_GT(got.line, 1u);
    ASSERT_EQ(got.values.size(), schema.fields.size());
    ASSERT_EQ(want.size(), schema.fields.size() + 1) << "expected row has wrong width";
    for (size_t f = 0; f < schema.fields.size(); ++f) {
      EXPECT_EQ(Show(schema.fields[f], got.values[f]),
                want[f + 1].IsNull() ? "~" : "'" + want[f + 1].as<std::string>() + "'")
          << "field " << schema.fields[f].name;
    }
    EXPECT_EQ(got.content_hash, ContentHash(schema, got.values));
  }

  // The transformer stage passes the same `out` for every batch: mapping into
  // one whose records hold stale values, merged keys and positions must give
  // the same batch as mapping into a fresh one.
  RecordBatch reused = record_testing::StaleBatch(in.records.size() + 1, schema.fields.size());
  reused.positions = {9};
  std::vector<v1::Fate> again;
  (*transformer)->Apply(in, &reused, &again);
  EXPECT_EQ(again.size(), fates.size());
  EXPECT_TRUE(reused.positions.empty());
  record_testing::ExpectSameRecords(reused.records, out.records);

  const YAML::Node& want_fates = expect["fates"];
  ASSERT_EQ(fates.size(), want_fates ? want_fates.size() : 0u);
  for (size_t i = 0; i < fates.size(); ++i) {
    const v1::Fate& got = fates[i];
    const YAML::Node& want = want_fates[i];
    SCOPED_TRACE("fate " + std::to_string(i) + " key " + got.key());
    const std::string kind = want["kind"].as<std::string>("rejected");
    EXPECT_EQ(got.kind(), kind == "warning"  ? v1::FATE_WARNING
                          : kind == "review" ? v1::FATE_REVIEW
                                             : v1::FATE_REJECTED);
    EXPECT_EQ(got.stage(), want["stage"].as<std::string>("transform"));
    EXPECT_EQ(got.source(), source);
    EXPECT_EQ(got.key(), want["key"].as<std::string>());
    EXPECT_EQ(got.rule(), want["rule"].as<std::string>());
    EXPECT_EQ(got.field(), want["field"].as<std::string>());
    EXPECT_EQ(got.value(), Text(want["value"]));
    if (want["reason"]) {
      EXPECT_EQ(got.reason(), want["reason"].as<std::string>());
    }
    if (want["suggestion"]) {
      EXPECT_EQ(got.suggestion(), want["suggestion"].as<std::string>());
    }
    EXPECT_GT(got.line(), 1u);
  }

  // Review items, when the case lists them: the keys held for a steward.
  if (const YAML::Node& want_items = expect["review_items"]) {
    std::vector<std::string> got_items, want_keys;
    for (const v1::ReviewItem& item : items) {
      got_items.push_back(item.key());
      EXPECT_EQ(item.stage(), "transform");
      EXPECT_FALSE(item.record_json().empty());
    }
    for (const auto& k : want_items) want_keys.push_back(k.as<std::string>());
    EXPECT_EQ(got_items, want_keys);
  }

  // Lineage, when the case lists it: every change, in order, as
  // [key, field, before, after, rule] with ~ for NULL.
  if (const YAML::Node& want_changes = expect["lineage"]) {
    ASSERT_EQ(changes->size(), want_changes.size());
    for (size_t i = 0; i < changes->size(); ++i) {
      const LineageChange& c = (*changes)[i];
      const YAML::Node& want = want_changes[i];
      SCOPED_TRACE("lineage " + std::to_string(i));
      EXPECT_EQ(c.key, want[0].as<std::string>());
      EXPECT_EQ(c.field, want[1].as<std::string>());
      EXPECT_EQ(c.before.value_or("~"), Text(want[2]));
      EXPECT_EQ(c.after.value_or("~"), Text(want[3]));
      EXPECT_EQ(c.rule, want[4].as<std::string>());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, TransformGoldenTest, testing::ValuesIn(CaseFiles()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = std::filesystem::path(info.param).stem();
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(TransformGoldenTest, CasesArePresent) {
  EXPECT_GE(CaseFiles().size(), 10u)
      << "cases missing in " << kCaseDir << " (run from the repo root)";
}

TEST(ParseStrictIntTest, SignsAndLimits) {
  EXPECT_EQ(*ParseStrictInt("42"), 42);
  EXPECT_EQ(*ParseStrictInt("+42"), 42);
  EXPECT_EQ(*ParseStrictInt("-42"), -42);
  EXPECT_EQ(*ParseStrictInt("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(*ParseStrictInt("-9223372036854775808"), INT64_MIN);
  for (const char* bad : {"", "+", "-", "+-1", " 1", "1 ", "1.0", "1e3", "0x10",
                          "9223372036854775808", "-9223372036854775809"}) {
    EXPECT_FALSE(ParseStrictInt(bad).ok()) << bad;
  }
}

TEST(TrimBlanksTest, SpacesAndTabsOnly) {
  EXPECT_EQ(TrimBlanks(" \t a b \t "), "a b");
  EXPECT_EQ(TrimBlanks("\na\n"), "\na\n");
  EXPECT_EQ(TrimBlanks("   "), "");
}

}  // namespace
}  // namespace sluice
