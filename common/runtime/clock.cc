#include "common/runtime/clock.h"

#include <condition_variable>
#include <mutex>

namespace sluice {
namespace {

class SteadyClock : public Clock {
 public:
  TimePoint Now() override { return std::chrono::steady_clock::now(); }
  void SleepUntil(TimePoint deadline, std::stop_token stop) override {
    std::mutex mu;
    std::condition_variable_any never;
    std::unique_lock lock(mu);
    never.wait_until(lock, stop, deadline, [] { return false; });
  }
};

}  // namespace

Clock& SystemClock() {
  static SteadyClock* clock = new SteadyClock();
  return *clock;
}

Clock::TimePoint ManualClock::Now() {
  std::lock_guard lock(mu_);
  return now_;
}

void ManualClock::SleepUntil(TimePoint deadline, std::stop_token stop) {
  std::unique_lock lock(mu_);
  if (now_ >= deadline || stop.stop_requested()) return;
  auto me = sleeping_.insert(deadline);
  changed_.notify_all();  // AwaitSleepers counts this thread now
  changed_.wait(lock, stop, [&] { return now_ >= deadline; });
  sleeping_.erase(me);
  changed_.notify_all();
}

void ManualClock::Advance(Duration d) {
  std::lock_guard lock(mu_);
  now_ += d;
  changed_.notify_all();
}

Clock::Duration ManualClock::Elapsed() {
  std::lock_guard lock(mu_);
  return now_ - start_;
}

bool ManualClock::AwaitSleepers(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  // A sleeper whose deadline passed has not woken yet: the thread is about
  // to act, so it does not count as settled.
  return changed_.wait_for(lock, timeout, [&] {
    return sleeping_.size() == n && (sleeping_.empty() || *sleeping_.begin() > now_);
  });
}

Clock::TimePoint ManualClock::NextDeadline() {
  std::lock_guard lock(mu_);
  return sleeping_.empty() ? now_ : *sleeping_.begin();
}

}  // namespace sluice
