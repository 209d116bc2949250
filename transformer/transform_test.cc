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

// One entry of a mapping's `fields`, written as in the plan: a column name,
// or {from, trim, format(s), map, default, true_values, false_values,
// decimal_point, group_separator}.
FieldMapping ParseFieldMapping(const std::string& target, const YAML::Node& n,
                               const std::string& mapping_path) {
  FieldMapping m;
  m.target = target;
  m.yaml_path = mapping_path + ".fields." + target;
  if (n.IsScalar()) {
    m.from = n.as<std::string>();
    return m;
  }
  m.from = n["from"].as<std::string>("");
  m.trim = n["trim"].as<bool>(true);
  if (n["format"]) m.formats = {n["format"].as<std::string>()};
  if (n["formats"]) m.formats = n["formats"].as<std::vector<std::string>>();
  if (n["map"]) {
    m.has_value_map = true;
    for (const auto& kv : n["map"]) {
      m.value_map[kv.first.as<std::string>()] = kv.second.as<std::string>();
    }
  }
  if (n["default"]) m.default_value = n["default"].as<std::string>();
  if (n["true_values"]) m.true_values = n["true_values"].as<std::vector<std::string>>();
  if (n["false_values"]) m.false_values = n["false_values"].as<std::vector<std::string>>();
  if (n["decimal_point"]) m.decimal_point = n["decimal_point"].as<std::string>().at(0);
  if (n["group_separator"]) m.group_separator = n["group_separator"].as<std::string>().at(0);
  return m;
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
  Plan plan;
  Entity entity;
  entity.name = doc["model"]["name"].as<std::string>();
  for (const auto& f : doc["model"]["fields"]) entity.fields.push_back(ParseModelField(f));
  plan.model.entities.push_back(entity);

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
  Mapping mapping;
  mapping.entity = entity.name;
  mapping.source = source;
  mapping.yaml_path = "mappings[0]";
  for (const auto& kv : doc["mapping"]["fields"]) {
    mapping.fields.push_back(
        ParseFieldMapping(kv.first.as<std::string>(), kv.second, mapping.yaml_path));
  }
  plan.mappings.push_back(mapping);

  auto transformer = EntityTransformer::Create(plan, entity.name, source, source_schema);
  const YAML::Node& expect = doc["expect"];
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
  (*transformer)->Apply(in, &out, &fates);

  const Schema schema = entity.ToSchema();
  EXPECT_EQ(out.schema, schema);
  EXPECT_EQ(out.id.sequence(), 7u);
  EXPECT_EQ(out.epoch, 3u);
  // Conservation: every input record is either passed on or rejected, once.
  EXPECT_EQ(out.records.size() + fates.size(), in.records.size());

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

  const YAML::Node& want_fates = expect["fates"];
  ASSERT_EQ(fates.size(), want_fates ? want_fates.size() : 0u);
  for (size_t i = 0; i < fates.size(); ++i) {
    const v1::Fate& got = fates[i];
    const YAML::Node& want = want_fates[i];
    SCOPED_TRACE("fate " + std::to_string(i) + " key " + got.key());
    EXPECT_EQ(got.kind(), v1::FATE_REJECTED);
    EXPECT_EQ(got.stage(), "transform");
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
