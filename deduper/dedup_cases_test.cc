// Data-driven dedup cases: every tests/data/dedup/*.yaml is one case (its
// input batches and the expected survivors and fates), run in the given
// arrival order and in shuffled orders that must give identical results.
// The file format is described in tests/data/dedup/README.md.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <random>
#include <set>

#include "common/runtime/codec.h"
#include "deduper/dedup.h"
#include "validator/validate.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

struct ExpectedFate {
  std::string kind, id, survivor, rule, reason;
};

struct ExpectedDecision {
  std::string a, b, rule, band, outcome;
};

struct ExpectedItem {
  std::string kind, id, rule;
};

struct DedupCase {
  std::string name;
  v1::ReviewDecisions decisions_given;  // the steward's decisions on records
  std::vector<ExpectedItem> review_items;
  bool check_items = false;
  // Survivor id -> field -> "member-id strategy[; note]" (only the fields listed).
  std::map<std::string, std::map<std::string, std::string>> golden;
  std::vector<ExpectedDecision> decisions;
  std::map<std::string, std::map<std::string, std::string>> values;  // output id -> field -> text
  Plan plan;
  std::vector<RecordBatch> batches;
  size_t batch_size = 1000;
  std::vector<std::pair<std::string, std::vector<std::string>>> output;  // id, merged ids
  std::vector<size_t> batch_sizes;                                       // empty: not checked
  std::vector<ExpectedFate> fates;
};

FieldType ParseType(const std::string& t) {
  static const std::map<std::string, FieldType> kTypes = {
      {"string", FieldType::kString},       {"int", FieldType::kInt},
      {"decimal", FieldType::kDecimal},     {"date", FieldType::kDate},
      {"timestamp", FieldType::kTimestamp}, {"bool", FieldType::kBool}};
  auto it = kTypes.find(t);
  if (it == kTypes.end()) throw std::runtime_error("unknown type " + t);
  return it->second;
}

std::vector<std::string> Strings(const YAML::Node& node) {
  std::vector<std::string> out;
  for (const auto& n : node) out.push_back(n.as<std::string>());
  return out;
}

DedupCase LoadCase(const fs::path& file) {
  YAML::Node doc = YAML::LoadFile(file.string());
  DedupCase c;
  c.name = file.stem().string();
  const std::string entity = "hcp";
  if (doc["plan"]) {
    // The entity's dedup section exactly as a plan writes it, parsed by the
    // plan parser against a model made of the case's fields.
    YAML::Emitter yaml;
    yaml << YAML::BeginMap << YAML::Key << "model" << YAML::Value << YAML::BeginMap << YAML::Key
         << "entities" << YAML::Value << YAML::BeginMap << YAML::Key << entity << YAML::Value
         << YAML::BeginMap << YAML::Key << "fields" << YAML::Value << YAML::BeginMap;
    for (const auto& f : doc["fields"]) {
      yaml << YAML::Key << f["name"].as<std::string>() << YAML::Value
           << f["type"].as<std::string>();
    }
    yaml << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndMap;
    yaml << YAML::Key << "dedup" << YAML::Value << YAML::BeginMap << YAML::Key << entity
         << YAML::Value << doc["plan"] << YAML::EndMap;
    if (doc["rules"]) {
      // The entity's validation rules, as the plan's validation section.
      yaml << YAML::Key << "validation" << YAML::Value << YAML::BeginMap << YAML::Key << entity
           << YAML::Value << doc["rules"] << YAML::EndMap;
    }
    yaml << YAML::EndMap;
    std::vector<PlanIssue> issues;
    Plan parsed = ParsePlan(yaml.c_str(), ".", &issues);
    for (const PlanIssue& issue : issues) {
      if (issue.path.rfind("dedup", 0) == 0 || issue.path.rfind("validation", 0) == 0) {
        throw std::runtime_error(c.name + ": " + issue.ToString());
      }
    }
    c.plan.dedup = parsed.dedup;
    c.plan.model = parsed.model;
    c.plan.rules = parsed.rules;
  }
  for (const auto& d : doc["decisions"]) {
    // [source/key]: a steward's decision on a record, as review import stores it.
    v1::RecordDecision* r = c.decisions_given.add_records();
    const std::string id = d["id"].as<std::string>();
    r->set_entity(entity);
    r->set_source(id.substr(0, id.find('/')));
    r->set_key(id.substr(id.find('/') + 1));
    r->set_decision(d["decision"].as<std::string>("load"));
    r->set_steward(d["steward"].as<std::string>("steward"));
    for (const auto& kv : d["corrections"]) {
      v1::FieldCorrection* fc = r->add_corrections();
      fc->set_field(kv.first.as<std::string>());
      if (kv.second.IsNull()) {
        fc->set_null(true);
      } else {
        fc->set_value(kv.second.as<std::string>());
      }
    }
  }
  if (doc["dedup"]) {
    DedupSpec spec;
    spec.entity = entity;
    spec.key_fields = Strings(doc["dedup"]["key_fields"]);
    if (doc["dedup"]["source_priority"]) {
      spec.source_priority = Strings(doc["dedup"]["source_priority"]);
    }
    spec.most_recent_field = doc["dedup"]["most_recent_field"].as<std::string>("");
    spec.yaml_path = "dedup." + entity;
    c.plan.dedup[entity] = spec;
  }
  Schema schema;
  for (const auto& f : doc["fields"]) {
    schema.fields.push_back({f["name"].as<std::string>(), ParseType(f["type"].as<std::string>()),
                             f["precision"].as<int>(0), f["scale"].as<int>(0)});
  }
  for (const auto& b : doc["batches"]) {
    RecordBatch batch;
    batch.id.set_run_id("run-1");
    batch.id.set_wave(1);
    batch.id.set_entity(entity);
    batch.id.set_source(b["source"].as<std::string>());
    batch.id.set_sequence(b["sequence"].as<uint64_t>(0));
    batch.schema = schema;
    for (const auto& row : b["records"]) {
      if (row.size() != schema.fields.size() + 2) {
        throw std::runtime_error(c.name + ": a record needs key, line and one value per field");
      }
      Record r;
      r.source = batch.id.source();
      r.key = row[0].as<std::string>();
      r.line = row[1].as<uint64_t>();
      for (size_t f = 0; f < schema.fields.size(); ++f) {
        const YAML::Node& v = row[f + 2];
        if (v.IsNull()) {
          r.values.push_back(Value::Null());
          continue;
        }
        auto value = ParseCanonical(schema.fields[f], v.as<std::string>());
        if (!value.ok()) throw std::runtime_error(c.name + ": " + value.status().ToString());
        r.values.push_back(*value);
      }
      batch.records.push_back(std::move(r));
    }
    batch.RehashAll();
    c.batches.push_back(std::move(batch));
  }
  c.batch_size = doc["batch_size"].as<size_t>(1000);
  const YAML::Node& expect = doc["expect"];
  for (const auto& o : expect["output"]) {
    std::vector<std::string> merged;
    if (o["merged"]) merged = Strings(o["merged"]);
    c.output.emplace_back(o["id"].as<std::string>(), merged);
    if (o["values"]) {
      for (const auto& kv : o["values"]) {
        c.values[o["id"].as<std::string>()][kv.first.as<std::string>()] =
            kv.second.IsNull() ? "~" : kv.second.as<std::string>();
      }
    }
  }
  for (const auto& d : expect["decisions"]) {
    c.decisions.push_back({d["a"].as<std::string>(), d["b"].as<std::string>(),
                           d["rule"].as<std::string>(""), d["band"].as<std::string>(""),
                           d["outcome"].as<std::string>("")});
  }
  if (expect["batch_sizes"]) {
    for (const auto& n : expect["batch_sizes"]) c.batch_sizes.push_back(n.as<size_t>());
  }
  for (const auto& g : expect["golden"]) {
    for (const auto& kv : g["fields"]) {
      c.golden[g["id"].as<std::string>()][kv.first.as<std::string>()] = kv.second.as<std::string>();
    }
  }
  if (expect["review_items"]) {
    c.check_items = true;
    for (const auto& i : expect["review_items"]) {
      c.review_items.push_back(
          {i["kind"].as<std::string>(), i["id"].as<std::string>(), i["rule"].as<std::string>("")});
    }
  }
  for (const auto& f : expect["fates"]) {
    c.fates.push_back({f["kind"].as<std::string>(), f["id"].as<std::string>(),
                       f["survivor"].as<std::string>(""), f["rule"].as<std::string>(""),
                       f["reason"].as<std::string>("")});
  }
  return c;
}

std::vector<fs::path> CaseFiles() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(SLUICE_DEDUP_CASES_DIR)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The resolution as bytes, for comparing runs exactly.
std::string Fingerprint(const Resolution& res) {
  std::string out;
  for (const auto& b : res.batches) {
    v1::RecordBatch wire;
    EncodeBatch(b, &wire);
    out += wire.SerializeAsString();
  }
  for (const auto& f : res.fates) out += f.SerializeAsString();
  for (const auto& d : res.decisions) out += d.SerializeAsString();
  return out;
}

Resolution ResolveCase(const DedupCase& c, const std::vector<size_t>& order,
                       const std::string& log) {
  DedupShardOptions options;
  options.decisions = &c.decisions_given;
  auto shard = DedupShard::Create(c.plan, "hcp", log, std::move(options));
  EXPECT_TRUE(shard.ok()) << shard.status().ToString();
  if (!shard.ok()) return {};
  for (size_t i : order) {
    auto ingested = (*shard)->Ingest(c.batches[i]);
    EXPECT_TRUE(ingested.ok()) << ingested.status().ToString();
  }
  v1::BatchId id;
  id.set_run_id("run-1");
  id.set_wave(1);
  id.set_entity("hcp");
  id.set_source("dedup/0");
  auto res = (*shard)->Resolve(id, c.batch_size);
  EXPECT_TRUE(res.ok()) << res.status().ToString();
  return res.ok() ? std::move(res).value() : Resolution{};
}

std::string Id(const std::string& source, const std::string& key) { return source + "/" + key; }

class DedupCaseTest : public testing::TestWithParam<fs::path> {};

TEST_P(DedupCaseTest, GivesExpectedSurvivorsAndFatesInAnyOrder) {
  const DedupCase c = LoadCase(GetParam());
  const fs::path dir = fs::path(testing::TempDir()) / ("dedup_case_" + c.name);
  fs::remove_all(dir);
  std::vector<size_t> order(c.batches.size());
  std::iota(order.begin(), order.end(), 0);
  const Resolution res = ResolveCase(c, order, (dir / "given.log").string());

  std::vector<std::pair<std::string, std::vector<std::string>>> output;
  std::vector<size_t> sizes;
  for (const auto& b : res.batches) {
    sizes.push_back(b.records.size());
    for (const auto& r : b.records) {
      std::vector<std::string> merged;
      for (const auto& m : r.merged) merged.push_back(Id(m.source, m.key));
      output.emplace_back(Id(r.source, r.key), merged);
    }
  }
  EXPECT_EQ(output, c.output);
  for (const auto& b : res.batches) {
    for (const auto& r : b.records) {
      auto want = c.values.find(Id(r.source, r.key));
      if (want == c.values.end()) continue;
      for (const auto& [field, text] : want->second) {
        const int f = b.schema.IndexOf(field);
        ASSERT_GE(f, 0) << field;
        EXPECT_EQ(FormatValue(b.schema.fields[f], r.values[f]).value_or("~"), text)
            << Id(r.source, r.key) << " " << field;
      }
      EXPECT_EQ(r.content_hash, ContentHash(b.schema, r.values));
    }
  }
  if (!c.decisions.empty()) {
    ASSERT_EQ(res.decisions.size(), c.decisions.size());
    for (size_t i = 0; i < c.decisions.size(); ++i) {
      const v1::MatchDecision& got = res.decisions[i];
      const ExpectedDecision& want = c.decisions[i];
      SCOPED_TRACE("decision " + std::to_string(i) + " " + got.detail());
      EXPECT_EQ(Id(got.a_source(), got.a_key()), want.a);
      EXPECT_EQ(Id(got.b_source(), got.b_key()), want.b);
      if (!want.rule.empty()) {
        EXPECT_EQ(got.rule(), want.rule);
      }
      if (!want.band.empty()) {
        EXPECT_EQ(got.band(), want.band);
      }
      if (!want.outcome.empty()) {
        EXPECT_EQ(got.outcome().rfind(want.outcome, 0), 0u) << got.outcome();
      }
    }
  }
  if (!c.batch_sizes.empty()) {
    EXPECT_EQ(sizes, c.batch_sizes);
  }

  ASSERT_EQ(res.fates.size(), c.fates.size());
  for (size_t i = 0; i < c.fates.size(); ++i) {
    const v1::Fate& got = res.fates[i];
    const ExpectedFate& want = c.fates[i];
    SCOPED_TRACE("fate " + std::to_string(i) + " " + want.id);
    EXPECT_EQ(v1::FateKind_Name(got.kind()), "FATE_" + want.kind);
    EXPECT_EQ(Id(got.source(), got.key()), want.id);
    EXPECT_EQ(got.stage(), "dedup");
    if (!want.rule.empty()) {
      EXPECT_EQ(got.rule(), want.rule);
    }
    if (!want.reason.empty()) {
      EXPECT_EQ(got.reason(), want.reason);
    }
    if (!want.survivor.empty()) {
      EXPECT_EQ(Id(got.survivor_source(), got.survivor_key()), want.survivor);
    }
  }

  // The golden records' provenance: the member and strategy of each field.
  for (const auto& [id, fields] : c.golden) {
    // Read back by value (Resolution holds them packed).
    std::optional<v1::GoldenRecord> found;
    for (const v1::GoldenRecord& g : res.golden) {
      if (Id(g.source(), g.key()) == id) found = g;
    }
    ASSERT_TRUE(found.has_value()) << "no golden record for " << id;
    for (const auto& [field, want] : fields) {
      std::string got = "(no such field)";
      for (const v1::GoldenField& f : found->fields()) {
        if (f.field() != field) continue;
        got = Id(f.member_source(), f.member_key()) + " " + f.strategy() +
              (f.note().empty() ? "" : "; " + f.note());
      }
      EXPECT_EQ(got, want) << id << " " << field;
    }
  }

  if (c.check_items) {
    ASSERT_EQ(res.review_items.size(), c.review_items.size());
    for (size_t i = 0; i < c.review_items.size(); ++i) {
      const v1::ReviewItem& got = res.review_items[i];
      EXPECT_EQ(got.kind(), c.review_items[i].kind) << i;
      EXPECT_EQ(Id(got.source(), got.key()), c.review_items[i].id) << i;
      if (!c.review_items[i].rule.empty()) {
        EXPECT_EQ(got.rule(), c.review_items[i].rule) << i;
      }
    }
  }

  // With validation rules: every merged record's survivor is one that
  // validation passes, so that it is loaded (docs/dedup.md#clusters-and-validation).
  if (c.plan.rules.count("hcp")) {
    ValidatorOptions vo;
    vo.decisions = &c.decisions_given;
    auto validator = EntityValidator::Create(c.plan, "hcp", vo);
    ASSERT_TRUE(validator.ok()) << validator.status().ToString();
    std::set<std::string> passed;
    for (const RecordBatch& b : res.batches) {
      RecordBatch valid;
      std::vector<v1::Fate> fates;
      ASSERT_TRUE((*validator)->Apply(b, &valid, &fates).ok());
      for (const Record& r : valid.records) passed.insert(Id(r.source, r.key));
    }
    for (const v1::Fate& f : res.fates) {
      if (f.kind() != v1::FATE_MERGED) continue;
      const std::string survivor = Id(f.survivor_source(), f.survivor_key());
      EXPECT_TRUE(passed.count(survivor))
          << Id(f.source(), f.key()) << " is merged into " << survivor
          << ", which validation does not pass: it would end with no target row";
    }
  }

  // Arrival order must not matter: reversed and shuffled give the same bytes.
  const std::string expected = Fingerprint(res);
  std::reverse(order.begin(), order.end());
  EXPECT_EQ(Fingerprint(ResolveCase(c, order, (dir / "reversed.log").string())), expected);
  std::mt19937 rng(42);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(order.begin(), order.end(), rng);
    const std::string log = (dir / ("shuffled" + std::to_string(round) + ".log")).string();
    EXPECT_EQ(Fingerprint(ResolveCase(c, order, log)), expected) << "round " << round;
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Cases, DedupCaseTest, testing::ValuesIn(CaseFiles()),
                         [](const testing::TestParamInfo<fs::path>& info) {
                           std::string name = info.param.stem().string();
                           std::replace_if(
                               name.begin(), name.end(), [](char ch) { return !std::isalnum(ch); },
                               '_');
                           return name;
                         });

}  // namespace
}  // namespace sluice
