#include "coordinator/window.h"

#include <date/tz.h>

#include <cstdlib>
#include <sstream>

namespace sluice {

namespace {

using std::chrono::days;
using std::chrono::minutes;

std::string Clock(int minute) {
  char buf[24];  // room for any int, though minutes of a day need 6
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

}  // namespace

Result<WindowPosition> LocateInWindow(const WindowSpec& window, SysTime now) {
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(window.tz);
  } catch (const std::exception&) {
    return Status::InvalidArgument("window.tz: unknown time zone '" + window.tz + "'");
  }
  const auto local = zone->to_local(std::chrono::time_point_cast<std::chrono::seconds>(now));
  const auto day = date::floor<days>(local);
  const int minute = static_cast<int>(date::floor<minutes>(local - day).count());
  auto at = [&](date::local_days d, int m) -> SysTime {
    return zone->to_sys(d + minutes(m), date::choose::earliest);
  };
  const int start = window.start_minute, end = window.end_minute;
  WindowPosition pos;
  pos.span = Clock(start) + "-" + Clock(end) + " " + window.tz;
  if (start < end) {
    pos.open = minute >= start && minute < end;
    pos.closes_at = at(day, end);
    pos.opens_at = minute < start ? at(day, start) : at(day + days(1), start);
  } else {  // spans midnight
    pos.open = minute >= start || minute < end;
    pos.closes_at = minute >= start ? at(day + days(1), end) : at(day, end);
    pos.opens_at = at(day, start);
  }
  return pos;
}

std::string FormatInZone(SysTime t, const std::string& tz) {
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  try {
    const auto zoned = date::make_zoned(tz, secs);
    return date::format("%Y-%m-%d %H:%M %Z", zoned) + " (" + date::format("%H:%M UTC", secs) + ")";
  } catch (const std::exception&) {
    return date::format("%Y-%m-%d %H:%M UTC", secs);
  }
}

Result<RunClock> RunClock::FromEnvironment() {
  RunClock clock;
  const char* env = std::getenv("SLUICE_TEST_CLOCK");
  if (env == nullptr || *env == '\0') return clock;
  std::string text = env;
  std::string step;
  if (auto plus = text.find('+', 10); plus != std::string::npos) {
    step = text.substr(plus + 1);
    text = text.substr(0, plus);
  }
  std::istringstream in(text);
  date::sys_seconds t;
  in >> date::parse("%Y-%m-%dT%H:%M:%SZ", t);
  if (in.fail()) {
    return Status::InvalidArgument(
        "SLUICE_TEST_CLOCK: expected 2026-11-22T07:58:00Z[+SECONDS], got '" + std::string(env) +
        "'");
  }
  clock.base_ = t;
  if (!step.empty()) clock.step_ = std::chrono::seconds(std::atoll(step.c_str()));
  return clock;
}

SysTime RunClock::Now() const {
  if (!base_) return std::chrono::system_clock::now();
  return *base_ + step_ * static_cast<int64_t>(loaded_);
}

}  // namespace sluice
