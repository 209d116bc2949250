// Consolidation end to end (issue 3): examples/consolidation's three
// systems into hcp and interaction in two waves, run by the real executables.
// Children must point at their parents' target ids, at the survivor's when
// the parent was merged; orphans are rejected; halts, resumes, environments,
// secrets and the production window behave as docs/consolidation.md says.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;

// `sluice ARGS` with `env` (NAME=value ...) in front.
CommandResult Sluice(const std::string& args, const std::string& env = "") {
  return Shell(env + (env.empty() ? "" : " ") + BinDir() + "/sluice " + args);
}

std::string RunArgs(const std::string& dir) {
  return "run " + dir + "/plan.yaml --local --json --state-dir " + dir + "/state";
}

std::string Resume(const std::string& dir, const std::string& run_id) {
  return "resume " + run_id + " --json --state-dir " + dir + "/state";
}

TEST(Consolidation, TwoWavesChildrenPointAtTheirParentsAndSurvivors) {
  ScratchDir dir("consolidation");
  PrepareConsolidation(dir.path());
  auto r = Sluice(RunArgs(dir.path()));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(r.json["status"], "completed") << r.out;
  auto rows = Rows(r.json);
  // The README's figures, per (entity, source): extracted, merged, rejected, loaded.
  const std::map<std::pair<std::string, std::string>, std::array<int, 5>> want = {
      {{"hcp", "fr"}, {8, 0, 2, 6, 0}},
      {{"hcp", "eu"}, {7, 2, 2, 3, 0}},
      {{"hcp", "us"}, {6, 2, 2, 2, 0}},
      {{"interaction", "us_visits"}, {8, 0, 3, 5, 1}},
      {{"interaction", "eu_calls"}, {5, 0, 2, 3, 1}}};
  for (const auto& [key, w] : want) {
    ASSERT_TRUE(rows.count(key)) << key.first << "/" << key.second << "\n" << r.out;
    const nlohmann::json e = rows[key];
    EXPECT_EQ(e["extracted"], w[0]) << e.dump();
    EXPECT_EQ(e["merged"], w[1]) << e.dump();
    EXPECT_EQ(e["rejected"], w[2]) << e.dump();
    EXPECT_EQ(e["loaded"], w[3]) << e.dump();
    EXPECT_EQ(e["wave"], w[4]) << e.dump();
    EXPECT_TRUE(e["reconciled"].template get<bool>()) << e.dump();
    EXPECT_EQ(e["ri_check"], key.first == "interaction" ? "PASS" : "n/a") << e.dump();
    EXPECT_EQ(e["unresolved_references"], 0) << e.dump();
  }
  EXPECT_NE(r.out.find("ri_check: interaction: PASS (0 unresolved)"), std::string::npos) << r.out;

  const std::string db = dir / "out/target.db";
  EXPECT_EQ(Query(db, "SELECT count(*) FROM hcp")[0], "11");
  EXPECT_EQ(Query(db, "SELECT count(*) FROM interaction")[0], "8");
  // Plain parents.
  EXPECT_EQ(HcpRefOf(db, "us_visits", "V002"), TargetId(db, "hcp", "us", "US02"));
  EXPECT_EQ(HcpRefOf(db, "eu_calls", "C002"), TargetId(db, "hcp", "eu", "EU0002"));
  // Parents merged into a survivor of another system: the child follows the survivor.
  const std::string fr001 = TargetId(db, "hcp", "fr", "FR001");
  ASSERT_FALSE(fr001.empty());
  EXPECT_EQ(TargetId(db, "hcp", "us", "US01"), fr001);
  EXPECT_EQ(HcpRefOf(db, "us_visits", "V001"), fr001);
  EXPECT_EQ(HcpRefOf(db, "us_visits", "V007"), TargetId(db, "hcp", "eu", "EU0003"));
  EXPECT_EQ(HcpRefOf(db, "eu_calls", "C001"), TargetId(db, "hcp", "fr", "FR002"));
  // Every reference resolves to a row of hcp.
  EXPECT_EQ(Query(db,
                  "SELECT count(*) FROM interaction WHERE CAST(hcp_ref AS INTEGER) NOT IN "
                  "(SELECT sluice_id FROM hcp)")[0],
            "0");
  // Orphans were rejected with their reason, never loaded.
  auto trace = Sluice("trace interaction eu_calls:C004 --state-dir " + dir.path() + "/state");
  EXPECT_NE(trace.out.find("orphan reference: hcp EU0000000 not found in source eu"),
            std::string::npos)
      << trace.out << trace.err;
  // A child of a rejected parent names the parent's rule (issue 14).
  trace = Sluice("trace interaction us_visits:V005 --state-dir " + dir.path() + "/state");
  EXPECT_NE(trace.out.find("parent hcp us:US04 was rejected by cast"), std::string::npos)
      << trace.out << trace.err;

  // A second run changes nothing.
  auto again = Sluice(RunArgs(dir.path()));
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  for (const auto& e : again.json["entities"]) {
    EXPECT_EQ(e["inserted"], 0) << e.dump();
    EXPECT_EQ(e["updated"], 0) << e.dump();
  }
}

TEST(Consolidation, HaltLeavesLaterWavesUntouchedAndResumeSkipsCompletedWaves) {
  ScratchDir dir("consolidation_resume");
  // Both US tables are read through a query with a mistake in it: the
  // extractor fails on the first, which halts wave 1.
  const std::string doctors = "SELECT * FROM doctors WHERE spec_code IS NOT NULL";
  const std::string visits = "SELECT * FROM visits WHERE channel_code IS NOT NULL";
  const std::string bad_doctors = "SELECT * FROM doctors WHERE spec_codex IS NOT NULL";
  const std::string bad_visits = "SELECT * FROM visits WHERE channel_codex IS NOT NULL";
  PrepareConsolidation(dir.path(),
                       {{"    table: doctors\n", "    query: \"" + bad_doctors + "\"\n"},
                        {"    table: visits\n", "    query: \"" + bad_visits + "\"\n"}});
  auto first = Sluice(RunArgs(dir.path()));
  ASSERT_EQ(first.exit_code, 3) << first.out << first.err;
  ASSERT_EQ(first.json["status"], "halted") << first.out;
  EXPECT_NE(first.json["halt_reason"].get<std::string>().find("spec_codex"), std::string::npos)
      << first.out;
  const std::string db = dir / "out/target.db";
  EXPECT_TRUE(Query(db, "SELECT count(*) FROM sluice_xref").empty() ||
              Query(db, "SELECT count(*) FROM sluice_xref")[0] == "0");
  for (const auto& e : first.json["entities"]) EXPECT_NE(e["entity"], "interaction") << e.dump();
  const std::string run1 = first.json["run_id"];

  // The doctors query is fixed: resume loads wave 1, then halts in wave 2.
  auto fix = [&](const std::string& broken, const std::string& fixed) {
    std::string plan = ReadFile(dir / "plan.yaml");
    plan.replace(plan.find(broken), broken.size(), fixed);
    WriteFile(dir / "plan.yaml", plan);
  };
  fix(bad_doctors, doctors);
  auto second = Sluice(Resume(dir.path(), run1));
  ASSERT_EQ(second.exit_code, 3) << second.out << second.err;
  EXPECT_NE(second.out.find("resuming run " + run1 + " from wave masters"), std::string::npos)
      << second.out;
  EXPECT_NE(second.json["halt_reason"].get<std::string>().find("channel_codex"), std::string::npos)
      << second.out;
  EXPECT_EQ(Query(db, "SELECT count(*) FROM hcp")[0], "11");
  EXPECT_EQ(Query(db, "SELECT count(*) FROM sluice_xref WHERE entity = 'interaction'")[0], "0");
  const std::string run2 = second.json["run_id"];
  auto history = Sluice("runs --state-dir " + dir.path() + "/state");
  EXPECT_NE(history.out.find("resumed"), std::string::npos) << history.out;

  // Fixed again: the resume of the resume starts at wave 2 and loads nothing of wave 1.
  fix(bad_visits, visits);
  auto third = Sluice(Resume(dir.path(), run2));
  ASSERT_EQ(third.exit_code, 0) << third.out << third.err;
  EXPECT_NE(third.out.find("from wave activity (1 completed wave(s) not loaded again)"),
            std::string::npos)
      << third.out;
  for (const auto& e : third.json["entities"]) EXPECT_EQ(e["entity"], "interaction") << e.dump();
  EXPECT_EQ(Query(db, "SELECT count(*) FROM interaction")[0], "8");
  // The hcp rows are still those the second run wrote.
  EXPECT_EQ(Query(db, "SELECT count(DISTINCT run_id) FROM sluice_xref WHERE entity = 'hcp'")[0],
            "1");
  EXPECT_EQ(Query(db, "SELECT run_id FROM sluice_xref WHERE entity = 'hcp' LIMIT 1")[0], run2);
  EXPECT_EQ(HcpRefOf(db, "us_visits", "V001"), TargetId(db, "hcp", "fr", "FR001"));
  // A completed run cannot be resumed.
  auto again = Sluice(Resume(dir.path(), third.json["run_id"].get<std::string>()));
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
}

TEST(Consolidation, AReferenceCycleIsRefused) {
  ScratchDir dir("consolidation_cycle");
  PrepareConsolidation(dir.path());
  std::string model = ReadFile(dir / "model.yaml");
  model.replace(model.find("      city: string\n"), std::string("      city: string\n").size(),
                "      city: string\n      last_visit: {type: reference, entity: interaction}\n");
  WriteFile(dir / "model.yaml", model);
  auto check = Sluice("plan check " + dir.path() + "/plan.yaml");
  EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
  EXPECT_NE(check.out.find("reference cycle: hcp -> interaction -> hcp"), std::string::npos)
      << check.out;
  auto run = Sluice(RunArgs(dir.path()));
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
}

TEST(Consolidation, EnvironmentChoosesTheTargetAndIsRecorded) {
  ScratchDir dir("consolidation_env");
  PrepareConsolidation(dir.path());
  auto r = Sluice(RunArgs(dir.path()) + " --env sandbox");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Query(dir / "out/sandbox.db", "SELECT count(*) FROM hcp")[0], "11");
  EXPECT_FALSE(fs::exists(dir / "out/target.db"));
  auto runs = Sluice("runs --state-dir " + dir.path() + "/state");
  EXPECT_NE(runs.out.find("sandbox"), std::string::npos) << runs.out;
  auto unknown = Sluice(RunArgs(dir.path()) + " --env staging");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown environment 'staging' (defined: sandbox, prod)"),
            std::string::npos)
      << unknown.err;
}

TEST(Consolidation, SecretsNeverAppearInOutputOrState) {
  ScratchDir dir("consolidation_secret");
  const std::string secret = "Zq8-s3cr3t-7Hk";
  // The US rows are read only when both references resolve to the secret.
  PrepareConsolidation(dir.path(),
                       {{"    table: doctors\n",
                         "    query: \"SELECT * FROM doctors WHERE '${env:SLUICE_TEST_SECRET}' = "
                         "'${file:secret.txt}'\"\n"}});
  WriteFile(dir / "secret.txt", secret + "\n");
  auto r = Sluice(RunArgs(dir.path()) + " --log-level debug", "SLUICE_TEST_SECRET=" + secret);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto rows = Rows(r.json);
  EXPECT_EQ(rows[std::make_pair(std::string("hcp"), std::string("us"))]["extracted"], 6) << r.out;
  EXPECT_EQ(r.out.find(secret), std::string::npos);
  EXPECT_EQ(r.err.find(secret), std::string::npos);
  // Nor in any file the run wrote: audit store, logs, reports, target.
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {
    if (!entry.is_regular_file() || entry.path().filename() == "secret.txt") continue;
    ++files;
    EXPECT_EQ(ReadFile(entry.path().string()).find(secret), std::string::npos) << entry.path();
  }
  EXPECT_GT(files, 5);
  // A missing secret is named, its value never shown.
  auto missing = Sluice("plan check " + dir.path() + "/plan.yaml");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.out.find("environment variable SLUICE_TEST_SECRET is not set"),
            std::string::npos)
      << missing.out;
}

TEST(Consolidation, ProductionWindowRefusesPausesAndResumes) {
  ScratchDir dir("consolidation_window");
  PrepareConsolidation(dir.path());
  // 10:00 in New York: outside 03:00-06:00.
  auto outside =
      Sluice(RunArgs(dir.path()) + " --env prod", "SLUICE_TEST_CLOCK=2026-11-23T15:00:00Z");
  EXPECT_EQ(outside.exit_code, 4) << outside.out << outside.err;
  EXPECT_NE(outside.err.find("opens at 2026-11-24 03:00 EST (08:00 UTC)"), std::string::npos)
      << outside.err;
  EXPECT_FALSE(fs::exists(dir / "out/prod.db"));
  // 05:57 in New York, a minute passing with each loaded batch: the window
  // closes with the third and last batch of hcp (11 survivors, 4 per batch),
  // so the run pauses at that batch boundary, before wave 1 reconciles.
  auto paused =
      Sluice(RunArgs(dir.path()) + " --env prod", "SLUICE_TEST_CLOCK=2026-11-23T10:57:00Z+60");
  ASSERT_EQ(paused.exit_code, 4) << paused.out << paused.err;
  ASSERT_EQ(paused.json["status"], "paused") << paused.out;
  EXPECT_NE(paused.out.find("closed at 2026-11-23 06:00 EST (11:00 UTC); paused in wave masters"),
            std::string::npos)
      << paused.out;
  const std::string db = dir / "out/prod.db";
  EXPECT_EQ(Query(db, "SELECT count(*) FROM hcp")[0], "11");
  // Nothing of wave 1 is loaded (its table may exist: the loader prepares
  // the entities that refer to hcp with it, issue 23).
  const auto interactions = Query(db, "SELECT count(*) FROM interaction");
  EXPECT_TRUE(interactions.empty() || interactions[0] == "0");
  // Still outside at 07:00; the next window at 03:30 lets the resume finish.
  const std::string run_id = paused.json["run_id"];
  auto early = Sluice(Resume(dir.path(), run_id), "SLUICE_TEST_CLOCK=2026-11-23T12:00:00Z");
  EXPECT_EQ(early.exit_code, 4) << early.out << early.err;
  auto resumed = Sluice(Resume(dir.path(), run_id), "SLUICE_TEST_CLOCK=2026-11-24T08:30:00Z");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.out.find("from wave masters"), std::string::npos) << resumed.out;
  for (const auto& e : resumed.json["entities"]) {
    if (e["entity"] == "hcp") {
      EXPECT_EQ(e["inserted"], 0) << e.dump();  // loaded before the pause
    }
  }
  EXPECT_EQ(Query(db, "SELECT count(*) FROM hcp")[0], "11");
  EXPECT_EQ(Query(db, "SELECT count(*) FROM interaction")[0], "8");
  // --ignore-window runs whatever the time.
  auto ignored = Sluice(RunArgs(dir.path()) + " --env prod --ignore-window",
                        "SLUICE_TEST_CLOCK=2026-11-23T15:00:00Z");
  EXPECT_EQ(ignored.exit_code, 0) << ignored.out << ignored.err;
}

// A plan's `reference` rule of severity warning (issue 6): orphans are loaded
// with the reference NULL, and the warning names the rule.
TEST(Consolidation, WarningReferenceRuleLoadsOrphansWithANullReference) {
  ScratchDir dir("consolidation_ref_warning");
  PrepareConsolidation(dir.path());
  std::string plan = ReadFile(dir / "plan.yaml");
  ASSERT_EQ(plan.find("\nvalidation:"), std::string::npos);  // else merge the rule into it
  WriteFile(dir / "plan.yaml",
            plan +
                "\nvalidation:\n  interaction:\n    - {name: hcp_known, kind: reference, "
                "field: hcp_ref, severity: warning}\n");
  auto r = Sluice(RunArgs(dir.path()));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(r.json["status"], "completed") << r.out;
  auto rows = Rows(r.json);
  // Both eu_calls rejects of the plain run are orphans (C004, and C005 whose
  // parent was rejected): now all five load.
  const nlohmann::json e = rows[{"interaction", "eu_calls"}];
  EXPECT_EQ(e["extracted"], 5) << e.dump();
  EXPECT_EQ(e["rejected"], 0) << e.dump();
  EXPECT_EQ(e["loaded"], 5) << e.dump();
  EXPECT_TRUE(e["reconciled"].template get<bool>()) << e.dump();
  EXPECT_EQ(e["unresolved_references"], 0) << e.dump();

  const std::string db = dir / "out/target.db";
  EXPECT_EQ(Query(db,
                  "SELECT count(*) FROM interaction i JOIN sluice_xref x ON x.entity = "
                  "'interaction' AND x.target_id = i.sluice_id WHERE x.source = 'eu_calls' AND "
                  "x.key = 'C004' AND i.hcp_ref IS NULL")[0],
            "1");
  EXPECT_EQ(HcpRefOf(db, "eu_calls", "C002"), TargetId(db, "hcp", "eu", "EU0002"));
  auto trace = Sluice("trace interaction eu_calls:C004 --state-dir " + dir.path() + "/state");
  EXPECT_NE(trace.out.find("WARNING at load"), std::string::npos) << trace.out << trace.err;
  EXPECT_NE(trace.out.find("rule:      hcp_known"), std::string::npos) << trace.out;
  EXPECT_NE(trace.out.find("orphan reference: hcp EU0000000 not found in source eu; loaded with "
                           "hcp_ref NULL"),
            std::string::npos)
      << trace.out;
  EXPECT_NE(trace.out.find("LOADED at load"), std::string::npos) << trace.out;
}

// Severity review: orphans are held, listed for a steward, and a corrected
// reference imported from the review CSV loads on the next run.
TEST(Consolidation, ReviewReferenceRuleHoldsOrphansUntilAStewardCorrectsThem) {
  ScratchDir dir("consolidation_ref_review");
  PrepareConsolidation(dir.path());
  WriteFile(dir / "plan.yaml",
            ReadFile(dir / "plan.yaml") +
                "\nvalidation:\n  interaction:\n    - {name: hcp_known, kind: reference, "
                "field: hcp_ref, severity: review}\n");
  auto r = Sluice(RunArgs(dir.path()));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(r.json["status"], "completed") << r.out;
  nlohmann::json e = Rows(r.json)[{"interaction", "eu_calls"}];
  EXPECT_EQ(e["review"], 2) << e.dump();
  EXPECT_EQ(e["rejected"], 0) << e.dump();
  EXPECT_EQ(e["loaded"], 3) << e.dump();
  const std::string run_id = r.json["run_id"];
  auto exported = Sluice("review export " + run_id + " --out " + (dir / "held.csv") +
                         " --state-dir " + dir.path() + "/state");
  ASSERT_EQ(exported.exit_code, 0) << exported.out << exported.err;
  std::string csv = ReadFile(dir / "held.csv");
  const size_t row = csv.find("eu_calls,C004,");
  ASSERT_NE(row, std::string::npos) << csv;
  EXPECT_NE(csv.find(",load,hcp_known,hcp_ref,EU0000000,", row), std::string::npos) << csv;
  // decision, corrected_value, corrections, steward, note are the last columns.
  const size_t end = csv.find('\n', row);
  const size_t open = csv.rfind(",,,,,,", end);
  ASSERT_TRUE(open != std::string::npos && open > row) << csv;
  csv.replace(open, 6, ",,,EU0001,,alice,");
  WriteFile(dir / "decided.csv", csv);
  auto imported = Sluice("review import " + (dir / "decided.csv") + " --plan " +
                         (dir / "plan.yaml") + " --state-dir " + dir.path() + "/state");
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;

  auto again = Sluice(RunArgs(dir.path()));
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  e = Rows(again.json)[{"interaction", "eu_calls"}];
  EXPECT_EQ(e["review"], 1) << e.dump();  // C005's parent is still rejected
  EXPECT_EQ(e["loaded"], 4) << e.dump();
  const std::string db = dir / "out/target.db";
  EXPECT_EQ(HcpRefOf(db, "eu_calls", "C004"), TargetId(db, "hcp", "eu", "EU0001"));
}

}  // namespace
}  // namespace sluice::testing
