// UTF-8 validity: where the first invalid byte of a text is, and a text made
// valid. Every text field sluice puts on the wire or in a plan must be valid
// UTF-8 (docs/limits.md); bytes read from outside are checked with these.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice {

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

// `text` with every byte that is not valid UTF-8 replaced by U+FFFD.
std::string ToValidUtf8(std::string_view text);

}  // namespace sluice
