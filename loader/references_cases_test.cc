// Data-driven reference cases: every tests/data/references/*.yaml is one
// case (format in tests/data/references/README.md): children resolved
// against a cross-reference and the parents' fates, run after run.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "loader/references.h"
#include "loader/references_test_util.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

Plan CasePlan(const YAML::Node& rules) {
  Plan plan;
  Entity interaction;
  interaction.name = "interaction";
  ModelField ref;
  ref.name = "hcp_ref";
  ref.type = FieldType::kReference;
  ref.references = "hcp";
  ModelField notes;
  notes.name = "notes";
  interaction.fields = {ref, notes};
  plan.model.entities.push_back(interaction);
  for (const auto& [name, parent] : {std::pair{"us_visits", "us"}, {"eu_calls", "eu"}}) {
    SourceSpec s;
    s.name = name;
    s.options["references_from"] = parent;
    plan.sources.push_back(s);
  }
  for (const auto& r : rules ? rules : YAML::Node(YAML::NodeType::Sequence)) {
    RuleSpec rule;
    rule.name = r["name"].as<std::string>();
    rule.kind = r["kind"].as<std::string>("reference");
    rule.field = r["field"].as<std::string>("hcp_ref");
    rule.severity = r["severity"].as<std::string>("error");
    plan.rules["interaction"].push_back(rule);
  }
  return plan;
}

// `node[key]`, or an empty sequence when the case leaves it out.
YAML::Node Child(const YAML::Node& node, const char* key) {
  const YAML::Node child = node[key];
  return child ? child : YAML::Node(YAML::NodeType::Sequence);
}

v1::FateKind KindOf(const std::string& kind) {
  if (kind == "rejected") return v1::FATE_REJECTED;
  if (kind == "review") return v1::FATE_REVIEW;
  if (kind == "warning") return v1::FATE_WARNING;
  ADD_FAILURE() << "unknown kind " << kind;
  return v1::FATE_UNSPECIFIED;
}

void RunCase(const fs::path& file) {
  YAML::Node doc = YAML::LoadFile(file.string());
  const Plan plan = CasePlan(doc["rules"]);
  const Entity& entity = plan.model.entities[0];
  int run = 0;
  for (const auto& r : doc["runs"]) {
    SCOPED_TRACE("run " + std::to_string(run++));
    XrefTarget target;
    for (const auto& p : Child(r, "parents")) {
      target.xref[{"hcp", p[0].as<std::string>(), p[1].as<std::string>()}] = p[2].as<int64_t>();
    }
    v1::ParentFates message;
    message.set_entity("hcp");
    for (const auto& f : Child(r, "parent_fates")) {
      v1::ParentFate* pf = message.add_fates();
      pf->set_source(f["source"].as<std::string>());
      pf->set_key(f["key"].as<std::string>());
      pf->set_kind(KindOf(f["kind"].as<std::string>()));
      pf->set_rule(f["rule"].as<std::string>(""));
      pf->set_reason(f["reason"].as<std::string>(""));
    }
    ParentFates parents;
    parents.Set(message);
    RecordBatch batch;
    batch.schema = entity.ToSchema();
    for (const auto& c : r["children"]) {
      Record rec;
      rec.source = c[0].as<std::string>();
      rec.key = c[1].as<std::string>();
      rec.values = {c[2].IsNull() ? Value::Null() : Value::Str(c[2].as<std::string>()),
                    Value::Str("n")};
      batch.records.push_back(std::move(rec));
    }
    batch.RehashAll();
    auto out = ResolveReferences(plan, entity, &target, &batch, &parents);
    ASSERT_TRUE(out.ok()) << out.status().ToString();

    const YAML::Node& expect = r["expect"];
    std::map<std::string, std::string> resolved;
    for (size_t i = 0; i < batch.records.size(); ++i) {
      if (!out->orphaned.empty() && out->orphaned[i]) continue;
      const Value& v = batch.records[i].values[0];
      resolved[batch.records[i].key] = v.is_null ? "~" : v.s;
    }
    std::map<std::string, std::string> want;
    for (const auto& kv : Child(expect, "resolved")) {
      want[kv.first.as<std::string>()] = kv.second.IsNull() ? "~" : kv.second.as<std::string>();
    }
    EXPECT_EQ(resolved, want);

    std::vector<v1::Fate> fates = out->orphans;
    fates.insert(fates.end(), out->warnings.begin(), out->warnings.end());
    std::stable_sort(fates.begin(), fates.end(), [&](const v1::Fate& a, const v1::Fate& b) {
      auto at = [&](const v1::Fate& f) {
        for (size_t i = 0; i < batch.records.size(); ++i) {
          if (batch.records[i].key == f.key()) return i;
        }
        return batch.records.size();
      };
      return at(a) < at(b);
    });
    const YAML::Node want_fates = expect["fates"];
    ASSERT_EQ(fates.size(), want_fates ? want_fates.size() : 0u);
    size_t i = 0;
    for (size_t k = 0; k < fates.size(); ++k) {
      const YAML::Node f = want_fates[k];
      const v1::Fate& got = fates[i++];
      SCOPED_TRACE(got.key() + ": " + got.reason());
      EXPECT_EQ(got.key(), f["key"].as<std::string>());
      EXPECT_EQ(got.kind(), KindOf(f["kind"].as<std::string>()));
      EXPECT_EQ(got.stage(), "load");
      if (f["rule"]) {
        EXPECT_EQ(got.rule(), f["rule"].as<std::string>());
      }
      if (f["reason"]) {
        EXPECT_EQ(got.reason(), f["reason"].as<std::string>());
      }
      if (f["suggestion"]) {
        EXPECT_EQ(got.suggestion(), f["suggestion"].as<std::string>());
      }
    }
    std::vector<std::string> items, want_items;
    for (const auto& item : out->review_items) items.push_back(item.key());
    if (const YAML::Node want = expect["review_items"]) {
      for (const auto& k : want) want_items.push_back(k.as<std::string>());
    }
    EXPECT_EQ(items, want_items);
  }
}

std::vector<fs::path> CaseFiles() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(SLUICE_REFERENCE_CASES_DIR)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class ReferenceCaseTest : public testing::TestWithParam<fs::path> {};

TEST_P(ReferenceCaseTest, ChildrenFollowTheirParents) { RunCase(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Cases, ReferenceCaseTest, testing::ValuesIn(CaseFiles()),
                         [](const testing::TestParamInfo<fs::path>& info) {
                           std::string name = info.param.stem().string();
                           std::replace_if(
                               name.begin(), name.end(), [](char ch) { return !std::isalnum(ch); },
                               '_');
                           return name;
                         });

}  // namespace
}  // namespace sluice
