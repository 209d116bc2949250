// A coordinator busy with one long piece of work (a large commit, the
// combination of a big dedup resolve) reads no message and echoes no
// heartbeat meanwhile, and its workers would take that silence for its death
// (WorkerOptions::coordinator_timeout) and give up a run that is fine.
//
// KeepaliveChannel wraps the control channel. When the coordinator has not
// touched the channel for `quiet`, a thread of its own echoes a heartbeat,
// every `quiet`, to each worker the coordinator itself echoed within `recent`
// before it fell busy (so only to workers it admitted and believed alive). It reads
// nothing: what workers send waits in ZeroMQ's queues for the coordinator.
// Calls into the wrapped channel are serialised by a mutex, which is also the
// memory barrier a ZeroMQ socket needs to be used from a second thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "coordinator/coordinator_channel.h"

namespace sluice::coordination {

class KeepaliveChannel final : public CoordinatorChannel {
 public:
  using SteadyClock = std::chrono::steady_clock;

  KeepaliveChannel(std::unique_ptr<CoordinatorChannel> inner, std::chrono::milliseconds quiet,
                   std::chrono::milliseconds recent);
  ~KeepaliveChannel() override;

  const std::string& endpoint() const override { return inner_->endpoint(); }
  Result<std::optional<Message>> Receive(std::chrono::milliseconds timeout) override;
  Status Send(const std::string& identity, const v1::Envelope& message) override;

  // Heartbeats the thread has echoed on the coordinator's behalf.
  uint64_t echoed_for_coordinator() const;

 private:
  void KeepAlive(std::stop_token stop);

  std::unique_ptr<CoordinatorChannel> inner_;
  const std::chrono::milliseconds quiet_;
  const std::chrono::milliseconds recent_;
  mutable std::mutex mu_;
  SteadyClock::time_point last_touch_;                     // the coordinator's last call
  std::map<std::string, SteadyClock::time_point> echoed_;  // by the coordinator, when
  uint64_t echoed_for_coordinator_ = 0;
  std::jthread thread_;  // last: started once the rest is built
};

}  // namespace sluice::coordination
