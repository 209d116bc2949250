// Issue 14 end to end, on examples/consolidation's three systems: no person
// silently vanishes. A survivor that fails validation is never elected (the
// valid duplicate survives), and the reconciler's survivor_check proves that
// every merged record reaches a loaded row; with the fix disabled by a test
// fault the check fails and the run halts. Children follow their parent's
// real fate: rejected (the reason names the parent's rule) or held for
// review (held too, and loaded on the run after the steward's decision).
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

CommandResult Sluice(const std::string& args) { return Shell(BinDir() + "/sluice " + args); }

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("not found: " + from);
  return text.replace(at, from.size(), to);
}

// Edits a data file of the prepared example.
void EditData(const std::string& dir, const std::string& file, const std::string& from,
              const std::string& to) {
  WriteFile(dir + "/data/" + file, Replace(ReadFile(dir + "/data/" + file), from, to));
}

// The consolidation example where the French CRM, first in survivorship,
// lost Jean Dupont's last name (FR001); the US ERP has him too (US01), and
// a rule requires a last name.
void PrepareInvalidSurvivor(const std::string& dir) {
  PrepareConsolidation(dir, {{"target:\n  kind: sqlite",
                              "validation:\n  hcp:\n    - {name: last_name_required, kind: "
                              "required, field: last_name}\ntarget:\n  kind: sqlite"}});
  EditData(dir, "fr.csv", "FR001;N001;Dupont;Jean", "FR001;N001;;Jean");
}

TEST(SurvivorEndToEnd, AValidDuplicateSurvivesWhenTheFirstChoiceFailsValidation) {
  ScratchDir dir("survivor-fix");
  PrepareInvalidSurvivor(dir.path());
  auto r = RunPlan(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(r.json["status"], "completed") << r.out;
  auto rows = Rows(r.json);
  // FR001 merged into US01 (not the other way round): fr loses a row to
  // merged, us keeps one more.
  EXPECT_EQ(rows[{"hcp", "fr"}]["merged"], 1) << r.out;
  EXPECT_EQ(rows[{"hcp", "fr"}]["loaded"], 5) << r.out;
  EXPECT_EQ(rows[{"hcp", "us"}]["merged"], 1) << r.out;
  EXPECT_EQ(rows[{"hcp", "us"}]["loaded"], 3) << r.out;
  for (const char* source : {"fr", "eu", "us"}) {
    EXPECT_EQ(rows[{"hcp", source}]["survivor_check"], "PASS") << r.out;
    EXPECT_EQ(rows[{"hcp", source}]["unresolved_survivors"], 0) << r.out;
  }
  const std::string db = dir / "out/target.db";
  const std::string us01 = TargetId(db, "hcp", "us", "US01");
  ASSERT_FALSE(us01.empty());
  EXPECT_EQ(TargetId(db, "hcp", "fr", "FR001"), us01) << "the merged key maps to US01's row";
  EXPECT_EQ(Query(db, "SELECT last_name FROM hcp WHERE sluice_id = " + us01)[0], "Dupont");
  EXPECT_EQ(HcpRefOf(db, "us_visits", "V001"), us01);
  // The report says it per entity and source.
  auto report = nlohmann::json::parse(ReadFile(r.json["reports"][0].get<std::string>()));
  const nlohmann::json& hcp = report["entities"][0];
  EXPECT_EQ(hcp["survivor_check"], "PASS") << hcp.dump();
  EXPECT_EQ(hcp["survivors"]["fr"]["merged"], 1) << hcp.dump();
  EXPECT_EQ(hcp["survivors"]["fr"]["unresolved"], 0) << hcp.dump();
  auto trace = Sluice("trace hcp fr:FR001 --state-dir " + dir.path() + "/state");
  EXPECT_NE(trace.out.find("survivor by validation (this record fails last_name_required)"),
            std::string::npos)
      << trace.out;
}

TEST(SurvivorEndToEnd, WithTheFixDisabledTheSurvivorCheckFailsAndHalts) {
  ScratchDir dir("survivor-fault");
  PrepareInvalidSurvivor(dir.path());
  auto r = RunPlan(dir.path(), "--test-fault deduper:elect_invalid_survivors");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(r.json["status"], "halted") << r.out;
  // US01 was merged into FR001, which validation rejected: no row.
  auto rows = Rows(r.json);
  EXPECT_EQ(rows[{"hcp", "us"}]["survivor_check"], "FAIL") << r.out;
  EXPECT_EQ(rows[{"hcp", "us"}]["unresolved_survivors"], 1) << r.out;
  EXPECT_EQ(rows[{"hcp", "eu"}]["survivor_check"], "PASS") << r.out;
  EXPECT_NE(r.out.find("survivor_check FAIL: 1 of 4 merged reach no loaded row (eu 0/2) (us 1/2)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("us/US01 -> fr/FR001: survivor rejected by last_name_required"),
            std::string::npos)
      << r.out;
  // Nothing of the next wave was loaded.
  EXPECT_TRUE(Query(dir / "out/target.db", "SELECT count(*) FROM interaction").empty() ||
              Query(dir / "out/target.db", "SELECT count(*) FROM interaction")[0] == "0");
}

TEST(SurvivorEndToEnd, ChildrenFollowTheirParentsRejectedOrHeld) {
  ScratchDir dir("survivor-children");
  // EU0002 (Sofia Garcia) has no city: a review rule holds her.
  PrepareConsolidation(dir.path(),
                       {{"target:\n  kind: sqlite",
                         "validation:\n  hcp:\n    - {name: city_known, kind: required, field: "
                         "city, severity: review}\ntarget:\n  kind: sqlite"}});
  EditData(dir.path(), "eu.jsonl", "{\"city\": \"Madrid\", \"country\": \"ES\"}",
           "{\"city\": null, \"country\": \"ES\"}");
  const std::string state = " --state-dir " + dir.path() + "/state";
  auto first = RunPlan(dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  auto rows = Rows(first.json);
  EXPECT_EQ(rows[{"hcp", "eu"}]["review"], 1) << first.out;
  EXPECT_EQ(rows[{"interaction", "eu_calls"}]["review"], 1) << first.out;
  // C002's parent is held, C005's was rejected: neither is an "orphan".
  auto held = Sluice("trace interaction eu_calls:C002" + state);
  EXPECT_NE(held.out.find("parent hcp eu:EU0002 is held for review by city_known"),
            std::string::npos)
      << held.out;
  auto rejected = Sluice("trace interaction eu_calls:C005" + state);
  EXPECT_NE(rejected.out.find("parent hcp eu:EU0005 was rejected by value_map"), std::string::npos)
      << rejected.out;
  auto visit = Sluice("trace interaction us_visits:V005" + state);
  EXPECT_NE(visit.out.find("parent hcp us:US04 was rejected by cast"), std::string::npos)
      << visit.out;

  // The steward releases EU0002 (and decides nothing about C002).
  const std::string run = first.json["run_id"];
  const std::string csv = dir.path() + "/held.csv";
  auto exp = Sluice("review export " + run + " --out " + csv + state);
  ASSERT_EQ(exp.exit_code, 0) << exp.err;
  std::istringstream in(ReadFile(csv));
  std::string edited, line;
  bool found = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find(",hcp,eu,EU0002,") != std::string::npos) {
      ASSERT_EQ(line.substr(line.size() - 5), ",,,,,") << line;
      line = line.substr(0, line.size() - 5) + ",load,,,dora,city unknown but a real doctor";
      found = true;
    }
    edited += line + "\r\n";
  }
  ASSERT_TRUE(found) << ReadFile(csv);
  WriteFile(csv, edited);
  auto imp = Sluice("review import " + csv + state);
  ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;

  auto second = RunPlan(dir.path());
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  rows = Rows(second.json);
  EXPECT_EQ(rows[{"hcp", "eu"}]["review"], 0) << second.out;
  EXPECT_EQ(rows[{"interaction", "eu_calls"}]["review"], 0) << second.out;
  const std::string db = dir / "out/target.db";
  const std::string eu2 = TargetId(db, "hcp", "eu", "EU0002");
  ASSERT_FALSE(eu2.empty());
  EXPECT_EQ(HcpRefOf(db, "eu_calls", "C002"), eu2);
}

}  // namespace
}  // namespace sluice::testing
