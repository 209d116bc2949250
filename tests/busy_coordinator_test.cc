// A coordinator busy for longer than its workers wait for it (one very large
// commit on a loaded machine, simulated by `--test-fault
// coordinator:stall_at=WHEN`, 25 s) is not taken for dead: its keepalive
// thread answers for it (coordinator/keepalive.h), its own busy time is not
// counted as the workers' silence (Roster::Excuse), and the run completes
// with the clean run's outcome without a single worker being started again.
#include <gtest/gtest.h>

#include "tests/harness.h"
#include "tests/supervision_testing.h"

namespace sluice::testing {
namespace {

class BusyCoordinator : public ::testing::TestWithParam<const char*> {};

TEST_P(BusyCoordinator, IsNotTakenForDead) {
  const std::string clean = CleanOutcome("busy_clean");
  ScratchDir dir("busy_coordinator");
  PrepareSmall(dir.path());
  auto run =
      RunPlan(dir.path(), std::string("--quiet --test-fault coordinator:stall_at=") + GetParam());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  ASSERT_EQ(run.json["status"], "completed") << run.out;
  const std::string run_id = RunIdOf(dir.path());
  EXPECT_EQ(Outcome(dir.path(), run_id), clean);
  EXPECT_EQ(run.json["restarts"], 0) << "a worker took the busy coordinator for dead: " << run.err;
}

INSTANTIATE_TEST_SUITE_P(Moments, BusyCoordinator, ::testing::Values("dedup_ingest:12", "load:4"),
                         [](const auto& info) {
                           std::string name = info.param;
                           return name.substr(0, name.find(':'));
                         });

}  // namespace
}  // namespace sluice::testing
