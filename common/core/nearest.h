// The plausible typo: the name or value nearest to one that was not found,
// for "did you mean" in messages to people.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

// Levenshtein distance between `a` and `b`, ignoring ASCII case, counted in
// bytes.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate nearest to `value` by EditDistance (the first in list order on
// a tie), when it is near enough to be a plausible typo: at most half the
// length of the longer of the two. Empty otherwise.
std::optional<std::string> NearestValue(std::string_view value,
                                        const std::vector<std::string>& candidates);

}  // namespace sluice
