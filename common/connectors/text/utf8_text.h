// A rejected value made printable for the error log (the UTF-8 checks are in
// common/core/utf8.h).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/core/utf8.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// Longest value text kept in a rejection (RejectValue).
inline constexpr size_t kMaxRejectValue = 200;

// `text` as valid UTF-8 of at most kMaxRejectValue bytes, invalid bytes
// replaced by U+FFFD, cut on a character boundary.
std::string RejectValue(std::string_view text);

// The REJECTED fate of a source row: stage "extract", its line, and `raw`
// (the row's text) as its value made printable by RejectValue.
v1::Fate ExtractReject(const std::string& source, const std::string& key, uint64_t line,
                       std::string_view raw, const std::string& rule, const std::string& reason);

}  // namespace sluice
