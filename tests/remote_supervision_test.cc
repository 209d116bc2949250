// Supervision of a run whose workers run elsewhere (issue 15,
// docs/operations.md#after-the-coordinator-died), with the real executables
// in remote mode (not --local) over TCP, sealed as on a cluster: the
// coordinator killed with SIGKILL mid-run and `sluice resume --bind` on the
// same endpoint; the workers, which outlived it, register with the new one
// (--rejoin) and the run ends with a clean run's target. And only the run's
// supervisor key may ask a sealed coordinator for its status or halt it: a
// worker's key is refused.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/harness.h"
#include "tests/supervision_testing.h"

namespace sluice::testing {
namespace {

const char* const kRoles[] = {"extractor", "transformer", "deduper",
                              "validator", "loader",      "reconciler"};

// A sealed run with its workers started by hand, as deploy/README.md does
// on other machines: the coordinator's key pair, one pair for the workers'
// machine, an endpoint below Linux's ephemeral ports (where the tests
// running at the same time bind theirs).
class RemoteRun {
 public:
  explicit RemoteRun(const ScratchDir& dir) : dir_(dir) {
    const int port = 20000 + static_cast<int>(std::hash<std::string>{}(dir.path()) % 12000);
    endpoint_ = "tcp://127.0.0.1:" + std::to_string(port);
    for (const std::string name : {"coordinator", "workers/host-b"}) {
      auto made =
          Shell(Sluice("keys generate --out " + keys() + "/" + name.substr(0, name.rfind('/') + 1) +
                       " " + name.substr(name.rfind('/') + 1)));
      EXPECT_EQ(made.exit_code, 0) << made.err;
    }
  }
  ~RemoteRun() {
    for (const Background& w : workers_) kill(w.pid, SIGKILL);
    for (const Background& w : workers_) Wait(w);
  }

  const std::string& endpoint() const { return endpoint_; }
  std::string keys() const { return dir_ / "keys"; }
  // What `sluice run` and `sluice resume` take to bind the run's endpoint sealed.
  std::string BindArgs() const {
    return "--bind " + endpoint_ + " --key " + keys() + "/coordinator.key_secret" +
           " --authorized-keys " + keys() + "/workers";
  }
  // `sluice run PLAN` with `extra`, in the background.
  Background StartCoordinator(const std::string& extra) {
    return Start(Sluice("run " + dir_ / "plan.yaml" + " --json --quiet " + BindArgs() +
                        " --state-dir " + dir_ / "state " + extra),
                 dir_.path(), "coordinator");
  }
  // One worker of each role, `dedup_shards` dedup shards.
  void StartWorkers(int dedup_shards = 1) {
    for (const std::string role : kRoles) {
      for (int n = 0; n < (role == "deduper" ? dedup_shards : 1); ++n) {
        const std::string name = role + "-" + std::to_string(n);
        workers_.push_back(Start(BinDir() + "/sluice-" + role + " --coordinator " + endpoint_ +
                                     " --key " + keys() + "/workers/host-b.key_secret" +
                                     " --coordinator-key " + keys() + "/coordinator.key" +
                                     " --ordinal " + std::to_string(n) +
                                     " --bind 'tcp://127.0.0.1:*' --rejoin-timeout 120",
                                 dir_.path(), name));
        names_.push_back(name);
      }
    }
  }
  // Each worker's stderr, by identity.
  std::vector<std::pair<std::string, std::string>> WorkerLogs() const {
    std::vector<std::pair<std::string, std::string>> logs;
    for (size_t i = 0; i < workers_.size(); ++i) {
      logs.emplace_back(names_[i], ReadFile(workers_[i].err_path));
    }
    return logs;
  }

 private:
  const ScratchDir& dir_;
  std::string endpoint_;
  std::vector<Background> workers_;
  std::vector<std::string> names_;
};

// The resume at once (the new coordinator asks the workers that heartbeat
// to register: Rejoin), or after the workers noticed the silence (20 s) and
// started afresh to wait for a coordinator.
class RemoteWorkersRejoin : public ::testing::TestWithParam<int> {};

TEST_P(RemoteWorkersRejoin, ACoordinatorResumedWithBindAndTheRunEndsAsACleanOne) {
  const std::string clean = CleanOutcome("remote_resume_clean");
  ScratchDir dir("remote_resume");
  PrepareSmall(dir.path());
  RemoteRun run(dir);
  Background coordinator = run.StartCoordinator("--test-fault coordinator:sigkill_at=load:4");
  run.StartWorkers();
  ASSERT_EQ(Wait(coordinator), 128 + SIGKILL) << ReadFile(coordinator.err_path);
  const std::string run_id = RunIdOf(dir.path());
  ASSERT_FALSE(run_id.empty());
  EXPECT_EQ(ShownStatus(dir.path(), run_id), "interrupted");

  // The workers are still there, waiting for a coordinator on the endpoint.
  std::this_thread::sleep_for(std::chrono::seconds(GetParam()));
  auto resumed = Resume(dir.path(), run_id, run.BindArgs());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  ASSERT_EQ(resumed.json["status"], "completed") << resumed.out;
  EXPECT_EQ(resumed.json["run_id"], run_id);  // continued in place
  EXPECT_EQ(resumed.json["generation"], 2);
  EXPECT_EQ(ShownStatus(dir.path(), run_id), "completed");
  EXPECT_EQ(Outcome(dir.path(), run_id), clean);
  // Every one of them outlived the first coordinator and registered with the
  // second (nothing started them again: the same processes, --rejoin).
  for (const auto& [name, log] : run.WorkerLogs()) {
    EXPECT_NE(log.find(GetParam() > 0 ? "lost the coordinator (lost the coordinator: coordinator "
                                        "silent for"
                                      : "lost the coordinator"),
              std::string::npos)
        << name << ":\n"
        << log;
  }
}

INSTANTIATE_TEST_SUITE_P(After, RemoteWorkersRejoin, ::testing::Values(0, 25),
                         [](const auto& info) {
                           return info.param == 0 ? std::string("AtOnce")
                                                  : std::string("TheWorkersNoticedTheSilence");
                         });

// A dead remote run's coordinator listened on a port the workers come back
// to: `sluice resume` without --bind or --local does not quietly start local
// workers instead when that was every interface.
TEST(RemoteWorkers, ResumeOfARunBoundOnEveryInterfaceAsksWhereTheWorkersAre) {
  ScratchDir dir("remote_resume_where");
  PrepareSmall(dir.path(), 1000, 1000);
  auto killed =
      Shell(Sluice("run " + dir / "plan.yaml" + " --json --quiet --insecure --bind " +
                   "'tcp://0.0.0.0:*' --state-dir " + dir / "state" + " --register-timeout 2"));
  ASSERT_NE(killed.exit_code, 0);  // nobody registered
  const std::string run_id = RunIdOf(dir.path());
  if (run_id.empty()) GTEST_SKIP() << "a run that never started is not recorded";
  auto resumed = Resume(dir.path(), run_id);
  EXPECT_NE(resumed.exit_code, 0);
  EXPECT_NE(resumed.err.find("--bind"), std::string::npos) << resumed.err;
}

TEST(RemoteWorkers, OnlyTheSupervisorKeyMayAskForStatusOrHalt) {
  ScratchDir dir("remote_supervisor_key");
  // Long enough to outlast the refused asks (status and halt wait 3 s and
  // 5 s for an answer) on a quiet machine too: 160,000 rows in batches of
  // 50 took about 8 s there once jemalloc had huge pages (2026-12-07), and
  // the run's own halt came too late.
  PrepareSmall(dir.path(), 300000, 180000);
  RemoteRun run(dir);
  Background coordinator = run.StartCoordinator("");
  run.StartWorkers();
  auto seen = Watch(
      dir.path(), [](const nlohmann::json& s) { return s["status"] == "running" && Work(s) > 0; });
  ASSERT_FALSE(seen.empty());
  const std::string run_id = seen.back()["run_id"];
  // The run's own supervisor key (left in its state dir) is answered, first
  // (the refused asks below take 8 s).
  const std::string as_supervisor =
      " --coordinator " + run.endpoint() + " --state-dir " + dir / "state";
  auto answered = Shell(Sluice("status " + run_id + " --json" + as_supervisor));
  EXPECT_EQ(answered.exit_code, 0) << answered.err;
  EXPECT_EQ(answered.json["run_id"], run_id);
  // Another state dir whose supervision keys for the run are a worker's
  // key pair: it reaches the coordinator sealed, as that worker would.
  ScratchDir thief("remote_supervisor_key_thief");
  const std::string stolen = thief / "state/supervise/" + run_id;
  std::filesystem::create_directories(stolen);
  std::filesystem::copy_file(run.keys() + "/workers/host-b.key_secret",
                             stolen + "/supervisor.key_secret");
  std::filesystem::copy_file(run.keys() + "/coordinator.key", stolen + "/coordinator.key");
  std::filesystem::permissions(stolen, std::filesystem::perms::owner_all);
  const std::string as_worker =
      " --coordinator " + run.endpoint() + " --state-dir " + thief / "state";
  auto status = Shell(Sluice("status " + run_id + as_worker));
  EXPECT_NE(status.exit_code, 0) << status.out;
  EXPECT_NE(status.err.find("no answer from the coordinator"), std::string::npos) << status.err;
  auto halt = Shell(Sluice("halt " + run_id + " --reason stolen --no-wait" + as_worker));
  EXPECT_NE(halt.exit_code, 0) << halt.out;

  // The run's own supervisor key (left in its state dir) is answered.
  auto halted = Shell(Sluice("halt " + run_id + " --reason operator" + as_supervisor));
  EXPECT_EQ(halted.exit_code, 0) << halted.out << halted.err;
  const nlohmann::json summary = Ended(coordinator);
  if (summary["status"] == "completed") GTEST_SKIP() << "the run completed before the halt";
  ExpectHalted(coordinator, summary, "operator");
  EXPECT_EQ(summary["halt_reason"].get<std::string>().find("stolen"), std::string::npos);
  EXPECT_NE(ReadFile(coordinator.err_path).find("not the run's supervisor key"), std::string::npos)
      << ReadFile(coordinator.err_path);
}

}  // namespace
}  // namespace sluice::testing
