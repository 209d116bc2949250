// Supervision and the coordinator's own death (issue 15, docs/operations.md),
// with the real executables: `sluice status` from another process sees the
// counts advance; `sluice halt`, SIGINT and SIGTERM of `sluice run` end the
// run halted and resumable; kill -9 of the coordinator at several moments
// leaves a run that `sluice runs` shows interrupted and `sluice resume`
// finishes with the target and the fates of a clean run; `sluice run`
// without --local says what it waits for.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

std::string Sluice(const std::string& args) { return BinDir() + "/sluice " + args; }

// The quickstart (one wave, hcp from a CSV and a SQLite source, dedup and
// validation) in batches of 50, so that a run is many batches long.
void PrepareSmall(const std::string& dir, int crm_rows = 1500, int erp_rows = 1000) {
  PrepareQuickstart(dir, crm_rows, erp_rows, "batch_size: 50\n");
}

// What a run leaves behind that must not depend on how it got there: every
// loaded row with its source key, every cross-reference entry with the row
// it points at, and every recorded fate of `run_id` (target ids excluded:
// they depend on the load order).
std::string Outcome(const std::string& dir, const std::string& run_id) {
  const std::string target = dir + "/out/target.db";
  std::string all = TargetDigest(target) + "\n";
  // Each entry with the (source, key) of the row it points at (a merged
  // record: its survivor's), joined here: the table has no index for it.
  std::map<std::string, std::string> row_of;  // entity|target_id -> source|key
  const auto xref = Query(target,
                          "SELECT entity || '|' || target_id, source || '|' || key, kind FROM "
                          "sluice_xref ORDER BY entity, source, key");
  for (const auto& r : xref) {
    const size_t a = r.find('|', r.find('|') + 1), b = r.rfind('|');
    if (r.substr(b + 1) == "loaded") row_of[r.substr(0, a)] = r.substr(a + 1, b - a - 1);
  }
  for (const auto& r : xref) {
    const size_t a = r.find('|', r.find('|') + 1);
    all += "xref|" + r.substr(a + 1) + "|" + row_of[r.substr(0, a)] + "\n";
  }
  for (const auto& r : Query(dir + "/state/audit.db",
                             "SELECT entity, source, key, kind, stage, rule, survivor_source, "
                             "survivor_key FROM fates WHERE run_id = '" +
                                 run_id + "' ORDER BY 1, 2, 3, 4, 5, 6")) {
    all += "fate|" + r + "\n";
  }
  return all;
}

// A process started in the background with its stdout and stderr in files.
struct Background {
  pid_t pid = -1;
  std::string out_path, err_path;
};

Background Start(const std::string& command, const std::string& dir) {
  Background b;
  b.out_path = dir + "/bg.out";
  b.err_path = dir + "/bg.err";
  b.pid = fork();
  if (b.pid == 0) {
    const std::string full = "exec " + command + " >" + b.out_path + " 2>" + b.err_path;
    execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return b;
}

// Waits for it; its exit code, 128 + N when signal N ended it.
int Wait(const Background& b) {
  int status = 0;
  waitpid(b.pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

nlohmann::json LastJson(const std::string& text) {
  auto end = text.find_last_not_of('\n');
  if (end == std::string::npos) return nullptr;
  auto start = text.rfind('\n', end);
  return nlohmann::json::parse(text.substr(start == std::string::npos ? 0 : start + 1), nullptr,
                               false);
}

// Waits for the background run to end; its JSON summary (the last stdout
// line) with its exit code added as "exit_code".
nlohmann::json Ended(const Background& run) {
  const int code = Wait(run);
  nlohmann::json summary = LastJson(ReadFile(run.out_path));
  if (!summary.is_object()) summary = nlohmann::json::object();
  summary["exit_code"] = code;
  return summary;
}

// The run ended halted (exit 3) with `reason` in its halt reason.
void ExpectHalted(const Background& run, const nlohmann::json& summary, const std::string& reason) {
  ASSERT_EQ(summary["exit_code"], 3) << ReadFile(run.out_path) << ReadFile(run.err_path);
  ASSERT_EQ(summary["status"], "halted");
  EXPECT_NE(summary["halt_reason"].get<std::string>().find(reason), std::string::npos)
      << summary["halt_reason"];
}

uint64_t Work(const nlohmann::json& status) {
  uint64_t n = 0;
  for (const auto& e : status["entities"]) {
    n += e["extracted"].get<uint64_t>() + e["ingested"].get<uint64_t>() +
         e["loaded"].get<uint64_t>();
  }
  return n;
}

// `sluice status --json` of the dir's running run until `done` says so;
// the statuses seen, at most `seconds` of them.
std::vector<nlohmann::json> Watch(const std::string& dir,
                                  const std::function<bool(const nlohmann::json&)>& done,
                                  int seconds = 120) {
  std::vector<nlohmann::json> seen;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    auto s = Shell(Sluice("status --json --state-dir " + dir + "/state"));
    if (s.exit_code == 0 && s.json.is_object()) {
      seen.push_back(s.json);
      if (done(s.json)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return seen;
}

std::string RunIdOf(const std::string& dir) {
  auto rows = Query(dir + "/state/audit.db", "SELECT run_id FROM runs ORDER BY started_ms DESC");
  return rows.empty() ? "" : rows.front();
}

std::string ShownStatus(const std::string& dir, const std::string& run_id) {
  auto runs = Shell(Sluice("runs --state-dir " + dir + "/state"));
  for (size_t at = runs.out.find(run_id); at != std::string::npos;) {
    const size_t eol = runs.out.find('\n', at);
    const std::string line = runs.out.substr(at, eol - at);
    // The status column comes first; a halt reason may name another word.
    std::string shown = "?";
    size_t first = std::string::npos;
    for (const char* s : {"interrupted", "running", "halted", "completed", "resumed"}) {
      const size_t pos = line.find(std::string(" ") + s + " ");
      if (pos < first) first = pos, shown = s;
    }
    return shown;
    break;
  }
  return "?";
}

// `sluice resume RUN` of the run in `dir`.
CommandResult Resume(const std::string& dir, const std::string& run_id) {
  return Shell(Sluice("resume " + run_id + " --quiet --json --state-dir " + dir + "/state"));
}

// The clean run's outcome for a fresh copy of the small plan.
std::string CleanOutcome(const std::string& name) {
  ScratchDir clean(name);
  PrepareSmall(clean.path());
  auto r = RunPlan(clean.path(), "--quiet");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return Outcome(clean.path(), r.json["run_id"]);
}

// ---- kill -9 of the coordinator, then `sluice resume` ----

class CoordinatorKilled : public ::testing::TestWithParam<const char*> {};

TEST_P(CoordinatorKilled, ResumeContinuesTheRunToTheCleanTarget) {
  const std::string clean = CleanOutcome("supervise_clean");
  ScratchDir dir("supervise_killed");
  PrepareSmall(dir.path());
  auto killed =
      RunPlan(dir.path(), std::string("--quiet --test-fault coordinator:sigkill_at=") + GetParam());
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.out << killed.err;
  const std::string run_id = RunIdOf(dir.path());
  ASSERT_FALSE(run_id.empty());
  // Nobody runs it any more: never `running` forever.
  EXPECT_EQ(ShownStatus(dir.path(), run_id), "interrupted");

  auto resumed = Resume(dir.path(), run_id);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.out.find("continuing interrupted run " + run_id), std::string::npos)
      << resumed.out;
  ASSERT_EQ(resumed.json["status"], "completed") << resumed.out;
  EXPECT_EQ(resumed.json["run_id"], run_id);  // continued in place
  EXPECT_EQ(resumed.json["generation"], 2);
  EXPECT_EQ(ShownStatus(dir.path(), run_id), "completed");
  EXPECT_EQ(Outcome(dir.path(), run_id), clean);
}

INSTANTIATE_TEST_SUITE_P(Moments, CoordinatorKilled,
                         ::testing::Values("dedup_ingest:12", "resolve", "load:4", "reconcile"),
                         [](const auto& info) {
                           std::string name = info.param;
                           return name.substr(0, name.find(':'));
                         });

// Two waves: the coordinator killed in the second one; the resume does not
// load the first one again.
TEST(Supervision, ACompletedWaveIsNotRedoneAfterTheCoordinatorDied) {
  ScratchDir dir("supervise_waves");
  PrepareConsolidation(dir.path());
  auto killed = RunPlan(dir.path(), "--quiet --test-fault coordinator:sigkill_at=reconcile:2");
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.out << killed.err;
  const std::string run_id = RunIdOf(dir.path());
  const std::string audit = dir / "state/audit.db";
  const auto loads_before = Query(audit, "SELECT COUNT(*) FROM batches WHERE run_id = '" + run_id +
                                             "' AND stage = 'load' AND wave = 0");
  auto resumed = Resume(dir.path(), run_id);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  ASSERT_EQ(resumed.json["status"], "completed") << resumed.out;
  EXPECT_NE(resumed.out.find("1 completed wave(s)"), std::string::npos) << resumed.out;
  EXPECT_EQ(Query(audit, "SELECT COUNT(*) FROM batches WHERE run_id = '" + run_id +
                             "' AND stage = 'load' AND wave = 0"),
            loads_before);
  for (const auto& e : resumed.json["entities"]) {
    EXPECT_TRUE(e["reconciled"].get<bool>()) << e.dump();
  }

  ScratchDir clean("supervise_waves_clean");
  PrepareConsolidation(clean.path());
  auto c = RunPlan(clean.path(), "--quiet");
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  for (const char* field : {"extracted", "loaded", "merged", "rejected", "review"}) {
    EXPECT_EQ(Sum(resumed.json, field), Sum(c.json, field)) << field;
  }
}

// ---- status, halt and signals from other processes ----

// Starts the small plan (bigger: a few seconds) in the background and waits
// until `sluice status` shows it running with records extracted.
Background StartWatched(const ScratchDir& dir, std::vector<nlohmann::json>* seen) {
  PrepareSmall(dir.path(), 30000, 20000);
  Background run =
      Start(Sluice("run " + dir / "plan.yaml" + " --local --json --state-dir " + dir / "state"),
            dir.path());
  *seen = Watch(dir.path(),
                [](const nlohmann::json& s) { return s["status"] == "running" && Work(s) > 0; });
  return run;
}

TEST(Supervision, StatusShowsAdvancingCountsAndHaltGivesAResumableRun) {
  ScratchDir dir("supervise_halt");
  std::vector<nlohmann::json> seen;
  Background run = StartWatched(dir, &seen);
  ASSERT_FALSE(seen.empty());
  ASSERT_EQ(seen.back()["status"], "running") << seen.back().dump();
  const std::string run_id = seen.back()["run_id"];
  EXPECT_FALSE(seen.back()["workers"].empty());
  // The counts advance between two looks.
  const uint64_t first = Work(seen.back());
  auto later = Watch(dir.path(), [first](const nlohmann::json& s) { return Work(s) > first; });
  ASSERT_FALSE(later.empty());
  EXPECT_GT(Work(later.back()), first) << later.back().dump();

  auto halt = Shell(
      Sluice("halt " + run_id + " --reason 'operator test' --state-dir " + dir.path() + "/state"));
  EXPECT_EQ(halt.exit_code, 0) << halt.out << halt.err;
  const nlohmann::json summary = Ended(run);
  if (summary["status"] == "completed") GTEST_SKIP() << "the run completed before the halt";
  ExpectHalted(run, summary, "operator test");
  if (HasFatalFailure()) return;
  EXPECT_EQ(ShownStatus(dir.path(), run_id), "halted");
  // The display ran (stderr is no terminal: a plain line every 5 s), the
  // JSON alone last on stdout.
  if (summary["seconds"].get<double>() > 6) {
    EXPECT_NE(ReadFile(run.err_path).find("sluice: " + run_id), std::string::npos);
  }

  auto resumed = Resume(dir.path(), run_id);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  ASSERT_EQ(resumed.json["status"], "completed");
  ScratchDir clean("supervise_halt_clean");
  PrepareSmall(clean.path(), 30000, 20000);
  auto c = RunPlan(clean.path(), "--quiet");
  ASSERT_EQ(c.exit_code, 0);
  EXPECT_EQ(Outcome(dir.path(), resumed.json["run_id"]), Outcome(clean.path(), c.json["run_id"]));
}

class Interrupted : public ::testing::TestWithParam<int> {};

TEST_P(Interrupted, TheRunEndsHaltedAndResumable) {
  ScratchDir dir("supervise_signal");
  std::vector<nlohmann::json> seen;
  Background run = StartWatched(dir, &seen);
  ASSERT_FALSE(seen.empty());
  const std::string run_id = seen.back()["run_id"];
  kill(run.pid, GetParam());
  const nlohmann::json summary = Ended(run);
  if (summary["status"] == "completed") GTEST_SKIP() << "the run completed before the signal";
  ExpectHalted(run, summary, "interrupted by SIG");
  if (HasFatalFailure()) return;
  EXPECT_EQ(ShownStatus(dir.path(), run_id), "halted");
  // No worker of the run is left behind.
  for (const auto& w : seen.back()["workers"]) {
    EXPECT_NE(kill(w["pid"].get<pid_t>(), 0), 0) << w.dump();
  }

  auto resumed = Resume(dir.path(), run_id);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_EQ(resumed.json["status"], "completed");
  EXPECT_EQ(Sum(resumed.json, "extracted"), 50000u);
}

INSTANTIATE_TEST_SUITE_P(Signals, Interrupted, ::testing::Values(SIGINT, SIGTERM),
                         [](const auto& info) {
                           return std::string(info.param == SIGINT ? "SIGINT" : "SIGTERM");
                         });

// ---- a run without --local and without workers ----

TEST(Supervision, ARunWithoutWorkersSaysWhatItWaitsFor) {
  ScratchDir dir("supervise_waiting");
  PrepareSmall(dir.path(), 1000, 1000);
  auto r = Shell(Sluice("run " + dir / "plan.yaml" + " --bind tcp://127.0.0.1:* --state-dir " +
                        dir / "state" + " --register-timeout 6"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("waiting for workers to register on tcp://"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("extractor-0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("gave up after 6s"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sluice::testing
