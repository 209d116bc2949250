// Golden cases: every tests/data/validate/*.yaml is one case (format in
// tests/data/validate/README.md, rules written as in the plan), so adding a
// case needs no C++. The test runs
// from the repository root.
#include "validator/validate.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "common/core/record_test_util.h"
#include "common/plan/pattern.h"
#include "validator/suggest.h"

namespace sluice {
namespace {

constexpr const char* kCaseDir = "tests/data/validate";

FieldType ParseType(const std::string& type, int* precision, int* scale) {
  if (type.rfind("decimal", 0) == 0) {
    if (type != "decimal" && sscanf(type.c_str(), "decimal(%d,%d)", precision, scale) != 2) {
      ADD_FAILURE() << "bad decimal type " << type;
    }
    return FieldType::kDecimal;
  }
  for (FieldType t : {FieldType::kString, FieldType::kInt, FieldType::kDate, FieldType::kTimestamp,
                      FieldType::kBool, FieldType::kEnum, FieldType::kReference}) {
    if (type == FieldTypeName(t)) return t;
  }
  ADD_FAILURE() << "unknown type " << type;
  return FieldType::kString;
}

ModelField ParseModelField(const YAML::Node& n) {
  ModelField f;
  f.name = n["name"].as<std::string>();
  f.type = ParseType(n["type"].as<std::string>("string"), &f.precision, &f.scale);
  if (n["values"]) f.enum_values = n["values"].as<std::vector<std::string>>();
  if (n["max_length"]) f.max_length = n["max_length"].as<int64_t>();
  return f;
}

RuleSpec ParseRule(const YAML::Node& n, const std::string& path) {
  RuleSpec r;
  r.name = n["name"].as<std::string>("");
  r.kind = n["kind"].as<std::string>();
  r.field = n["field"].as<std::string>("");
  if (n["fields"]) r.fields = n["fields"].as<std::vector<std::string>>();
  if (r.kind == "unique" && r.fields.empty()) r.fields = {r.field};
  if (r.kind == "unique" && r.field.empty()) r.field = r.fields.front();
  r.expression = n["expression"].as<std::string>("");
  r.message = n["message"].as<std::string>("");
  r.severity = n["severity"].as<std::string>("error");
  // As in the plan: a max_length rule's limit is its `max`.
  if (n["min"]) r.min = n["min"].as<std::string>();
  if (n["max"] && r.kind == "max_length") {
    r.max_length = n["max"].as<int64_t>();
  } else if (n["max"]) {
    r.max = n["max"].as<std::string>();
  }
  r.pattern = n["pattern"].as<std::string>("");
  if (n["values"]) r.values = n["values"].as<std::vector<std::string>>();
  if (n["type"]) {
    int p = 0, s = 0;
    r.type = ParseType(n["type"].as<std::string>(), &p, &s);
  }
  r.yaml_path = path;
  return r;
}

v1::FateKind ParseKind(const std::string& kind) {
  if (kind == "rejected") return v1::FATE_REJECTED;
  if (kind == "review") return v1::FATE_REVIEW;
  if (kind == "warning") return v1::FATE_WARNING;
  ADD_FAILURE() << "unknown fate kind " << kind;
  return v1::FATE_UNSPECIFIED;
}

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kCaseDir, ec)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class ValidateGoldenTest : public testing::TestWithParam<std::string> {};

TEST_P(ValidateGoldenTest, Case) {
  const YAML::Node doc = YAML::LoadFile(GetParam());
  Plan plan;
  Entity entity;
  entity.name = doc["model"]["name"].as<std::string>();
  for (const auto& f : doc["model"]["fields"]) entity.fields.push_back(ParseModelField(f));
  plan.model.entities.push_back(entity);
  auto& rules = plan.rules[entity.name];
  for (const auto& r : doc["rules"]) {
    rules.push_back(
        ParseRule(r, "validation." + entity.name + "[" + std::to_string(rules.size()) + "]"));
  }

  ValidatorOptions options;
  if (doc["today"]) {
    auto day = ParseCanonical({"", FieldType::kDate}, doc["today"].as<std::string>());
    ASSERT_TRUE(day.ok());
    options.today = day->i;
  }
  v1::ReviewDecisions decisions;
  std::set<std::string> corrected;
  for (const auto& d : doc["decisions"]) {
    auto* rd = decisions.add_records();
    rd->set_entity(entity.name);
    rd->set_source("crm");
    rd->set_key(d["key"].as<std::string>());
    rd->set_decision(d["decision"].as<std::string>("load"));
    rd->set_steward(d["steward"].as<std::string>("alice"));
    for (const auto& c : d["corrections"]) {
      auto* fc = rd->add_corrections();
      fc->set_field(c.first.as<std::string>());
      if (c.second.IsNull()) {
        fc->set_null(true);
      } else {
        fc->set_value(c.second.as<std::string>());
      }
      corrected.insert(rd->key());
    }
  }
  options.decisions = &decisions;
  auto validator = EntityValidator::Create(plan, entity.name, options);
  const YAML::Node& expect = doc["expect"];
  if (expect["create_error"]) {
    ASSERT_FALSE(validator.ok()) << "Create should fail";
    EXPECT_EQ(validator.status().message(), expect["create_error"].as<std::string>());
    return;
  }
  if (expect["create_error_prefix"]) {  // the rest is the regex engine's wording
    ASSERT_FALSE(validator.ok()) << "Create should fail";
    EXPECT_EQ(
        validator.status().message().rfind(expect["create_error_prefix"].as<std::string>(), 0), 0u)
        << validator.status().message();
    return;
  }
  ASSERT_TRUE(validator.ok()) << validator.status().ToString();

  const Schema schema = entity.ToSchema();
  RecordBatch in;
  in.id.set_entity(entity.name);
  in.id.set_sequence(5);
  in.epoch = 2;
  in.schema = schema;
  uint64_t line = 1;
  for (const auto& row : doc["input"]) {
    Record r;
    r.source = "crm";
    r.key = row[0].as<std::string>();
    r.line = ++line;
    ASSERT_EQ(row.size(), schema.fields.size() + 1) << "input row " << r.key << " has wrong width";
    for (size_t f = 0; f < schema.fields.size(); ++f) {
      if (row[f + 1].IsNull()) {
        r.values.push_back(Value::Null());
        continue;
      }
      auto v = ParseCanonical(schema.fields[f], row[f + 1].as<std::string>());
      ASSERT_TRUE(v.ok()) << r.key << " " << schema.fields[f].name << ": " << v.status().ToString();
      r.values.push_back(*v);
    }
    r.content_hash = ContentHash(schema, r.values);
    in.records.push_back(std::move(r));
  }

  RecordBatch out;
  std::vector<v1::Fate> fates;
  std::vector<v1::ReviewItem> items;
  ASSERT_TRUE((*validator)->Apply(in, &out, &fates, &items).ok());
  size_t reviews = 0;
  for (const auto& f : fates) reviews += f.kind() == v1::FATE_REVIEW;
  EXPECT_EQ(items.size(), reviews) << "one review item per held record";
  for (const auto& item : items) {
    EXPECT_EQ(item.kind(), "record");
    EXPECT_EQ(item.entity(), entity.name);
    EXPECT_FALSE(item.record_json().empty());
  }

  EXPECT_EQ(out.schema, schema);
  EXPECT_EQ(out.id.sequence(), 5u);
  EXPECT_EQ(out.epoch, 2u);

  std::vector<std::string> passed;
  for (const Record& r : out.records) {
    passed.push_back(r.key);
    auto original = std::find_if(in.records.begin(), in.records.end(),
                                 [&](const Record& i) { return i.key == r.key; });
    ASSERT_NE(original, in.records.end());
    if (corrected.count(r.key)) {
      EXPECT_EQ(r.content_hash, ContentHash(schema, r.values)) << "hash of the corrected values";
    } else {
      EXPECT_EQ(r.values, original->values) << "validation must not change values";
      EXPECT_EQ(r.content_hash, original->content_hash);
    }
    EXPECT_EQ(r.line, original->line);
  }
  std::vector<std::string> want_passed;
  if (expect["passed"]) want_passed = expect["passed"].as<std::vector<std::string>>();
  EXPECT_EQ(passed, want_passed);

  // The validator stage passes the same `out` for every batch: validating
  // (again: a replay) into one whose records hold stale values and merged
  // keys must pass the same records.
  RecordBatch reused = record_testing::StaleBatch(in.records.size() + 1, schema.fields.size());
  std::vector<v1::Fate> again;
  ASSERT_TRUE((*validator)->Apply(in, &reused, &again).ok());
  record_testing::ExpectSameRecords(reused.records, out.records);

  // Conservation: every record passes or gets exactly one terminal fate.
  size_t terminal = 0;
  for (const auto& f : fates) terminal += f.kind() != v1::FATE_WARNING;
  EXPECT_EQ(out.records.size() + terminal, in.records.size());

  const YAML::Node& want_fates = expect["fates"];
  ASSERT_EQ(fates.size(), want_fates ? want_fates.size() : 0u);
  for (size_t i = 0; i < fates.size(); ++i) {
    const v1::Fate& got = fates[i];
    const YAML::Node& want = want_fates[i];
    SCOPED_TRACE("fate " + std::to_string(i) + " key " + got.key() + " rule " + got.rule());
    EXPECT_EQ(got.key(), want["key"].as<std::string>());
    EXPECT_EQ(got.kind(), ParseKind(want["kind"].as<std::string>("rejected")));
    EXPECT_EQ(got.stage(), want["stage"].as<std::string>("validate"));
    EXPECT_EQ(got.source(), "crm");
    EXPECT_EQ(got.rule(), want["rule"].as<std::string>());
    EXPECT_EQ(got.field(), want["field"].as<std::string>());
    EXPECT_EQ(got.value(), want["value"].IsNull() ? "" : want["value"].as<std::string>());
    if (want["reason"]) {
      EXPECT_EQ(got.reason(), want["reason"].as<std::string>());
    }
    if (want["suggestion"]) {
      EXPECT_EQ(got.suggestion(), want["suggestion"].as<std::string>());
    }
    EXPECT_GT(got.line(), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, ValidateGoldenTest, testing::ValuesIn(CaseFiles()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = std::filesystem::path(info.param).stem();
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(ValidateGoldenTest, CasesArePresent) {
  EXPECT_GE(CaseFiles().size(), 10u)
      << "cases missing in " << kCaseDir << " (run from the repo root)";
}

TEST(SuggestTest, EditDistanceIgnoresCase) {
  EXPECT_EQ(EditDistance("cardiolgy", "cardiology"), 1u);
  EXPECT_EQ(EditDistance("Cardiology", "cardiology"), 0u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(SuggestTest, NearestOnlyWhenPlausible) {
  std::vector<std::string> allowed{"cardiology", "oncology", "ent"};
  EXPECT_EQ(NearestValue("cardiolgy", allowed).value_or(""), "cardiology");
  EXPECT_EQ(NearestValue("onco", allowed).value_or(""), "oncology");
  EXPECT_FALSE(NearestValue("XX", allowed).has_value());
}

TEST(SuggestTest, CodePoints) {
  EXPECT_EQ(CodePoints("abc"), 3u);
  EXPECT_EQ(CodePoints("Zoë Ørsted"), 10u);
  EXPECT_EQ(TruncateCodePoints("Zoë Ørsted", 3), "Zoë");
  EXPECT_EQ(TruncateCodePoints("abc", 5), "abc");
}

TEST(PatternTest, SearchSemantics) {
  auto p = Pattern::Compile("[0-9]{5}");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Matches("FR-75001"));
  auto anchored = Pattern::Compile("^[0-9]{5}$");
  ASSERT_TRUE(anchored.ok());
  EXPECT_FALSE(anchored->Matches("FR-75001"));
  EXPECT_TRUE(anchored->Matches("75001"));
  EXPECT_FALSE(Pattern::Compile("([a-z]").ok());
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// A batch re-sent after a crash must not make its records duplicates of
// themselves: the unique index knows each value's owner (source, key).
TEST(UniqueTest, ReplayedBatchIsNotADuplicateOfItself) {
  Plan plan;
  Entity e;
  e.name = "hcp";
  ModelField email;
  email.name = "email";
  e.fields.push_back(email);
  plan.model.entities.push_back(e);
  RuleSpec rule;
  rule.kind = "unique";
  rule.field = "email";
  rule.fields = {"email"};
  plan.rules["hcp"].push_back(rule);
  auto v = EntityValidator::Create(plan, "hcp");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  auto batch = [&](std::vector<std::pair<std::string, std::string>> rows) {
    RecordBatch b;
    b.id.set_entity("hcp");
    b.schema = e.ToSchema();
    for (auto& [key, email] : rows) {
      Record r;
      r.source = "crm";
      r.key = key;
      r.values = {Value::Str(email)};
      b.records.push_back(r);
    }
    return b;
  };
  RecordBatch first = batch({{"k1", "a@x"}, {"k2", "b@x"}});
  for (int pass = 0; pass < 2; ++pass) {  // the second pass is the replay
    RecordBatch out;
    std::vector<v1::Fate> fates;
    ASSERT_TRUE((*v)->Apply(first, &out, &fates).ok());
    EXPECT_EQ(out.records.size(), 2u) << "pass " << pass;
    EXPECT_TRUE(fates.empty()) << "pass " << pass << ": " << fates[0].reason();
  }
  RecordBatch out;
  std::vector<v1::Fate> fates;
  ASSERT_TRUE((*v)->Apply(batch({{"k3", "a@x"}, {"k2", "b@x"}}), &out, &fates).ok());
  ASSERT_EQ(fates.size(), 1u);
  EXPECT_EQ(fates[0].key(), "k3");
  EXPECT_EQ(fates[0].reason(), "email=a@x already used by crm:k1");
}

}  // namespace
}  // namespace sluice
