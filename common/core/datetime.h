// Dates and timestamps parsed with explicit formats, strictly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"

namespace sluice {

// Parses `text` with a strftime-style `format`: %d %m %Y %y %H %M %S %f
// (fraction, up to 6 digits), %b (Jan..Dec, any case), %% and literal
// characters. The whole text must be consumed and the date must exist:
// "31/02/2020" with "%d/%m/%Y" fails. Returns days since 1970-01-01.
//
// Details: %d %m %H %M %S take 1 or 2 digits (greedy, so "3/4/2020" and
// "03042020" with "%d%m%Y" both work); %Y takes exactly 4 digits, %y exactly
// 2 (00-68 -> 20xx, 69-99 -> 19xx); %b also accepts the full English month
// name; %z takes "Z", "+hh", "+hhmm" or "+hh:mm". A literal matches exactly
// one identical character. Time directives in a date format are checked and
// ignored. No locale, no allocation on success: it runs per value.
Result<int64_t> ParseDate(std::string_view text, std::string_view format);

// Like ParseDate, for timestamps; `tz` is an IANA zone ("Europe/Paris"),
// "UTC" or a fixed offset ("+02:00"), applied when the format has no %z.
// Returns microseconds since the epoch, UTC. A local time skipped by a clock
// change fails; a repeated one (clocks going back) takes the earlier instant.
Result<int64_t> ParseTimestamp(std::string_view text, std::string_view format,
                               std::string_view tz = "UTC");

// Tries each format in order; the first that matches wins. The error reads
// "cannot parse '31/02/2020' as date with formats %d/%m/%Y: no such date":
// the formats tried and the error of the format that matched the most text.
Result<int64_t> ParseDateAny(std::string_view text, const std::vector<std::string>& formats);

// ParseDateAny for timestamps.
Result<int64_t> ParseTimestampAny(std::string_view text, const std::vector<std::string>& formats,
                                  std::string_view tz = "UTC");

}  // namespace sluice
