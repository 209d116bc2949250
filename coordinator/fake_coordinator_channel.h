// An in-memory control channel for the coordinator's tests: a test delivers
// workers' messages and reads what the coordinator sent; a receive that
// finds nothing moves the test's clock on by its timeout, as waiting would.
#pragma once

#include <deque>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/runtime/clock.h"
#include "coordinator/coordinator_channel.h"

namespace sluice::coordination {

class FakeCoordinatorChannel final : public CoordinatorChannel {
 public:
  explicit FakeCoordinatorChannel(ManualClock* clock) : clock_(clock) {}

  const std::string& endpoint() const override { return endpoint_; }
  Result<std::optional<Message>> Receive(std::chrono::milliseconds timeout) override {
    if (inbox_.empty()) {
      clock_->Advance(timeout);
      return std::optional<Message>();
    }
    Message m = std::move(inbox_.front());
    inbox_.pop_front();
    return std::optional<Message>(std::move(m));
  }
  Status Send(const std::string& identity, const v1::Envelope& message) override {
    if (gone_.count(identity) > 0) {
      return Status::Unavailable("send to " + identity + ": Host unreachable");
    }
    sent_.emplace_back(identity, message);
    return Status::Ok();
  }

  // A message from the worker socket `from` ("loader-0", "loader-0/hb"),
  // whose handshake proved the CURVE public key `key` ("" in plaintext).
  void Deliver(const std::string& from, v1::Envelope message, const std::string& key = "") {
    inbox_.push_back(Message{from, key, std::move(message)});
  }
  // The worker socket `identity` disconnects (its process was killed) or
  // connects again: a send to it fails as a ROUTER's does.
  void Disconnect(const std::string& identity) { gone_.insert(identity); }
  void Reconnect(const std::string& identity) { gone_.erase(identity); }
  // What the coordinator sent since the last call, in order: (to, message).
  using Sent = std::pair<std::string, v1::Envelope>;
  std::vector<Sent> TakeSent() { return std::exchange(sent_, {}); }

 private:
  ManualClock* clock_;
  std::string endpoint_ = "inproc://fake-control";
  std::deque<Message> inbox_;
  std::vector<Sent> sent_;
  std::set<std::string> gone_;
};

}  // namespace sluice::coordination
