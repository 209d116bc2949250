// The production window: when a run may start, and when it must pause.
//
// A window is a daily span of local time in one zone ("03:00"-"06:00"
// America/New_York); an end before the start spans midnight. The clock is
// injected so that tests can place a run anywhere in the day and let time
// pass batch by batch (RunClock).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/core/status.h"
#include "common/plan/plan.h"

namespace sluice {

using SysTime = std::chrono::system_clock::time_point;

// Where `now` falls relative to the window.
struct WindowPosition {
  bool open = false;
  SysTime closes_at;  // when open: the end of this window
  SysTime opens_at;   // when closed: the start of the next window
  // "03:00-06:00 America/New_York"
  std::string span;
};

// Fails only for a zone the tz database does not know.
Result<WindowPosition> LocateInWindow(const WindowSpec& window, SysTime now);

// "2026-11-22 03:00 EST (08:00 UTC)": an instant in the window's zone.
std::string FormatInZone(SysTime t, const std::string& tz);

// The coordinator's clock: the system clock, or in tests the instant given
// by SLUICE_TEST_CLOCK ("2026-11-22T07:58:00Z", optionally "+60": seconds
// that pass with each loaded batch), so that a window can close mid-run
// deterministically.
class RunClock {
 public:
  // Reads SLUICE_TEST_CLOCK; fails when it is set but malformed.
  static Result<RunClock> FromEnvironment();
  SysTime Now() const;
  // A batch was loaded: a test clock moves on by its step.
  void OnBatchLoaded() { ++loaded_; }
  bool is_test() const { return base_.has_value(); }

 private:
  std::optional<SysTime> base_;
  std::chrono::seconds step_{0};
  uint64_t loaded_ = 0;
};

}  // namespace sluice
