#include "coordinator/window.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <sstream>

namespace sluice {
namespace {

SysTime At(const std::string& iso) {
  std::istringstream in(iso);
  date::sys_seconds t;
  in >> date::parse("%Y-%m-%dT%H:%M:%SZ", t);
  return t;
}

WindowSpec Window(int start, int end, const std::string& tz) {
  WindowSpec w;
  w.start_minute = start;
  w.end_minute = end;
  w.tz = tz;
  return w;
}

TEST(Window, InsideAndOutsideInTheWindowsZone) {
  const WindowSpec w = Window(180, 360, "America/New_York");  // 03:00-06:00
  auto in = LocateInWindow(w, At("2026-11-23T09:30:00Z"));    // 04:30 EST
  ASSERT_TRUE(in.ok());
  EXPECT_TRUE(in->open);
  EXPECT_EQ(in->closes_at, At("2026-11-23T11:00:00Z"));
  EXPECT_EQ(in->span, "03:00-06:00 America/New_York");
  auto before = LocateInWindow(w, At("2026-11-23T07:00:00Z"));  // 02:00 EST
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->open);
  EXPECT_EQ(before->opens_at, At("2026-11-23T08:00:00Z"));
  auto after = LocateInWindow(w, At("2026-11-23T15:00:00Z"));  // 10:00 EST
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->open);
  EXPECT_EQ(after->opens_at, At("2026-11-24T08:00:00Z"));
  EXPECT_EQ(FormatInZone(after->opens_at, w.tz), "2026-11-24 03:00 EST (08:00 UTC)");
  // Summer time: 03:00 EDT is 07:00 UTC.
  auto summer = LocateInWindow(w, At("2026-07-01T15:00:00Z"));
  ASSERT_TRUE(summer.ok());
  EXPECT_EQ(summer->opens_at, At("2026-07-02T07:00:00Z"));
}

TEST(Window, SpanningMidnight) {
  const WindowSpec w = Window(22 * 60, 2 * 60, "UTC");  // 22:00-02:00
  auto late = LocateInWindow(w, At("2026-11-23T23:00:00Z"));
  ASSERT_TRUE(late.ok());
  EXPECT_TRUE(late->open);
  EXPECT_EQ(late->closes_at, At("2026-11-24T02:00:00Z"));
  auto early = LocateInWindow(w, At("2026-11-24T01:00:00Z"));
  ASSERT_TRUE(early.ok());
  EXPECT_TRUE(early->open);
  EXPECT_EQ(early->closes_at, At("2026-11-24T02:00:00Z"));
  auto day = LocateInWindow(w, At("2026-11-24T12:00:00Z"));
  ASSERT_TRUE(day.ok());
  EXPECT_FALSE(day->open);
  EXPECT_EQ(day->opens_at, At("2026-11-24T22:00:00Z"));
}

TEST(Window, TestClockMovesWithLoadedBatches) {
  ::setenv("SLUICE_TEST_CLOCK", "2026-11-23T10:58:00Z+60", 1);
  auto clock = RunClock::FromEnvironment();
  ASSERT_TRUE(clock.ok());
  EXPECT_TRUE(clock->is_test());
  EXPECT_EQ(clock->Now(), At("2026-11-23T10:58:00Z"));
  clock->OnBatchLoaded();
  clock->OnBatchLoaded();
  EXPECT_EQ(clock->Now(), At("2026-11-23T11:00:00Z"));
  ::setenv("SLUICE_TEST_CLOCK", "tomorrow", 1);
  EXPECT_FALSE(RunClock::FromEnvironment().ok());
  ::unsetenv("SLUICE_TEST_CLOCK");
  EXPECT_FALSE(RunClock::FromEnvironment()->is_test());
}

}  // namespace
}  // namespace sluice
