// Integration tests of issue 5 over the real executables: fuzzy matching in
// a run, its decisions in `sluice trace`, and a steward's pair decision from
// `sluice review export/import` changing the next run's outcome.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

std::string Sluice() { return BinDir() + "/sluice"; }

uint64_t Total(const nlohmann::json& summary, const char* field) {
  uint64_t n = 0;
  for (const auto& e : summary["entities"]) n += e[field].get<uint64_t>();
  return n;
}

// Five doctors: k1/k2 share a national id (merged by the exact key); k3/k4
// have different ids but near-identical names (a review-band pair); k5 is
// alone.
void WriteFuzzyPlan(const std::string& dir) {
  WriteFile(dir + "/model.yaml", R"(entities:
  hcp:
    fields:
      national_id: string
      first_name: string
      last_name: string
)");
  WriteFile(dir + "/doctors.csv",
            "id,nid,first,last\n"
            "k1,N1,Anna,Martin\n"
            "k2,N1,Anna,Martin\n"
            "k3,N3,Jean,Dupont\n"
            "k4,N4,Jean,Dupond\n"
            "k5,N5,Paul,Durand\n");
  WriteFile(dir + "/plan.yaml", R"(name: fuzzy_e2e
model: model.yaml
sources:
  crm: {kind: csv, path: doctors.csv, key: id}
mappings:
  - entity: hcp
    source: crm
    fields: {national_id: nid, first_name: first, last_name: last}
dedup:
  hcp:
    key: national_id
    blocking:
      - {name: first_name, on: [first_name]}
    rules:
      - {name: similar_names, when: "first_name exact and jw(last_name) >= 0.9", decide: review}
target: {kind: sqlite, path: target.db}
waves:
  - {name: doctors, entities: [hcp]}
)");
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

TEST(DedupEndToEnd, ReviewPairIsHeldTracedAndAStewardMatchMergesItNextRun) {
  ScratchDir dir("d-fuzzy");
  WriteFuzzyPlan(dir.path());
  const std::string state = " --state-dir " + dir.path() + "/state";
  auto check = Shell(Sluice() + " plan check " + dir.path() + "/plan.yaml");
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;

  auto first = RunPlan(dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(Total(first.json, "merged"), 1u) << first.out;
  EXPECT_EQ(Total(first.json, "review"), 2u) << first.out;
  EXPECT_EQ(Total(first.json, "loaded"), 2u) << first.out;

  // The decision is on record, with its rule and band.
  auto trace = Shell(Sluice() + " trace hcp crm:k4" + state);
  ASSERT_EQ(trace.exit_code, 0) << trace.err;
  EXPECT_NE(trace.out.find("MATCH DECISION with crm:k3: review by similar_names"),
            std::string::npos)
      << trace.out;
  EXPECT_NE(trace.out.find("HELD FOR REVIEW"), std::string::npos) << trace.out;
  auto merged = Shell(Sluice() + " trace hcp crm:k2" + state);
  EXPECT_NE(merged.out.find("MATCH DECISION with crm:k1: merge by exact:national_id"),
            std::string::npos)
      << merged.out;

  // The steward says the pair is one doctor.
  const std::string run = first.json["run_id"];
  const std::string csv = dir.path() + "/held.csv";
  auto exp = Shell(Sluice() + " review export " + run + " --out " + csv + state);
  ASSERT_EQ(exp.exit_code, 0) << exp.out << exp.err;
  std::string edited;
  int pairs = 0;
  for (std::string line : Lines(ReadFile(csv))) {
    if (line.rfind("pair,", 0) == 0) {
      ASSERT_EQ(line.substr(line.size() - 5), ",,,,,") << line;
      line.resize(line.size() - 5);
      line += ",match,,,dora,same doctor";
      ++pairs;
    }
    edited += line + "\r\n";
  }
  ASSERT_EQ(pairs, 1) << ReadFile(csv);
  WriteFile(csv, edited);
  auto imp = Shell(Sluice() + " review import " + csv + state);
  ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;

  auto second = RunPlan(dir.path());
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(Total(second.json, "review"), 0u) << second.out;
  EXPECT_EQ(Total(second.json, "merged"), 2u) << second.out;
  EXPECT_EQ(Total(second.json, "loaded"), 3u) << second.out;
  auto after = Shell(Sluice() + " trace hcp crm:k4" + state);
  EXPECT_NE(after.out.find("merge by steward"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("MERGED"), std::string::npos) << after.out;
}

}  // namespace
}  // namespace sluice::testing
