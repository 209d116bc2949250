// A token bucket limiting rows per second, for targets that must not load
// faster than the owner of the target database allows.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

namespace sluice {

// Allows `rate` tokens per second with bursts of up to one second's worth.
// Take(n) may overdraw: the caller waits for the debt, so a batch larger
// than the burst still passes, at the configured average rate. A rate of 0
// means unlimited. Not thread-safe.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  // `now` and `sleep` are injectable for tests.
  explicit TokenBucket(
      double rate, std::function<Clock::time_point()> now = Clock::now,
      std::function<void(Clock::duration)> sleep =
          [](Clock::duration d) { std::this_thread::sleep_for(d); })
      : rate_(rate), tokens_(rate), now_(std::move(now)), sleep_(std::move(sleep)) {
    last_ = now_();
  }

  // Takes `n` tokens, sleeping as long as the bucket needs to cover them.
  // Returns the time slept.
  Clock::duration Take(uint64_t n) {
    if (rate_ <= 0) return Clock::duration::zero();
    Clock::time_point t = now_();
    tokens_ = std::min(rate_, tokens_ + std::chrono::duration<double>(t - last_).count() * rate_);
    last_ = t;
    tokens_ -= static_cast<double>(n);
    if (tokens_ >= 0) return Clock::duration::zero();
    auto wait = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(-tokens_ / rate_));
    sleep_(wait);
    // The debt is paid by the wait: account for it as elapsed time.
    tokens_ = 0;
    last_ = now_();
    return wait;
  }

 private:
  double rate_;
  double tokens_;
  Clock::time_point last_;
  std::function<Clock::time_point()> now_;
  std::function<void(Clock::duration)> sleep_;
};

}  // namespace sluice
