// Integration tests of issue 6 over the real executables: the error log,
// the reject-rate halt, the steward's review round trip and the run history.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "common/audit/audit_store.h"
#include "tests/harness.h"

namespace sluice::testing {
namespace {

std::string Sluice() { return BinDir() + "/sluice"; }

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("not in the plan: " + from);
  return text.replace(at, from.size(), to);
}

// The quickstart plan with `from` replaced by `to`.
void EditPlan(const std::string& dir, const std::string& from, const std::string& to) {
  WriteFile(dir + "/plan.yaml", Replace(ReadFile(dir + "/plan.yaml"), from, to));
}

uint64_t Total(const nlohmann::json& summary, const char* field) {
  uint64_t n = 0;
  for (const auto& e : summary["entities"]) n += e[field].get<uint64_t>();
  return n;
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

TEST(ValidationEndToEnd, ErrorLogListsEveryFailureByRule) {
  ScratchDir dir("v-errors");
  PrepareQuickstart(dir.path(), 6000, 2500);
  auto r = RunPlan(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string run = r.json["run_id"];
  const uint64_t rejected = Total(r.json, "rejected");
  ASSERT_GT(rejected, 0u);
  const std::string state = " --state-dir " + dir.path() + "/state";
  // Every rejection is in the error log, with its rule and severity.
  auto csv = Shell(Sluice() + " errors " + run + " --csv " + dir.path() + "/errors.csv" + state);
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  auto lines = Lines(ReadFile(dir.path() + "/errors.csv"));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0],
            "run,wave,entity,source,key,line,stage,rule,field,value,severity,reason,suggestion,"
            "batch");
  uint64_t errors = 0;
  for (size_t i = 1; i < lines.size(); ++i) errors += lines[i].find(",error,") != std::string::npos;
  EXPECT_EQ(errors, rejected);
  // The run report groups the wave's failures by rule, with examples.
  auto report = nlohmann::json::parse(ReadFile(r.json["reports"][0]), nullptr, false);
  ASSERT_TRUE(report["errors_by_rule"].is_array()) << report.dump();
  uint64_t reported = 0;
  for (const auto& g : report["errors_by_rule"]) {
    if (g["kind"] == "rejected") reported += g["count"].get<uint64_t>();
    EXPECT_FALSE(g["examples"].empty()) << g.dump();
  }
  EXPECT_EQ(reported, rejected) << report["errors_by_rule"].dump();
  // Filtered by rule: only that rule.
  auto by_rule = Shell(Sluice() + " errors " + run + " --rule email_format" + state);
  ASSERT_EQ(by_rule.exit_code, 0) << by_rule.err;
  for (const auto& line : Lines(by_rule.out)) {
    if (line.rfind("hcp ", 0) == 0) {
      EXPECT_NE(line.find("email_format"), std::string::npos) << line;
    }
  }
  // The trend across two runs of the plan: same data, same counts.
  ASSERT_EQ(RunPlan(dir.path()).exit_code, 0);
  auto trend = Shell(Sluice() + " errors --trend --plan " + dir.path() + "/plan.yaml" + state);
  ASSERT_EQ(trend.exit_code, 0) << trend.err;
  EXPECT_NE(trend.out.find("2 run(s) of plan"), std::string::npos) << trend.out;
  EXPECT_NE(trend.out.find("email_format"), std::string::npos) << trend.out;
  EXPECT_NE(trend.out.find("same"), std::string::npos) << trend.out;
  // Run history: both runs with their counts.
  auto runs = Shell(Sluice() + " runs" + state);
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_NE(runs.out.find(run), std::string::npos) << runs.out;
  EXPECT_NE(runs.out.find("completed"), std::string::npos) << runs.out;
  EXPECT_NE(runs.out.find(std::to_string(Total(r.json, "extracted"))), std::string::npos)
      << runs.out;
}

TEST(ValidationEndToEnd, RejectRateOverTheThresholdHaltsBeforeLoading) {
  ScratchDir dir("v-halt");
  PrepareQuickstart(dir.path(), 6000, 2500);
  EditPlan(dir.path(), "validation:\n  hcp:\n",
           "validation:\n  hcp:\n    halt: {reject_rate: 0.0001}\n    rules:\n");
  auto r = RunPlan(dir.path());
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(r.json["status"], "halted") << r.out;
  const std::string reason = r.json["halt_reason"];
  EXPECT_NE(reason.find("reject rate"), std::string::npos) << reason;
  EXPECT_NE(reason.find("validation.hcp.halt.reject_rate"), std::string::npos) << reason;
  EXPECT_NE(reason.find("nothing of hcp was loaded"), std::string::npos) << reason;
  // Nothing was loaded: no row in the target.
  auto rows = Query(dir / "out/target.db", "SELECT count(*) FROM hcp");
  EXPECT_TRUE(rows.empty() || rows[0] == "0") << (rows.empty() ? "" : rows[0]);
}

TEST(ValidationEndToEnd, RejectRateUnderTheThresholdLoadsAndBalances) {
  ScratchDir dir("v-gate");
  PrepareQuickstart(dir.path(), 6000, 2500);
  EditPlan(dir.path(), "validation:\n  hcp:\n",
           "validation:\n  hcp:\n    halt: {reject_rate: 0.05}\n    rules:\n");
  auto r = RunPlan(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const auto& e : r.json["entities"]) {
    EXPECT_EQ(e["extracted"].get<uint64_t>(),
              e["loaded"].get<uint64_t>() + e["merged"].get<uint64_t>() +
                  e["rejected"].get<uint64_t>() + e["review"].get<uint64_t>())
        << e.dump();
    EXPECT_TRUE(e["reconciled"].get<bool>()) << e.dump();
  }
  EXPECT_EQ(std::stoull(Query(dir / "out/target.db", "SELECT count(*) FROM hcp")[0]),
            Total(r.json, "loaded"));
}

// A validator killed while it holds batches for the gate: the batches are
// replayed, validated again and released; the target matches a clean run.
TEST(ValidationEndToEnd, KilledValidatorBehindTheGateLoadsTheSameTarget) {
  ScratchDir clean("v-gate-clean"), killed("v-gate-kill");
  for (const ScratchDir* d : {&clean, &killed}) {
    PrepareQuickstart(d->path(), 6000, 2500, "batch_size: 1000\n");
    EditPlan(d->path(), "validation:\n  hcp:\n",
             "validation:\n  hcp:\n    halt: {reject_rate: 0.05}\n    rules:\n");
  }
  auto a = RunPlan(clean.path());
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  auto b = RunPlan(killed.path(), "--test-fault validator:sigkill_after=3");
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  EXPECT_GE(b.json["restarts"].get<int>(), 1) << b.out;
  EXPECT_EQ(TargetDigest(killed / "out/target.db"), TargetDigest(clean / "out/target.db"));
  EXPECT_EQ(Total(b.json, "loaded"), Total(a.json, "loaded"));
}

TEST(ValidationEndToEnd, ReviewRoundTripChangesWhatIsLoaded) {
  ScratchDir dir("v-review");
  PrepareQuickstart(dir.path(), 6000, 2500);
  // Malformed e-mails are held for a steward instead of rejected.
  EditPlan(dir.path(), "pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',\n       severity: error",
           "pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',\n       severity: review");
  auto first = RunPlan(dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const uint64_t held = Total(first.json, "review");
  ASSERT_GE(held, 3u) << first.out;
  const std::string run = first.json["run_id"];
  const std::string state = " --state-dir " + dir.path() + "/state";
  const std::string csv = dir.path() + "/held.csv";
  auto exp = Shell(Sluice() + " review export " + run + " --out " + csv + state);
  ASSERT_EQ(exp.exit_code, 0) << exp.err;
  auto lines = Lines(ReadFile(csv));
  ASSERT_EQ(lines.size(), held + 1) << ReadFile(csv);
  ASSERT_EQ(lines[0].rfind("kind,run,wave,entity,source,key,", 0), 0u) << lines[0];
  // The steward: a corrected e-mail, a rejection and a release, by name. The
  // last columns are decision, corrected_value, corrections, steward, note.
  std::vector<std::string> keys;
  std::string edited = lines[0] + "\r\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string line = lines[i];
    ASSERT_EQ(line.substr(line.size() - 5), ",,,,,") << line;  // undecided
    line.resize(line.size() - 5);
    // source and key are the 5th and 6th columns (no quotes in them).
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',') && cols.size() < 6;) cols.push_back(c);
    keys.push_back(cols[4] + ":" + cols[5]);
    if (i == 1) line += ",,fixed@example.org,,alice,typo in the domain";
    if (i == 2) line += ",reject,,,bob,not a real doctor";
    if (i == 3) line += ",load,,,carol,";
    if (i > 3) line += ",,,,,";  // left open
    edited += line + "\r\n";
  }
  WriteFile(csv, edited);
  auto imp = Shell(Sluice() + " review import " + csv + state);
  ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;
  EXPECT_NE(imp.out.find("imported 3 record decision(s)"), std::string::npos) << imp.out;

  auto second = RunPlan(dir.path());
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(Total(second.json, "review"), held - 3) << second.out;
  EXPECT_EQ(Total(second.json, "rejected"), Total(first.json, "rejected") + 1) << second.out;
  EXPECT_EQ(Total(second.json, "loaded"), Total(first.json, "loaded") + 2) << second.out;
  // What the target holds now: the corrected e-mail, and the released record.
  // The trace is the contract: the correction, by whom, and the load.
  auto trace = Shell(Sluice() + " trace hcp " + keys[0] + state);
  ASSERT_EQ(trace.exit_code, 0) << trace.err;
  EXPECT_NE(trace.out.find("corrected by steward alice"), std::string::npos) << trace.out;
  EXPECT_NE(trace.out.find("fixed@example.org"), std::string::npos) << trace.out;
  EXPECT_NE(trace.out.find("LOADED"), std::string::npos) << trace.out;
  auto rejected = Shell(Sluice() + " trace hcp " + keys[1] + state);
  EXPECT_NE(rejected.out.find("rejected by steward bob"), std::string::npos) << rejected.out;
  auto released = Shell(Sluice() + " trace hcp " + keys[2] + state);
  EXPECT_NE(released.out.find("released for loading by steward carol"), std::string::npos)
      << released.out;
  // A bad import is refused with its line, and stores nothing.
  WriteFile(csv, lines[0] + "\r\n" + lines[1].substr(0, lines[1].size() - 5) + ",load,,,,\r\n");
  auto bad = Shell(Sluice() + " review import " + csv + state);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("held.csv:2: a decided row needs the steward's name"), std::string::npos)
      << bad.err;
}

TEST(ValidationEndToEnd, PlanCheckRefusesABadExpressionWithPathAndPosition) {
  ScratchDir dir("v-expr");
  PrepareQuickstart(dir.path(), 1000, 1000);
  EditPlan(dir.path(), "validation:\n  hcp:\n",
           "validation:\n  hcp:\n    - {name: beds, kind: expression, expression: "
           "\"account_type != 'HOSPITAL' or bedz > 0\"}\n");
  auto r = Shell(Sluice() + " plan check " + dir.path() + "/plan.yaml");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("validation.hcp[0].expression: position 31: entity hcp has no field 'bedz'"),
            std::string::npos)
      << r.out;
}

TEST(ValidationEndToEnd, HundredThousandFailuresAreAllRetrievable) {
  ScratchDir dir("v-100k");
  const std::string state = dir.path() + "/state";
  {
    auto audit = AuditStore::Open(state + "/audit.db");
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
    RunRecord run;
    run.run_id = "run-100k";
    run.plan_name = "bulk";
    run.status = "completed";
    ASSERT_TRUE((*audit)->BeginRun(run).ok());
    constexpr int kBatches = 25, kPerBatch = 4000;
    for (int b = 0; b < kBatches; ++b) {
      v1::Commit c;
      c.set_stage("validate");
      c.mutable_batch()->set_run_id("run-100k");
      c.mutable_batch()->set_entity("hcp");
      c.mutable_batch()->set_source("dedup/0");
      c.mutable_batch()->set_sequence(b);
      for (int i = 0; i < kPerBatch; ++i) {
        auto* f = c.add_fates();
        int n = b * kPerBatch + i;
        f->set_kind(i % 10 == 0 ? v1::FATE_WARNING : v1::FATE_REJECTED);
        f->set_source("crm");
        f->set_key("K" + std::to_string(n));
        f->set_stage("validate");
        f->set_rule(i % 2 ? "email_format" : "revenue_range");
        f->set_field(i % 2 ? "email" : "revenue");
        f->set_value(i % 2 ? "bad,\"mail\"" : "-1");
        f->set_reason("reason " + std::to_string(n));
      }
      ASSERT_TRUE((*audit)->RecordCommit("run-100k", 0, c).ok());
    }
  }
  auto all =
      Shell(Sluice() + " errors run-100k --csv " + dir.path() + "/all.csv --state-dir " + state);
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find("wrote 100000 failure(s)"), std::string::npos) << all.out;
  auto lines = Lines(ReadFile(dir.path() + "/all.csv"));
  EXPECT_EQ(lines.size(), 100001u);
  // Every key is there once.
  std::set<std::string> keys;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto a = lines[i].find(",crm,") + 5;
    keys.insert(lines[i].substr(a, lines[i].find(',', a) - a));
  }
  EXPECT_EQ(keys.size(), 100000u);
  auto one_rule = Shell(Sluice() + " errors run-100k --rule email_format --csv " + dir.path() +
                        "/email.csv --state-dir " + state);
  EXPECT_NE(one_rule.out.find("wrote 50000 failure(s)"), std::string::npos) << one_rule.out;
}

}  // namespace
}  // namespace sluice::testing
