// The coordinator's liveness record and how a run is shown from it: alive
// while its process exists on its host and its heartbeat is fresh,
// `interrupted` otherwise; a coordinator that continued the run fences the
// one it replaced.
#include "common/audit/liveness.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace sluice {
namespace {

CoordinatorRecord Record(const std::string& host, uint32_t pid, int64_t heartbeat_ms) {
  CoordinatorRecord r;
  r.run_id = "run-1";
  r.host = host;
  r.pid = pid;
  r.pid_start = "777";
  r.heartbeat_ms = heartbeat_ms;
  return r;
}

LivenessProbe Probe(const std::string& host, int64_t now_ms, uint32_t live_pid) {
  LivenessProbe p;
  p.host = host;
  p.now_ms = now_ms;
  p.process_alive = [live_pid](uint32_t pid, const std::string& start) {
    return pid == live_pid && start == "777";
  };
  return p;
}

TEST(LivenessTest, SameHostAliveWhileTheProcessExists) {
  EXPECT_TRUE(CoordinatorAlive(Record("db1", 42, 10'000), Probe("db1", 11'000, 42)));
  // kill -9: the process is gone at once, whatever the heartbeat says.
  EXPECT_FALSE(CoordinatorAlive(Record("db1", 42, 10'000), Probe("db1", 11'000, 43)));
}

TEST(LivenessTest, AStaleHeartbeatIsGoneFromAnywhere) {
  EXPECT_TRUE(CoordinatorAlive(Record("db1", 42, 10'000), Probe("laptop", 39'000, 0)));
  EXPECT_FALSE(CoordinatorAlive(Record("db1", 42, 10'000), Probe("laptop", 41'000, 0)));
  // Hung on its own host: the process exists but beats no more.
  EXPECT_FALSE(CoordinatorAlive(Record("db1", 42, 10'000), Probe("db1", 41'000, 42)));
}

TEST(LivenessTest, OnlyARunningRunCanBeInterrupted) {
  RunRecord run;
  run.status = "running";
  const auto alive = Probe("db1", 11'000, 42);
  const auto dead = Probe("db1", 11'000, 0);
  EXPECT_EQ(ShownStatus(run, Record("db1", 42, 10'000), alive), "running");
  EXPECT_EQ(ShownStatus(run, Record("db1", 42, 10'000), dead), "interrupted");
  // No record: a run of an earlier version that never ended.
  EXPECT_EQ(ShownStatus(run, std::nullopt, alive), "interrupted");
  run.status = "halted";
  EXPECT_EQ(ShownStatus(run, Record("db1", 42, 10'000), dead), "halted");
}

TEST(LivenessTest, ThisProcessIsAliveAndAReusedPidIsNot) {
  const LivenessProbe here = ThisMachine();
  const uint32_t self = static_cast<uint32_t>(getpid());
  const std::string start = ProcessStartToken(self);
  ASSERT_FALSE(start.empty());
  EXPECT_TRUE(here.process_alive(self, start));
  EXPECT_FALSE(here.process_alive(self, start + "0"));
  EXPECT_EQ(ProcessStartToken(0), "");
}

TEST(LivenessTest, TheStoreKeepsTheRecordAndFencesAnOlderGeneration) {
  auto dir = std::filesystem::temp_directory_path() /
             ("sluice-liveness-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    auto store = AuditStore::Open((dir / "audit.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    CoordinatorRecord r = Record("db1", 42, 10'000);
    r.control_endpoint = "tcp://0.0.0.0:5570";
    ASSERT_TRUE((*store)->RecordCoordinator(r).ok());
    auto beat = (*store)->BeatCoordinator("run-1", 1, 12'000, std::string("a\0b", 3));
    ASSERT_TRUE(beat.ok());
    EXPECT_TRUE(*beat);
    // A coordinator that continued the run takes it over...
    r.generation = 2;
    r.pid = 43;
    ASSERT_TRUE((*store)->RecordCoordinator(r).ok());
    // ... and the first one, should it wake up, learns that it must stop.
    beat = (*store)->BeatCoordinator("run-1", 1, 13'000, "");
    ASSERT_TRUE(beat.ok());
    EXPECT_FALSE(*beat);
  }
  auto reader = AuditStore::Open((dir / "audit.db").string(), /*readonly=*/true);
  ASSERT_TRUE(reader.ok());
  auto got = (*reader)->CoordinatorOf("run-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->generation, 2);
  EXPECT_EQ((*got)->pid, 43u);
  EXPECT_EQ((*got)->heartbeat_ms, 10'000);
  EXPECT_EQ((*got)->control_endpoint, "tcp://0.0.0.0:5570");
  auto none = (*reader)->CoordinatorOf("run-2");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  std::filesystem::remove_all(dir);
}

TEST(LivenessTest, TheProgressSnapshotKeepsItsBytes) {
  auto dir = std::filesystem::temp_directory_path() /
             ("sluice-liveness-bytes-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto store = AuditStore::Open((dir / "audit.db").string());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->RecordCoordinator(Record("db1", 42, 1)).ok());
  const std::string bytes("\x08\x00\xff\x10", 4);
  ASSERT_TRUE((*store)->BeatCoordinator("run-1", 1, 2, bytes).ok());
  auto got = (*store)->CoordinatorOf("run-1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->progress, bytes);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice
