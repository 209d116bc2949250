// Suggestions for stewards: the allowed value nearest to a rejected one.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/nearest.h"  // EditDistance, NearestValue
#include "common/core/value.h"

namespace sluice {

// The common date (or timestamp) formats that would read `text`, in the
// order tried: "%d/%m/%Y", "%m/%d/%Y", "%Y%m%d", ... Both "%d/%m/%Y" and
// "%m/%d/%Y" for "03/04/2020" tell a steward the day and month are ambiguous.
std::vector<std::string> FormatsThatParse(std::string_view text, FieldType type);

// Number of UTF-8 code points in `text` (bytes that do not continue a
// sequence).
size_t CodePoints(std::string_view text);

// The first `n` code points of `text`.
std::string_view TruncateCodePoints(std::string_view text, size_t n);

}  // namespace sluice
