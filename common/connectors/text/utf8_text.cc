#include "common/connectors/text/utf8_text.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <cstdint>
#include <cstring>

namespace sluice {

size_t FindInvalidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
#ifdef __SSE2__
    while (i + 16 <= n) {  // ASCII fast path, sixteen bytes at a time
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
      int high = _mm_movemask_epi8(v);
      if (high != 0) {
        i += static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(high)));
        break;
      }
      i += 16;
    }
#else
    while (i + 8 <= n) {  // ASCII fast path, eight bytes at a time
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if ((w & 0x8080808080808080ull) != 0) break;
      i += 8;
    }
#endif
    if (i >= n) break;
    size_t len = Utf8SeqLen(s, i, n);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::string RejectValue(std::string_view text) {
  text = text.substr(0, kMaxRejectValue);
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t len = Utf8SeqLen(s, i, text.size());
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  if (out.size() > kMaxRejectValue) {
    size_t cut = kMaxRejectValue;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

v1::Fate ExtractReject(const std::string& source, const std::string& key, uint64_t line,
                       std::string_view raw, const std::string& rule, const std::string& reason) {
  v1::Fate fate;
  fate.set_kind(v1::FATE_REJECTED);
  fate.set_source(source);
  fate.set_key(key);
  fate.set_stage("extract");
  fate.set_rule(rule);
  fate.set_reason(reason);
  fate.set_line(line);
  fate.set_value(RejectValue(raw));
  return fate;
}

}  // namespace sluice
