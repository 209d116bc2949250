// The dedup section of a plan (common/plan/plan_dedup.cc): what it reads, and
// every mistake reported at its YAML path.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/plan/plan.h"
#include "deduper/compare_pass.h"
#include "deduper/person_compare.h"

namespace sluice {
namespace {

// Parses a plan made of a small model and `dedup`; returns the issues under
// `dedup` (the rest of the plan is deliberately missing).
std::vector<std::string> DedupIssues(const std::string& dedup, Plan* out = nullptr) {
  const std::string text = R"y(model:
  entities:
    hcp:
      fields:
        national_id: string
        last_name: string
        birth_date: date
        revenue: "decimal(10,2)"
dedup:
  hcp:
)y" + dedup;
  std::vector<PlanIssue> issues;
  Plan plan = ParsePlan(text, ".", &issues);
  std::vector<std::string> out_issues;
  for (const PlanIssue& i : issues) {
    if (i.path.rfind("dedup", 0) == 0) out_issues.push_back(i.ToString());
  }
  if (out) *out = plan;
  return out_issues;
}

TEST(PlanDedup, ReadsAFuzzySection) {
  Plan plan;
  auto issues = DedupIssues(R"y(    blocking:
      - {name: sx, on: ["soundex(last_name)", "year(birth_date)"]}
      - {on: ["prefix(last_name, 3)"]}
      - {name: sound, on: ["metaphone(last_name)"]}
    placeholders: [UNKNOWN]
    max_block_size: 300
    rules:
      - {name: nid, when: "national_id exact"}
      - {name: other, when: "not national_id exact and jw(last_name) <= 0.5", decide: distinct}
      - {name: sounds, when: "metaphone(last_name) exact"}
    comparisons:
      - {field: last_name, comparator: jaro_winkler, thresholds: [0.9, 0.8], m: [0.7, 0.2, 0.05, 0.05]}
      - {field: birth_date, comparator: date, thresholds: [31]}
      - {name: sound, field: last_name, comparator: soundex}
      - {name: dm, field: last_name, comparator: phonetic}
    thresholds: {merge: 12, review: 5}
    max_cluster_size: 9
    survivorship: {fields: {last_name: most_complete}, default: non_null}
)y",
                            &plan);
  EXPECT_TRUE(issues.empty()) << ::testing::PrintToString(issues);
  const DedupSpec& s = plan.dedup.at("hcp");
  EXPECT_TRUE(s.fuzzy());
  ASSERT_EQ(s.blocking.size(), 3u);
  EXPECT_EQ(s.blocking[2].parts[0].transform, "metaphone");
  EXPECT_EQ(s.blocking[0].parts[1].transform, "year");
  EXPECT_EQ(s.blocking[1].name, "block1");
  EXPECT_EQ(s.blocking[1].parts[0].length, 3);
  ASSERT_EQ(s.rules.size(), 3u);
  EXPECT_EQ(s.rules[2].terms[0].function, "metaphone");
  EXPECT_EQ(s.rules[1].decide, "distinct");
  ASSERT_EQ(s.rules[1].terms.size(), 2u);
  EXPECT_TRUE(s.rules[1].terms[0].negate);
  EXPECT_EQ(s.rules[1].terms[1].op, "<=");
  EXPECT_EQ(s.comparisons[0].m.size(), 4u);
  EXPECT_EQ(s.comparisons[2].LevelCount(), 3u);
  EXPECT_EQ(s.comparisons[3].LevelCount(), 3u);  // exact, same code, else
  EXPECT_EQ(s.merge_threshold, 12);
  EXPECT_EQ(s.weak_link_threshold, 12);
  EXPECT_EQ(s.max_block_size, 300);
  EXPECT_EQ(s.max_cluster_size, 9);
  EXPECT_EQ(s.field_rules.at("last_name"), "most_complete");
  EXPECT_EQ(s.default_field_rule, "non_null");
}

TEST(PlanDedup, ReportsEveryMistakeAtItsPath) {
  auto issues = DedupIssues(R"y(    blocking:
      - {on: ["nysiis(last_name)"]}
      - {on: [nope]}
      - {on: ["year(last_name)"]}
    rules:
      - {when: "jw(last_name) > 0.9"}
      - {when: "national_id exact", decide: maybe}
    comparisons:
      - {field: last_name, comparator: jaro_winkler, thresholds: [0.8, 0.9]}
      - {field: revenue, comparator: jaro_winkler}
      - {field: last_name, name: l2, comparator: fuzzy}
      - {field: birth_date, name: d2, comparator: date, thresholds: [30], m: [0.5, 0.5]}
      - {field: last_name, name: p1, comparator: phonetic, thresholds: [0.9]}
      - {field: birth_date, name: p2, comparator: phonetic}
    thresholds: {merge: 5, review: 9}
    survivorship: {fields: {last_name: biggest}}
)y");
  const std::vector<std::string> want = {
      "dedup.hcp.survivorship.fields.last_name: unknown survivorship rule 'biggest' (survivor, "
      "non_null, most_complete, most_frequent, longest, most_recent, source_priority)",
      "dedup.hcp.blocking[0].on[0]: unknown blocking transform 'nysiis' (soundex, metaphone, "
      "prefix, year, digits, phone, or the field alone)",
      "dedup.hcp.blocking[1].on[0]: entity 'hcp' has no field 'nope'",
      "dedup.hcp.blocking[2].on[0]: year does not apply to string field 'last_name'",
      "dedup.hcp.rules[0].when: 'jw(last_name) > 0.9': write 'field exact' or 'fn(field) >= "
      "number'",
      "dedup.hcp.rules[1].decide: must be merge, review or distinct",
      "dedup.hcp.comparisons[0].thresholds[1]: similarity thresholds must be in descending order",
      "dedup.hcp.comparisons[1].field: jaro_winkler does not apply to decimal field 'revenue'",
      "dedup.hcp.comparisons[2].comparator: unknown comparator 'fuzzy' (exact, jaro_winkler, "
      "levenshtein, damerau_levenshtein, token_set, soundex, phonetic, date, number, name, "
      "identifier, phone)",
      "dedup.hcp.comparisons[3].m: needs 3 probabilities, one per level (exact, each threshold, "
      "else)",
      "dedup.hcp.comparisons[4].thresholds: phonetic takes no thresholds (levels: exact, same "
      "code, else)",
      "dedup.hcp.comparisons[5].field: phonetic does not apply to date field 'birth_date'",
      "dedup.hcp.thresholds.review: must not be above merge",
  };
  EXPECT_EQ(issues, want);
}

TEST(PlanDedup, GuardrailsOnConflict) {
  const std::string base = R"y(    blocking: [{on: [last_name]}]
    rules: [{when: "national_id exact"}]
)y";
  Plan plan;
  EXPECT_TRUE(DedupIssues(base, &plan).empty());
  EXPECT_FALSE(plan.dedup.at("hcp").review_on_conflict);  // split by default
  EXPECT_TRUE(DedupIssues(base + "    guardrails: {on_conflict: review}\n", &plan).empty());
  EXPECT_TRUE(plan.dedup.at("hcp").review_on_conflict);
  EXPECT_TRUE(DedupIssues(base + "    guardrails: {on_conflict: split}\n", &plan).empty());
  EXPECT_FALSE(plan.dedup.at("hcp").review_on_conflict);
  EXPECT_EQ(
      DedupIssues(base + "    guardrails: {on_conflict: hold}\n"),
      (std::vector<std::string>{"dedup.hcp.guardrails.on_conflict: must be split or review"}));
  const std::vector<std::string> unknown = DedupIssues(base + "    guardrails: {chains: cut}\n");
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_NE(unknown[0].find("dedup.hcp.guardrails"), std::string::npos) << unknown[0];
}

TEST(PlanDedup, ExactKeyStaysRequiredWithoutBlocking) {
  auto issues = DedupIssues("    survivorship: {source_priority: []}\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0], "dedup.hcp.key: missing");
  EXPECT_EQ(DedupIssues("    comparisons:\n      - {field: last_name, comparator: exact}\n"),
            (std::vector<std::string>{"dedup.hcp.key: missing",
                                      "dedup.hcp.thresholds: missing: comparisons need merge (and "
                                      "review) thresholds",
                                      "dedup.hcp.blocking: missing: comparisons need blocking "
                                      "rules"}));
}

// aliases: FILE is read with the plan; a missing file or a bad line is
// refused at the key's path, and the comparer adds its groups to the
// shipped table.
TEST(PlanDedup, ReadsAnAliasFileOrRefusesItAtItsPath) {
  const std::filesystem::path dir = ::testing::TempDir();
  const std::string good = (dir / "aliases_good.csv").string();
  const std::string bad = (dir / "aliases_bad.csv").string();
  std::ofstream(good) << "# ours\nfr,albert,bebert\n";  // not in the shipped table
  std::ofstream(bad) << "fr,guillaume,guigui\nfr guillaume\n";
  const std::string section = R"y(    blocking: [{on: [last_name]}]
    comparisons:
      - {field: last_name, comparator: name, thresholds: [0.9]}
    thresholds: {merge: 5}
    aliases: )y";
  Plan plan;
  EXPECT_TRUE(DedupIssues(section + good + "\n", &plan).empty());
  const DedupSpec& spec = plan.dedup.at("hcp");
  EXPECT_EQ(spec.aliases_path, good);
  EXPECT_EQ(spec.aliases_text, "# ours\nfr,albert,bebert\n");
  EXPECT_FALSE(compare::NameAliases::Default().Same("albert", "bebert"));
  Schema schema;
  schema.fields.push_back({"last_name", FieldType::kString, 0, 0});
  compare::PairComparer comparer;
  ASSERT_TRUE(comparer.Init(spec, schema).ok());
  auto record = [](const char* name) {
    Record r;
    r.values.push_back(Value::Str(name));
    return r;
  };
  comparer.Prepare(schema, {record("Albert"), record("Bébert"), record("Jim"), record("James")});
  const compare::Comparison& c = comparer.comparisons()[0];
  EXPECT_EQ(comparer.Level(c, 0, 1), 1);  // alias, from the plan's file
  EXPECT_EQ(comparer.Level(c, 2, 3), 1);  // alias, from the shipped table

  EXPECT_EQ(DedupIssues(section + bad + "\n"),
            (std::vector<std::string>{"dedup.hcp.aliases: " + bad +
                                      ":2: expected language,name,alias;alias"}));
  EXPECT_EQ(DedupIssues(section + (dir / "nowhere.csv").string() + "\n"),
            (std::vector<std::string>{"dedup.hcp.aliases: cannot read alias file '" +
                                      (dir / "nowhere.csv").string() + "'"}));
}

// First and last names swapped: both `name` comparisons are at crosswise,
// one swap counted once (by the one listed first; the test model has no
// first_name, national_id stands in for it).
TEST(PlanDedup, ASwapOfFirstAndLastNameCountsOnce) {
  const std::string section = R"y(    blocking: [{on: [birth_date]}]
    comparisons:
      - {field: national_id, comparator: name, with: last_name, thresholds: [0.9]}
      - {field: last_name, comparator: name, with: national_id, thresholds: [0.9]}
    thresholds: {merge: 5}
)y";
  Plan plan;
  ASSERT_TRUE(DedupIssues(section, &plan).empty());
  Schema schema;
  schema.fields.push_back({"national_id", FieldType::kString, 0, 0});
  schema.fields.push_back({"last_name", FieldType::kString, 0, 0});
  compare::PairComparer comparer;
  ASSERT_TRUE(comparer.Init(plan.dedup.at("hcp"), schema).ok());
  auto record = [](const char* first, const char* last) {
    Record r;
    r.values = {Value::Str(first), Value::Str(last)};
    return r;
  };
  comparer.Prepare(schema, {record("Mafalda", "Canale"), record("Canale", "Mafalda"),
                            record("Mafalda", "Rossi")});
  std::vector<compare::Comparison>& cmps = comparer.comparisons();
  ASSERT_EQ(cmps[0].crosswise_level, 4);
  EXPECT_EQ(cmps[0].crosswise_partner, -1);
  EXPECT_EQ(cmps[1].crosswise_partner, 0);
  for (compare::Comparison& c : cmps) {
    c.weight.assign(c.levels, 0);
    c.weight[c.crosswise_level] = 10;
    c.weight[0] = 3;
  }
  const uint64_t swapped = comparer.Pattern(0, 1);
  EXPECT_EQ(comparer.LevelOf(swapped, 0), 4);
  EXPECT_EQ(comparer.LevelOf(swapped, 1), 4);
  EXPECT_FALSE(comparer.CountedWithPartner(swapped, 0));
  EXPECT_TRUE(comparer.CountedWithPartner(swapped, 1));
  EXPECT_DOUBLE_EQ(comparer.Score(swapped), 10);
  EXPECT_DOUBLE_EQ(comparer.Score(comparer.Pattern(0, 2)), 3);  // first exact, last else
}

}  // namespace
}  // namespace sluice
