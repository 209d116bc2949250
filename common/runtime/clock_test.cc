#include "common/runtime/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace sluice {
namespace {

using std::chrono::milliseconds;

TEST(ManualClock, ASleeperWakesOnlyWhenTimeReachesItsDeadline) {
  ManualClock clock;
  std::atomic<int> woke{0};
  std::jthread sleeper([&] {
    clock.SleepFor(milliseconds(500));
    woke = 1;
  });
  ASSERT_TRUE(clock.AwaitSleepers(1));
  EXPECT_EQ(clock.NextDeadline() - clock.Now(), milliseconds(500));
  clock.Advance(milliseconds(499));
  ASSERT_TRUE(clock.AwaitSleepers(1));  // still asleep: its deadline is ahead
  EXPECT_EQ(woke, 0);
  clock.Advance(milliseconds(1));
  ASSERT_TRUE(clock.AwaitSleepers(0));
  sleeper.join();
  EXPECT_EQ(woke, 1);
  EXPECT_EQ(clock.Elapsed(), milliseconds(500));
}

TEST(ManualClock, AStopRequestWakesASleeper) {
  ManualClock clock;
  std::jthread sleeper([&](std::stop_token stop) { clock.SleepFor(std::chrono::hours(1), stop); });
  ASSERT_TRUE(clock.AwaitSleepers(1));
  sleeper.request_stop();
  ASSERT_TRUE(clock.AwaitSleepers(0));
  EXPECT_EQ(clock.Elapsed(), milliseconds(0));
}

TEST(ManualClock, AwaitSleepersTimesOutWhenNobodySleeps) {
  ManualClock clock;
  EXPECT_FALSE(clock.AwaitSleepers(1, milliseconds(10)));
}

TEST(SystemClock, AStopRequestCutsASleepShort) {
  std::stop_source stop;
  std::jthread stopper([&] {
    std::this_thread::sleep_for(milliseconds(20));
    stop.request_stop();
  });
  const auto start = std::chrono::steady_clock::now();
  SystemClock().SleepFor(std::chrono::seconds(30), stop.get_token());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  const auto before = SystemClock().Now();
  SystemClock().SleepFor(milliseconds(5));
  EXPECT_GE(SystemClock().Now() - before, milliseconds(5));
}

}  // namespace
}  // namespace sluice
