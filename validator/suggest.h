// Suggestions for stewards: the allowed value nearest to a rejected one.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/value.h"

namespace sluice {

// Levenshtein distance between `a` and `b`, ignoring ASCII case, counted in
// bytes.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate nearest to `value` by EditDistance (the first in list order on
// a tie), when it is near enough to be a plausible typo: at most half the
// length of the longer of the two. Empty otherwise.
std::optional<std::string> NearestValue(std::string_view value,
                                        const std::vector<std::string>& candidates);

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
