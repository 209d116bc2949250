// Issue 21 item 7 over the real executables: every comparator and rule for
// people's data (crosswise names, compound-surname parts, aliases from the
// shipped table and from the plan's `aliases: FILE`, initials, identifier
// digit errors with a Luhn check, the lenient phone key, term frequencies,
// the cluster guardrails) shows in `sluice trace` and in the review export
// with its level and weight. m and u are given so that the weights are known.
#include <gtest/gtest.h>

#include <string>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

std::string Sluice() { return BinDir() + "/sluice"; }

// Pairs of doctors, one per level (ids pass the Luhn check unless noted):
//   a: Jim / James Carter, one phone in national form, one in E.164: alias,
//      same number, last name exact with its term frequency;
//   b: Delle / Delle Monache: part;  c: Canale Mafalda / Mafalda Canlae:
//      crosswise;  d: J. / Jean Moreau, an id with one wrong digit;
//   e: Marc Petit, two digits swapped;  f: Anne Roux, two wrong digits;
//   g: three Paul Durands born the same day with one phone: g1 and g3 have
//      two different valid ids (decisive), g2 none: a chain the guardrails cut;
//   h: Albert / Bebert Fabre: an alias only in the plan's alias file.
// Weights (levels in the order of the labels): name exact +6.32, alias and
// part +6.00, jw>=0.92 +5.00, jw>=0.8 +3.00, crosswise +9.00, initial +2.00,
// else -6.58; phone +9.81 /
// -13.29; id exact +13.14, 1 digit and transposed +6.32, 2 digits +4.32,
// different luhn -8.97, else -8.64; birth date exact +9.81.
void WritePlan(const std::string& dir, const std::string& on_conflict) {
  WriteFile(dir + "/model.yaml", R"(entities:
  hcp:
    fields:
      national_id: string
      first_name: string
      last_name: string
      birth_date: date
      phone: string
      city: string
)");
  WriteFile(dir + "/doctors.csv",
            "id,nid,first,last,born,phone,city\n"
            "a1,,Jim,Carter,,04 43 78 73 64,Lyon\n"
            "a2,,James,Carter,,+33443787364,Lyon\n"
            "b1,,Luca,Delle,,,Lyon\n"
            "b2,,Luca,Delle Monache,,,Lyon\n"
            "c1,,Canale,Mafalda,,,Lyon\n"
            "c2,,Mafalda,Canlae,,,Lyon\n"
            "d1,12345678903,J.,Moreau,,,Lyon\n"
            "d2,12395678903,Jean,Moreau,,,Lyon\n"
            "e1,23456789017,Marc,Petit,,,Lyon\n"
            "e2,23546789017,Marc,Petit,,,Lyon\n"
            "f1,34567890123,Anne,Roux,,,Lyon\n"
            "f2,39567810123,Anne,Roux,,,Lyon\n"
            "g1,45678901237,Paul,Durand,1970-03-01,01 02 03 04 05,Lyon\n"
            "g2,,Paul,Durand,1970-03-01,01 02 03 04 05,Lyon\n"
            "g3,56789012343,Paul,Durand,1970-03-01,01 02 03 04 05,Lyon\n"
            "h1,,Albert,Fabre,,06 11 22 33 44,Lyon\n"
            "h2,,Bébert,Fabre,,+33611223344,Lyon\n");
  WriteFile(dir + "/our_nicknames.csv", "# our own\nfr,albert,bebert\n");
  const std::string name_mu =
      "m: [0.8, 0.4, 0.4, 0.4, 0.2, 0.4, 0.2, 0.01], "
      "u: [0.01, 0.00625, 0.00625, 0.0125, 0.025, 0.00078125, 0.05, 0.96]";
  WriteFile(dir + "/plan.yaml", R"(name: person_match_e2e
model: model.yaml
sources:
  crm: {kind: csv, path: doctors.csv, key: id}
mappings:
  - entity: hcp
    source: crm
    fields: {national_id: nid, first_name: first, last_name: last, birth_date: born, phone: phone, city: city}
dedup:
  hcp:
    blocking:
      - {name: city, on: [city]}
    aliases: our_nicknames.csv
    comparisons:
      - {field: first_name, comparator: name, with: last_name, thresholds: [0.92, 0.8], )" +
                                    name_mu + R"(}
      - {field: last_name, comparator: name, with: first_name, thresholds: [0.92, 0.8], term_frequency: true, )" +
                                    name_mu + R"(}
      - {field: phone, comparator: phone, m: [0.9, 0.1], u: [0.001, 0.999]}
      - {field: national_id, comparator: identifier, checksum: luhn, m: [0.9, 0.04, 0.04, 0.02, 0.001, 0.001], u: [0.0001, 0.0005, 0.0005, 0.001, 0.5, 0.4]}
      - {field: birth_date, comparator: date, thresholds: [31], m: [0.9, 0.05, 0.05], u: [0.001, 0.01, 0.989]}
    thresholds: {merge: 20, review: 8}
    guardrails: {on_conflict: )" + on_conflict +
                                    R"(}
target: {kind: sqlite, path: target.db}
waves:
  - {name: doctors, entities: [hcp]}
)");
}

void ExpectHas(const std::string& text, const std::string& what) {
  EXPECT_NE(text.find(what), std::string::npos) << "missing: " << what << "\nin:\n" << text;
}

TEST(PersonMatchEndToEnd, EveryLevelAndRuleShowsInTraceAndReviewExport) {
  ScratchDir dir("d-person");
  WritePlan(dir.path(), "split");
  const std::string state = " --state-dir " + dir.path() + "/state";
  auto check = Shell(Sluice() + " plan check " + dir.path() + "/plan.yaml");
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  auto run = RunPlan(dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;

  auto trace = [&](const std::string& key) {
    auto t = Shell(Sluice() + " trace hcp crm:" + key + state);
    EXPECT_EQ(t.exit_code, 0) << t.err;
    return t.out;
  };
  const std::string a = trace("a1");
  ExpectHas(a, "first_name: alias +6.00");
  ExpectHas(a, "phone: same number +9.81");
  ExpectHas(a, "last_name: exact, term frequency");
  ExpectHas(trace("b1"), "last_name: part +6.00");
  const std::string c = trace("c1");
  ExpectHas(c, "first_name: crosswise +9.00");
  ExpectHas(c, "last_name: crosswise (counted with first_name) +0.00");
  const std::string d = trace("d1");
  ExpectHas(d, "first_name: initial +2.00");
  ExpectHas(d, "national_id: 1 digit +6.32");
  ExpectHas(trace("e1"), "national_id: transposed +6.32");
  ExpectHas(trace("f1"), "national_id: 2 digits +4.32");
  ExpectHas(trace("h1"), "first_name: alias +6.00");  // from our_nicknames.csv
  // The chain g1 - g2 - g3 is cut: g1 and g3 carry two valid ids.
  const std::string g = trace("g2") + trace("g1");
  ExpectHas(g, "split: the weakest link of a chain between crm:g1 and crm:g3");
  ExpectHas(g, "decisive:national_id");
  ExpectHas(g, "national_id=different luhn:-8.97");

  // The review export carries the same levels and weights in its reasons.
  const std::string csv = dir.path() + "/held.csv";
  auto exp = Shell(Sluice() + " review export " + run.json["run_id"].get<std::string>() +
                   " --out " + csv + state);
  ASSERT_EQ(exp.exit_code, 0) << exp.out << exp.err;
  const std::string review = ReadFile(csv);
  for (const char* level :
       {"first_name=alias:+6.00", "phone=same number:+9.81", "last_name=exact, term frequency",
        "last_name=part:+6.00", "first_name=crosswise:+9.00",
        "last_name=crosswise (counted with first_name):+0.00", "first_name=initial:+2.00",
        "national_id=1 digit:+6.32", "national_id=transposed:+6.32",
        "national_id=2 digits:+4.32"}) {
    ExpectHas(review, level);
  }

  // on_conflict: review holds the chain whole, the decisive pair named with
  // its level and weight in the export.
  WritePlan(dir.path(), "review");
  auto second = RunPlan(dir.path());
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  auto exp2 = Shell(Sluice() + " review export " + second.json["run_id"].get<std::string>() +
                    " --out " + csv + state);
  ASSERT_EQ(exp2.exit_code, 0) << exp2.out << exp2.err;
  const std::string held = ReadFile(csv);
  ExpectHas(held, "a decisive disagreement inside the cluster (guardrails.on_conflict: review)");
  ExpectHas(held, "national_id=different luhn:-8.97");
}

}  // namespace
}  // namespace sluice::testing
