// UTF-8 checks for sources that read bytes: where the first invalid byte is,
// and a rejected value made printable for the error log.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "sluice/v1/control.pb.h"

namespace sluice {

// Longest value text kept in a rejection (RejectValue).
inline constexpr size_t kMaxRejectValue = 200;

// Length of the valid UTF-8 sequence at s[i], or 0 when the byte there does
// not start one (overlong forms, surrogates and values past U+10FFFF count
// as invalid).
inline size_t Utf8SeqLen(const unsigned char* s, size_t i, size_t n) {
  unsigned char c = s[i];
  if (c < 0x80) return 1;
  size_t len;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
  } else {
    return 0;
  }
  if (i + len > n) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((s[i + k] & 0xC0) != 0x80) return 0;
  }
  unsigned char c1 = s[i + 1];
  if (c == 0xE0 && c1 < 0xA0) return 0;
  if (c == 0xED && c1 >= 0xA0) return 0;
  if (c == 0xF0 && c1 < 0x90) return 0;
  if (c == 0xF4 && c1 >= 0x90) return 0;
  return len;
}

// Offset of the first byte that is not valid UTF-8, or npos.
size_t FindInvalidUtf8(std::string_view text);

// `text` as valid UTF-8 of at most kMaxRejectValue bytes, invalid bytes
// replaced by U+FFFD, cut on a character boundary.
std::string RejectValue(std::string_view text);

// The REJECTED fate of a source row: stage "extract", its line, and `raw`
// (the row's text) as its value made printable by RejectValue.
v1::Fate ExtractReject(const std::string& source, const std::string& key, uint64_t line,
                       std::string_view raw, const std::string& rule, const std::string& reason);

}  // namespace sluice
