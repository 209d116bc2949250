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
#include "tests/supervision_testing.h"

namespace sluice::testing {
namespace {

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

// On two dedup shards: each shard's log and each round of the resolve are
// taken up by the new coordinator; `sluice resume` without --dedup-shards
// runs the run's two shards again. The target is a clean run's on one
// shard (DESIGN.md 5.5: whatever the number of shards).
class CoordinatorKilledOnTwoShards : public ::testing::TestWithParam<const char*> {};

TEST_P(CoordinatorKilledOnTwoShards, ResumeContinuesTheRunToTheCleanTarget) {
  const std::string clean = CleanOutcome("supervise_shards_clean");
  ScratchDir dir("supervise_shards_killed");
  PrepareSmall(dir.path());
  auto killed = RunPlan(dir.path(), std::string("--quiet --dedup-shards 2 --test-fault "
                                                "coordinator:sigkill_at=") +
                                        GetParam());
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.out << killed.err;
  const std::string run_id = RunIdOf(dir.path());
  EXPECT_EQ(ShownStatus(dir.path(), run_id), "interrupted");
  auto resumed = Resume(dir.path(), run_id);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  ASSERT_EQ(resumed.json["status"], "completed") << resumed.out;
  EXPECT_EQ(resumed.json["run_id"], run_id);
  // The second coordinator's workers: two dedup shards, as the run had.
  const auto shards =
      Query(dir / "state/audit.db", "SELECT COUNT(DISTINCT stage) FROM batches WHERE run_id = '" +
                                        run_id + "' AND stage LIKE 'dedup_ingest%'");
  ASSERT_EQ(shards.size(), 1u);
  EXPECT_EQ(shards[0], "2");
  EXPECT_EQ(Outcome(dir.path(), run_id), clean);
}

INSTANTIATE_TEST_SUITE_P(Moments, CoordinatorKilledOnTwoShards,
                         ::testing::Values("dedup_ingest:12", "resolve", "load:4"),
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

// Whether process `pid` is gone (or a zombie) within a few seconds.
bool Dies(pid_t pid) {
  for (int i = 0; i < 50; ++i) {
    const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
    const size_t paren = stat.rfind(')');
    if (stat.empty() || paren == std::string::npos || stat.substr(paren + 2, 1) == "Z") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Ctrl-C twice: out at once (exit 130), no halt recorded; the run is
// `interrupted`, and `sluice resume RUN --local` starts local workers again
// and continues it in place.
TEST(Supervision, ASecondCtrlCExitsAtOnceAndResumeLocalContinuesTheRun) {
  ScratchDir dir("supervise_ctrl_c_twice");
  std::vector<nlohmann::json> seen;
  Background run = StartWatched(dir, &seen);
  ASSERT_FALSE(seen.empty());
  const std::string run_id = seen.back()["run_id"];
  kill(run.pid, SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kill(run.pid, SIGINT);
  const nlohmann::json summary = Ended(run);
  if (summary["status"] == "completed") GTEST_SKIP() << "the run completed before the signals";
  ASSERT_EQ(summary["exit_code"], 130) << ReadFile(run.out_path) << ReadFile(run.err_path);
  EXPECT_NE(ReadFile(run.err_path)
                .find("exiting at once; continue the run with `sluice resume " + run_id + "`"),
            std::string::npos)
      << ReadFile(run.err_path);
  EXPECT_EQ(ShownStatus(dir.path(), run_id), "interrupted");
  // Its local workers died with it (PR_SET_PDEATHSIG; a zombie not reaped
  // yet by whoever adopted it is dead).
  for (const auto& w : seen.back()["workers"]) {
    EXPECT_TRUE(Dies(w["pid"].get<pid_t>())) << w.dump();
  }
  auto both = Resume(dir.path(), run_id, "--local --bind tcp://127.0.0.1:5570");
  EXPECT_NE(both.exit_code, 0);
  EXPECT_NE(both.err.find("--local excludes --bind"), std::string::npos) << both.err;

  auto resumed = Resume(dir.path(), run_id, "--local");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.out.find("continuing interrupted run " + run_id), std::string::npos)
      << resumed.out;
  ASSERT_EQ(resumed.json["status"], "completed");
  EXPECT_EQ(resumed.json["run_id"], run_id);
  EXPECT_EQ(Sum(resumed.json, "extracted"), 50000u);
  EXPECT_EQ(Sum(resumed.json, "extracted"),
            Sum(resumed.json, "loaded") + Sum(resumed.json, "merged") +
                Sum(resumed.json, "rejected") + Sum(resumed.json, "review"));
}

// `sluice status` shows what each worker holds now: a lease until it is
// answered, nothing for a worker that finished its work.
TEST(Supervision, StatusShowsNoHoldingOnceTheWorkIsDone) {
  ScratchDir dir("supervise_holding");
  PrepareSmall(dir.path(), 30000, 20000);
  Background run =
      Start(Sluice("run " + dir / "plan.yaml" + " --local --json --state-dir " + dir / "state"),
            dir.path());
  // Once both sources are extracted (the entity resolves or loads), the
  // extractor holds nothing any more.
  auto seen = Watch(dir.path(), [](const nlohmann::json& s) {
    for (const auto& e : s["entities"]) {
      if (e["phase"] == "output" || e["phase"] == "finished") return true;
    }
    return false;
  });
  ASSERT_FALSE(seen.empty());
  bool extracting = false;
  for (const auto& look : seen) {
    for (const auto& w : look["workers"]) {
      if (w["role"] == "extractor" && w["holding"].get<std::string>().rfind("extracting", 0) == 0) {
        extracting = true;
      }
    }
  }
  for (const auto& w : seen.back()["workers"]) {
    if (w["role"] == "extractor") EXPECT_EQ(w["holding"], "") << seen.back().dump();
    // A streaming stage's finished batch is not shown as held.
    if (w["role"] == "transformer") EXPECT_EQ(w["holding"], "") << seen.back().dump();
  }
  const nlohmann::json summary = Ended(run);
  EXPECT_EQ(summary["exit_code"], 0) << ReadFile(run.err_path);
  EXPECT_TRUE(extracting || seen.size() == 1) << "no look saw the extractor extracting";
}

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
