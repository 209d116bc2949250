// High-water marks of delta extraction (issue 18, docs/delta.md): the values
// of a source's incremental column, compared the way the databases compare
// them. Two numbers compare as numbers ("9" < "10"); anything else compares
// as text, which orders ISO 8601 dates and timestamps written alike
// ("2026-01-09" < "2026-01-10").
#pragma once

#include <charconv>
#include <string>
#include <string_view>

namespace sluice {

// The value as a number, when all of it is one.
inline bool WatermarkNumber(std::string_view text, double* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

// True when `value` is above `mark`.
inline bool AboveMark(std::string_view value, std::string_view mark) {
  double v = 0, m = 0;
  if (WatermarkNumber(value, &v) && WatermarkNumber(mark, &m)) return v > m;
  return value > mark;
}

// The higher of two marks; "" is no mark and loses to any value.
inline const std::string& HigherMark(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return AboveMark(b, a) ? b : a;
}

}  // namespace sluice
