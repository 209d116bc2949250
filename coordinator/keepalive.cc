#include "coordinator/keepalive.h"

#include <condition_variable>

namespace sluice::coordination {

KeepaliveChannel::KeepaliveChannel(std::unique_ptr<CoordinatorChannel> inner,
                                   std::chrono::milliseconds quiet,
                                   std::chrono::milliseconds recent)
    : inner_(std::move(inner)),
      quiet_(quiet),
      recent_(recent),
      last_touch_(SteadyClock::now()),
      thread_([this](std::stop_token stop) { KeepAlive(stop); }) {}

KeepaliveChannel::~KeepaliveChannel() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

Result<std::optional<CoordinatorChannel::Message>> KeepaliveChannel::Receive(
    std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  last_touch_ = SteadyClock::now();
  auto got = inner_->Receive(timeout);
  last_touch_ = SteadyClock::now();
  return got;
}

Status KeepaliveChannel::Send(const std::string& identity, const v1::Envelope& message) {
  std::lock_guard<std::mutex> lock(mu_);
  last_touch_ = SteadyClock::now();
  if (message.has_heartbeat()) echoed_[identity] = last_touch_;
  return inner_->Send(identity, message);
}

uint64_t KeepaliveChannel::echoed_for_coordinator() const {
  std::lock_guard<std::mutex> lock(mu_);
  return echoed_for_coordinator_;
}

void KeepaliveChannel::KeepAlive(std::stop_token stop) {
  std::mutex sleep_mu;
  std::condition_variable_any wake;
  for (;;) {
    {
      std::unique_lock<std::mutex> sleeping(sleep_mu);
      wake.wait_for(sleeping, stop, quiet_, [] { return false; });
      if (stop.stop_requested()) return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = SteadyClock::now();
    if (now - last_touch_ < quiet_) continue;  // the coordinator is listening
    v1::Envelope echo;
    echo.mutable_heartbeat()->set_sequence(0);  // not an answer to any one heartbeat
    for (const auto& [identity, when] : echoed_) {
      // Echoed by the coordinator within `recent` before it fell busy: a
      // worker it believed alive. The others are not ours to vouch for.
      if (last_touch_ - when > recent_) continue;
      if (inner_->Send(identity, echo).ok()) ++echoed_for_coordinator_;
    }
  }
}

}  // namespace sluice::coordination
