// Dates and timestamps parsed with explicit formats, strictly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice {

// Parses `text` with a strftime-style `format`: %d %m %Y %y %H %M %S %f
// (fraction, up to 6 digits), %b (Jan..Dec, any case), %% and literal
// characters. The whole text must be consumed and the date must exist:
// "31/02/2020" with "%d/%m/%Y" fails. Returns days since 1970-01-01.
Result<int64_t> ParseDate(std::string_view text, std::string_view format);

// Like ParseDate, for timestamps; `tz` is an IANA zone ("Europe/Paris") or
// "UTC" applied when the format has no %z. Returns microseconds since the
// epoch, UTC.
Result<int64_t> ParseTimestamp(std::string_view text, std::string_view format,
                               std::string_view tz = "UTC");

// Tries each format in order; the error lists the formats tried.
Result<int64_t> ParseDateAny(std::string_view text, const std::vector<std::string>& formats);

}  // namespace sluice
