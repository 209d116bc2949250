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

// The summary row of (entity, source).
nlohmann::json At(const std::map<std::pair<std::string, std::string>, nlohmann::json>& rows,
                  const std::string& entity, const std::string& source) {
  auto it = rows.find({entity, source});
  return it == rows.end() ? nlohmann::json() : it->second;
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
  EXPECT_EQ(At(rows, "hcp", "fr")["merged"], 1) << r.out;
  EXPECT_EQ(At(rows, "hcp", "fr")["loaded"], 5) << r.out;
  EXPECT_EQ(At(rows, "hcp", "us")["merged"], 1) << r.out;
  EXPECT_EQ(At(rows, "hcp", "us")["loaded"], 3) << r.out;
  for (const char* source : {"fr", "eu", "us"}) {
    EXPECT_EQ(At(rows, "hcp", source)["survivor_check"], "PASS") << r.out;
    EXPECT_EQ(At(rows, "hcp", source)["unresolved_survivors"], 0) << r.out;
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
  // Every wave reconciled, every entity finished: conservation holds.
  EXPECT_EQ(r.json["conservation"], "holds") << r.out;
  EXPECT_EQ(r.json["waves_reconciled"], nlohmann::json({"masters", "activity"})) << r.out;
  EXPECT_TRUE(r.json["waves_not_reconciled"].empty()) << r.out;

  // The trace answers the auditor's next questions: which row a merged
  // record lives in, which rows a child's references point at, one run.
  const std::string state = " --state-dir " + dir.path() + "/state";
  const std::string run = r.json["run_id"];
  auto trace = Sluice("trace hcp fr:FR001" + state);
  EXPECT_NE(trace.out.find("survivor by validation (this record fails last_name_required)"),
            std::string::npos)
      << trace.out;
  EXPECT_NE(trace.out.find("lives in:  target id " + us01 + " (us:US01)"), std::string::npos)
      << trace.out;
  auto child = Sluice("trace interaction us_visits:V001 --run " + run + state);
  EXPECT_NE(child.out.find("parents:   hcp_ref -> hcp us:US01, target id " + us01),
            std::string::npos)
      << child.out;
  auto other = Sluice("trace interaction us_visits:V001 --run run-nope" + state);
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.err.find("no recorded fate for interaction us_visits:V001 in run run-nope"),
            std::string::npos)
      << other.err;
}

TEST(SurvivorEndToEnd, WithTheFixDisabledTheSurvivorCheckFailsAndHalts) {
  ScratchDir dir("survivor-fault");
  PrepareInvalidSurvivor(dir.path());
  auto r = RunPlan(dir.path(), "--test-fault deduper:elect_invalid_survivors");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(r.json["status"], "halted") << r.out;
  // US01 was merged into FR001, which validation rejected: no row.
  auto rows = Rows(r.json);
  EXPECT_EQ(At(rows, "hcp", "us")["survivor_check"], "FAIL") << r.out;
  EXPECT_EQ(At(rows, "hcp", "us")["unresolved_survivors"], 1) << r.out;
  EXPECT_EQ(At(rows, "hcp", "eu")["survivor_check"], "PASS") << r.out;
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
  EditData(dir.path(), "fr.csv", "FR008;",
           "FR009;N099;Petit;Luc;01/01/1970;Cardiologie;Paris;oops\nFR008;");
  const std::string state = " --state-dir " + dir.path() + "/state";
  auto first = RunPlan(dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  auto rows = Rows(first.json);
  EXPECT_EQ(At(rows, "hcp", "eu")["review"], 1) << first.out;
  EXPECT_EQ(At(rows, "interaction", "eu_calls")["review"], 1) << first.out;
  // A malformed row is traced by its key when the key could be read
  // (fr:FR009, a CSV line with a field too many), else by line:N (eu's
  // truncated JSON line 7).
  auto malformed = Sluice("trace hcp fr:FR009" + state);
  EXPECT_NE(malformed.out.find("REJECTED at extract"), std::string::npos) << malformed.out;
  EXPECT_NE(malformed.out.find("malformed_row"), std::string::npos) << malformed.out;
  auto broken = Sluice("trace hcp eu:line:7" + state);
  EXPECT_NE(broken.out.find("REJECTED at extract"), std::string::npos) << broken.out;
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
  EXPECT_EQ(At(rows, "hcp", "eu")["review"], 0) << second.out;
  EXPECT_EQ(At(rows, "interaction", "eu_calls")["review"], 0) << second.out;
  const std::string db = dir / "out/target.db";
  const std::string eu2 = TargetId(db, "hcp", "eu", "EU0002");
  ASSERT_FALSE(eu2.empty());
  EXPECT_EQ(HcpRefOf(db, "eu_calls", "C002"), eu2);
}

// Issue 14: a run that halts mid-way says what it reached per entity and
// source, and that conservation was not reached, never "holds" over zeros;
// `sluice runs` shows the same.
TEST(SurvivorEndToEnd, AHaltedRunTellsWhatItReached) {
  ScratchDir dir("survivor-halt");
  PrepareConsolidation(dir.path());
  auto r = RunPlan(dir.path(), "--test-fault transformer:drop_key=FR003");
  ASSERT_EQ(r.exit_code, 3) << r.out << r.err;
  ASSERT_EQ(r.json["status"], "halted") << r.out;
  uint64_t extracted = 0;
  for (const auto& e : r.json["entities"]) {
    EXPECT_EQ(e["entity"], "hcp") << e.dump();
    EXPECT_FALSE(e["finished"].get<bool>()) << e.dump();
    EXPECT_FALSE(e["reconciled"].get<bool>()) << e.dump();
    extracted += e["extracted"].get<uint64_t>();
  }
  EXPECT_GT(extracted, 0u) << r.out;
  EXPECT_EQ(r.json["conservation"], "not reached (no entity finished)") << r.out;
  EXPECT_EQ(r.json["waves_not_reconciled"], nlohmann::json({"masters", "activity"})) << r.out;
  EXPECT_NE(r.out.find("waves reconciled: none; not reconciled: masters, activity"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("holds"), std::string::npos) << r.out;
  auto runs = Sluice("runs --state-dir " + dir.path() + "/state");
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_NE(runs.out.find("not reached"), std::string::npos) << runs.out;
  EXPECT_NE(runs.out.find(" " + std::to_string(extracted) + " "), std::string::npos) << runs.out;
}

}  // namespace
}  // namespace sluice::testing
