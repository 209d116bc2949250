#include "coordinator/keepalive.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

namespace sluice::coordination {
namespace {

using std::chrono::milliseconds;

// A control channel that records what was sent through it, from any thread.
class RecordingChannel final : public CoordinatorChannel {
 public:
  const std::string& endpoint() const override { return endpoint_; }
  Result<std::optional<Message>> Receive(milliseconds timeout) override {
    std::this_thread::sleep_for(timeout);
    return std::optional<Message>();
  }
  Status Send(const std::string& identity, const v1::Envelope& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    sent_.emplace_back(identity, message);
    return Status::Ok();
  }
  // The heartbeats sent to `identity` with sequence `sequence`.
  int Echoes(const std::string& identity, uint64_t sequence) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& [to, m] : sent_) {
      if (to == identity && m.has_heartbeat() && m.heartbeat().sequence() == sequence) ++n;
    }
    return n;
  }

 private:
  std::string endpoint_ = "inproc://recording";
  std::mutex mu_;
  std::vector<std::pair<std::string, v1::Envelope>> sent_;
};

v1::Envelope Echo(uint64_t sequence) {
  v1::Envelope e;
  e.mutable_heartbeat()->set_sequence(sequence);
  return e;
}

TEST(KeepaliveChannelTest, WhileTheCoordinatorListensItSpeaksForItself) {
  auto inner = std::make_unique<RecordingChannel>();
  RecordingChannel* sent = inner.get();
  KeepaliveChannel channel(std::move(inner), milliseconds(1000), milliseconds(5000));
  ASSERT_TRUE(channel.Send("loader-0", Echo(1)).ok());
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(channel.Receive(milliseconds(20)).ok());
  EXPECT_EQ(sent->Echoes("loader-0", 1), 1);
  EXPECT_EQ(sent->Echoes("loader-0", 0), 0) << "no echo on its behalf while it listens";
  EXPECT_EQ(channel.echoed_for_coordinator(), 0u);
}

TEST(KeepaliveChannelTest, ABusyCoordinatorsWorkersStillHearFromIt) {
  auto inner = std::make_unique<RecordingChannel>();
  RecordingChannel* sent = inner.get();
  KeepaliveChannel channel(std::move(inner), milliseconds(50), milliseconds(60000));
  ASSERT_TRUE(channel.Send("loader-0", Echo(7)).ok());
  ASSERT_TRUE(channel.Send("deduper-1", Echo(3)).ok());
  v1::Envelope lease;
  lease.mutable_lease();
  ASSERT_TRUE(channel.Send("validator-0", lease).ok());  // never echoed: not vouched for
  // The coordinator is now busy with one long commit: it neither receives
  // nor sends. Its workers hear an echo every `quiet` all the same.
  for (int waited = 0; waited < 10000 && sent->Echoes("deduper-1", 0) < 3; waited += 10) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_GE(sent->Echoes("loader-0", 0), 3);
  EXPECT_GE(sent->Echoes("deduper-1", 0), 3);
  EXPECT_EQ(sent->Echoes("validator-0", 0), 0);
  EXPECT_GE(channel.echoed_for_coordinator(), 6u);
}

TEST(KeepaliveChannelTest, OnlyWorkersEchoedJustBeforeTheBusySpellAreVouchedFor) {
  auto inner = std::make_unique<RecordingChannel>();
  RecordingChannel* sent = inner.get();
  KeepaliveChannel channel(std::move(inner), milliseconds(300), milliseconds(200));
  // The loader's last echo is 400 ms older than the coordinator's last
  // look at its channel: written off meanwhile, or gone.
  ASSERT_TRUE(channel.Send("loader-0", Echo(1)).ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(channel.Receive(milliseconds(20)).ok());
  ASSERT_TRUE(channel.Send("deduper-0", Echo(9)).ok());
  // Busy for far longer than `recent`: the deduper is vouched for all along.
  for (int waited = 0; waited < 10000 && sent->Echoes("deduper-0", 0) < 3; waited += 10) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_GE(sent->Echoes("deduper-0", 0), 3);
  EXPECT_EQ(sent->Echoes("loader-0", 0), 0);
}

}  // namespace
}  // namespace sluice::coordination
