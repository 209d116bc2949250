// Issue 23, over the real executables: a run in a hostile world.
// - Sources are pinned for the run: a source that changes after it was read
//   whole halts the run (before its wave reconciles) naming the source and
//   what changed, also in a run continued by `sluice resume`; an unchanged
//   one completes.
// - A worker that crashes twice on the same batch halts the run at once,
//   naming the batch, where it is in its source, the worker and its signal:
//   the extractor (it holds a lease) and the streaming workers (transformer,
//   validator, loader: they say which batch they start).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <string>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

std::string Sluice() { return BinDir() + "/sluice"; }

// The four doctors of tests/data/stale_row/, one batch per doctor.
void WritePlan(const std::string& dir) {
  for (const char* name : {"model.yaml", "doctors.csv"}) {
    WriteFile(dir + "/" + name, ReadFile(SourceDir() + "/tests/data/stale_row/" + name));
  }
  WriteFile(dir + "/plan.yaml",
            "batch_size: 1\n" + ReadFile(SourceDir() + "/tests/data/stale_row/plan.yaml"));
}

std::string HaltReason(const CommandResult& r) {
  return r.json["halt_reason"].is_string() ? r.json["halt_reason"].get<std::string>() : "";
}

std::string RunIdOf(const std::string& dir) {
  auto rows = Query(dir + "/state/audit.db", "SELECT run_id FROM runs ORDER BY rowid DESC LIMIT 1");
  return rows.empty() ? "" : rows[0];
}

TEST(PinnedSources, AnUnchangedSourceCompletesAndIsRecorded) {
  ScratchDir dir("d-pin-same");
  WritePlan(dir.path());
  auto r = RunPlan(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.json["status"], "completed");
  const std::string run = r.json["run_id"];
  EXPECT_EQ(
      Query(dir / "state/audit.db",
            "SELECT source, size FROM source_pins WHERE run_id = '" + run + "'"),
      std::vector<std::string>{"crm|" + std::to_string(ReadFile(dir / "doctors.csv").size())});
}

// The coordinator dies as the wave is about to reconcile (every batch read
// and loaded); the source grows; `sluice resume` continues the run with its
// pin and halts before the wave reconciles, naming the source.
TEST(PinnedSources, ASourceChangedAfterItsReadHaltsTheContinuedRun) {
  ScratchDir dir("d-pin-grown");
  WritePlan(dir.path());
  auto killed = RunPlan(dir.path(), "--quiet --test-fault coordinator:sigkill_at=reconcile");
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.out << killed.err;
  const std::string run = RunIdOf(dir.path());
  ASSERT_FALSE(run.empty());
  {
    std::ofstream grow(dir / "doctors.csv", std::ios::app);
    grow << "k6,N6,Zoe,Martin\n";
  }
  auto resumed =
      Shell(Sluice() + " resume " + run + " --quiet --json --state-dir " + dir.path() + "/state");
  EXPECT_NE(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_EQ(resumed.json["status"], "halted") << resumed.out;
  const std::string reason = HaltReason(resumed);
  EXPECT_NE(reason.find("source crm"), std::string::npos) << reason;
  EXPECT_NE(reason.find("changed during the run: it grew"), std::string::npos) << reason;
  EXPECT_EQ(resumed.json["waves_reconciled"].size(), 0u) << resumed.out;
}

// The same death with the source untouched: the continued run checks the
// pin and completes.
TEST(PinnedSources, AContinuedRunWithAnUnchangedSourceCompletes) {
  ScratchDir dir("d-pin-resume");
  WritePlan(dir.path());
  auto killed = RunPlan(dir.path(), "--quiet --test-fault coordinator:sigkill_at=reconcile");
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.out << killed.err;
  const std::string run = RunIdOf(dir.path());
  auto resumed =
      Shell(Sluice() + " resume " + run + " --quiet --json --state-dir " + dir.path() + "/state");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_EQ(resumed.json["status"], "completed") << resumed.out;
  EXPECT_EQ(Sum(resumed.json, "loaded"), 4u) << resumed.out;
}

// A worker that crashes (SIGSEGV) twice on the batch holding k4, the third
// batch, halts the run at once, naming the batch, what it holds and the
// signal: the extractor (it holds a lease) and the transformer on an
// extracted batch (its place in the source), the validator and the loader
// (streaming workers: they hold no lease) on a batch after the deduper (its
// records).
void ExpectPoisonHalt(const std::string& role, const std::string& where) {
  ScratchDir dir("d-poison-" + role);
  WritePlan(dir.path());
  const auto start = std::chrono::steady_clock::now();
  auto r = RunPlan(dir.path(), "--quiet --test-fault " + role + ":sigsegv_on_key=k4");
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.json["status"], "halted") << r.out;
  const std::string reason = HaltReason(r);
  EXPECT_NE(reason.find("worker " + role + "-0 crashed twice on batch"), std::string::npos)
      << reason;
  EXPECT_NE(reason.find(where), std::string::npos) << reason;
  EXPECT_NE(reason.find("signal 11 (SIGSEGV)"), std::string::npos) << reason;
  EXPECT_NE(reason.find("crashes the " + role), std::string::npos) << reason;
  EXPECT_EQ(reason.find("keeps dying"), std::string::npos) << reason;
  EXPECT_EQ(reason.find("no progress"), std::string::npos) << reason;
  EXPECT_LT(seconds, 30) << "halted at once, not after a stall";
}

TEST(PoisonBatch, AWorkerCrashingTwiceOnABatchHaltsNamingIt) {
  ExpectPoisonHalt("extractor", "source crm, entity hcp, from offset");
}

TEST(PoisonBatch, ATransformerCrashingTwiceOnABatchHaltsNamingIt) {
  ExpectPoisonHalt("transformer", "source crm, entity hcp, from offset");
}

TEST(PoisonBatch, AValidatorCrashingTwiceOnABatchHaltsNamingIt) {
  ExpectPoisonHalt("validator", "entity hcp; 1 record: crm/k4)");
}

TEST(PoisonBatch, ALoaderCrashingTwiceOnABatchHaltsNamingIt) {
  ExpectPoisonHalt("loader", "entity hcp; 1 record: crm/k4)");
}

}  // namespace
}  // namespace sluice::testing
