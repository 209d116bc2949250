// The passage of time, injected: the worker runtime reads the time and waits
// through a Clock, so heartbeat, registration and silence timeouts are
// tested without sleeping (ManualClock).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <set>
#include <stop_token>

namespace sluice {

class Clock {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  // A monotonic time. Thread-safe.
  virtual TimePoint Now() = 0;
  // Blocks the calling thread until Now() >= `deadline`, or until `stop` is
  // requested (a default token never is). Thread-safe.
  virtual void SleepUntil(TimePoint deadline, std::stop_token stop) = 0;
  void SleepFor(Duration d, std::stop_token stop = {}) { SleepUntil(Now() + d, std::move(stop)); }
};

// std::chrono::steady_clock and real sleeps. Never destroyed.
Clock& SystemClock();

// A clock for tests: time stands still until Advance() moves it, and a
// thread in SleepUntil wakes only then. AwaitSleepers() lets a test wait
// until the threads under test are all asleep (nothing more happens until
// time moves), so what they did so far can be checked without races.
// Thread-safe.
class ManualClock : public Clock {
 public:
  TimePoint Now() override;
  void SleepUntil(TimePoint deadline, std::stop_token stop) override;

  // Moves time forward by `d`, waking the sleepers whose deadline passed.
  void Advance(Duration d);
  // Time moved since construction.
  Duration Elapsed();
  // Waits (for real, at most `timeout`) until exactly `n` threads sleep in
  // SleepUntil, each with a deadline still ahead. False on timeout.
  // (A thread that does not sleep on the clock, blocked in a real poll or
  // busy, is not counted.)
  bool AwaitSleepers(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // The earliest deadline a thread sleeps until; Now() when none sleeps.
  TimePoint NextDeadline();

 private:
  std::mutex mu_;
  std::condition_variable_any changed_;
  const TimePoint start_ = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  TimePoint now_ = start_;
  std::multiset<TimePoint> sleeping_;  // deadlines of the threads in SleepUntil
};

}  // namespace sluice
