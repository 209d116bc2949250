#include "coordinator/roster.h"

#include <gtest/gtest.h>

namespace sluice::coordination {
namespace {

using std::chrono::milliseconds;
using Registration = Roster::Registration;

v1::Register Reg(uint32_t pid, const std::string& endpoint = "") {
  v1::Register r;
  r.set_pid(pid);
  r.set_data_endpoint(endpoint);
  return r;
}

Roster TwoShards() {
  RosterOptions o;
  o.heartbeat = milliseconds(500);
  o.worker_timeout = milliseconds(5000);
  return Roster({{"deduper", 2}, {"reconciler", 3}}, o);
}

TEST(RosterTest, OneWorkerPerRoleAndOrdinal) {
  Roster roster = TwoShards();
  std::vector<std::string> ids;
  for (const auto& [id, w] : roster.workers()) ids.push_back(id);
  EXPECT_EQ(ids, (std::vector<std::string>{"deduper-0", "deduper-1", "extractor-0", "loader-0",
                                           "reconciler-0", "transformer-0", "validator-0"}));
  EXPECT_EQ(roster.Find("deduper-1")->ordinal, 1u);
  EXPECT_EQ(roster.Find("deduper-2"), nullptr);
  EXPECT_FALSE(roster.AllRegistered());
  EXPECT_EQ(roster.Missing(),
            "deduper-0, deduper-1, extractor-0, loader-0, reconciler-0, transformer-0, "
            "validator-0");
}

TEST(RosterTest, RegistrationIsClassifiedBeforeAnythingChanges) {
  Roster roster = TwoShards();
  const Clock::TimePoint t0{};
  EXPECT_EQ(roster.Classify("stranger-0", Reg(1)), Registration::kUnknown);
  EXPECT_EQ(roster.Classify("loader-0", Reg(10)), Registration::kNew);
  EXPECT_FALSE(roster.Admit("loader-0", Reg(10, "tcp://a:1"), Registration::kNew, t0));
  EXPECT_TRUE(roster.Find("loader-0")->alive);
  // Until its reply went out, the same process asking again is taken afresh.
  EXPECT_EQ(roster.Classify("loader-0", Reg(10)), Registration::kNew);
  roster.MarkReplied("loader-0");
  EXPECT_EQ(roster.Classify("loader-0", Reg(10)), Registration::kRetry);
  // Another process under a live identity: issue 22 will refuse it.
  EXPECT_EQ(roster.Classify("loader-0", Reg(11)), Registration::kReplacesLive);
  ASSERT_TRUE(roster.WriteOff("loader-0"));
  EXPECT_TRUE(roster.Admit("loader-0", Reg(11), Registration::kReplacesLive, t0))
      << "a replacement counts as a restart";
  EXPECT_EQ(roster.Find("loader-0")->endpoint, "tcp://a:1") << "kept for the replacement";
  EXPECT_FALSE(roster.Find("loader-0")->replied);
}

TEST(RosterTest, ALaterGenerationCountsAsARestart) {
  Roster roster = TwoShards();
  EXPECT_FALSE(roster.Admit("extractor-0", Reg(1), Registration::kNew, {}));
  EXPECT_TRUE(roster.WriteOff("extractor-0"));
  EXPECT_FALSE(roster.WriteOff("extractor-0")) << "written off once";
  EXPECT_EQ(roster.NextGeneration("extractor-0"), 1);
  EXPECT_TRUE(roster.Admit("extractor-0", Reg(2), Registration::kNew, {}));
  EXPECT_EQ(roster.Find("extractor-0")->pid, 2u);
}

TEST(RosterTest, ASilentWorkerIsDueAfterTheTimeoutAndNotBefore) {
  Roster roster = TwoShards();
  const Clock::TimePoint t0 = Clock::TimePoint{} + std::chrono::hours(1);
  roster.Admit("loader-0", Reg(1), Registration::kNew, t0);
  roster.Admit("validator-0", Reg(2), Registration::kNew, t0);
  const Worker& loader = *roster.Find("loader-0");
  EXPECT_EQ(roster.Liveness(loader, t0), 10);  // 5 s of 500 ms heartbeats
  EXPECT_EQ(roster.Liveness(loader, t0 + milliseconds(499)), 10);
  EXPECT_EQ(roster.Liveness(loader, t0 + milliseconds(500)), 9);
  EXPECT_EQ(roster.Liveness(loader, t0 + milliseconds(4999)), 1);
  EXPECT_EQ(roster.Liveness(loader, t0 + milliseconds(5000)), 0);
  // The validator keeps talking; the loader falls silent.
  roster.Seen("validator-0", t0 + milliseconds(4000));
  roster.Seen("validator-0/hb", t0 + milliseconds(4500));  // not an identity: ignored
  EXPECT_TRUE(roster.Silent(t0 + milliseconds(5000)).empty()) << "due only past the timeout";
  EXPECT_EQ(roster.Silent(t0 + milliseconds(5001)), std::vector<std::string>{"loader-0"});
  roster.Seen("loader-0", t0 + milliseconds(5001));
  EXPECT_TRUE(roster.Silent(t0 + milliseconds(9000)).empty());
  EXPECT_EQ(roster.Silent(t0 + milliseconds(9001)), std::vector<std::string>{"validator-0"});
  // A worker written off is not silent any more: it is dead.
  roster.WriteOff("validator-0");
  EXPECT_EQ(roster.Silent(t0 + milliseconds(20000)), std::vector<std::string>{"loader-0"});
  EXPECT_EQ(roster.Alive(), std::vector<std::string>{"loader-0"});
}

TEST(RosterTest, TheCoordinatorsOwnBusyTimeIsNotTheWorkersSilence) {
  Roster roster = TwoShards();
  const Clock::TimePoint t0 = Clock::TimePoint{} + std::chrono::hours(1);
  roster.Admit("loader-0", Reg(1), Registration::kNew, t0);
  roster.Admit("validator-0", Reg(2), Registration::kNew, t0);
  roster.WriteOff("validator-0");
  // Heard at t0 + 1 s; then the coordinator spends 30 s on one commit.
  roster.Seen("loader-0", t0 + milliseconds(1000));
  const Clock::TimePoint back = t0 + milliseconds(31000);
  EXPECT_EQ(roster.Silent(back), std::vector<std::string>{"loader-0"}) << "without the excuse";
  roster.Excuse(milliseconds(30000), back);
  EXPECT_TRUE(roster.Silent(back).empty());
  EXPECT_TRUE(roster.Silent(back + milliseconds(5000)).empty()) << "5 s of its own silence";
  EXPECT_EQ(roster.Silent(back + milliseconds(5001)), std::vector<std::string>{"loader-0"});
  EXPECT_FALSE(roster.Find("validator-0")->alive) << "the dead stay dead";
  // Never into the future: a worker heard during the busy time is heard "now".
  roster.Seen("loader-0", back);
  roster.Excuse(milliseconds(30000), back);
  EXPECT_EQ(roster.Find("loader-0")->last_seen, back);
}

TEST(RosterTest, LeasesGoOnlyToLiveWorkersThatHaveTheirReply) {
  Roster roster = TwoShards();
  roster.Admit("deduper-0", Reg(1), Registration::kNew, {});
  roster.Admit("deduper-1", Reg(2), Registration::kNew, {});
  EXPECT_TRUE(roster.Ready("deduper").empty());
  roster.MarkReplied("deduper-1");
  ASSERT_EQ(roster.Ready("deduper").size(), 1u);
  EXPECT_EQ(roster.Ready("deduper")[0]->identity, "deduper-1");
  EXPECT_EQ(roster.Ready("deduper-1").size(), 1u);
  EXPECT_TRUE(roster.Ready("deduper-0").empty());
  roster.WriteOff("deduper-1");
  EXPECT_TRUE(roster.Ready("deduper").empty());
}

TEST(RosterTest, EndpointsFollowThePipelinesTopology) {
  Roster roster = TwoShards();
  v1::Register d0 = Reg(1, "tcp://d:0"), d1 = Reg(2, "tcp://d:1");
  d0.set_dedup_peer_endpoint("tcp://m:0");
  d1.set_dedup_peer_endpoint("tcp://m:1");
  roster.Admit("deduper-0", d0, Registration::kNew, {});
  roster.Admit("deduper-1", d1, Registration::kNew, {});
  roster.Admit("transformer-0", Reg(3, "tcp://t:0"), Registration::kNew, {});
  EXPECT_EQ(roster.UpstreamEndpoints("validator"),
            (std::vector<std::string>{"tcp://d:0", "tcp://d:1"}));
  EXPECT_EQ(roster.UpstreamEndpoints("deduper"), std::vector<std::string>{"tcp://t:0"});
  EXPECT_TRUE(roster.UpstreamEndpoints("extractor").empty());
  EXPECT_EQ(roster.MemberEndpoints(2), (std::vector<std::string>{"tcp://m:0", "tcp://m:1"}));
}

}  // namespace
}  // namespace sluice::coordination
