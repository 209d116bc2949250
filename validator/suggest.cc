#include "validator/suggest.h"

#include <algorithm>

#include "common/core/datetime.h"

namespace sluice {
namespace {

bool Continues(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

size_t CodePoints(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += Continues(c) ? 0 : 1;
  return n;
}

std::string_view TruncateCodePoints(std::string_view text, size_t n) {
  size_t seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!Continues(text[i]) && seen++ == n) return text.substr(0, i);
  }
  return text;
}

std::vector<std::string> FormatsThatParse(std::string_view text, FieldType type) {
  static const char* const kDateFormats[] = {"%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y",
                                             "%d-%m-%Y", "%Y/%m/%d", "%Y%m%d",   "%d/%m/%y",
                                             "%m/%d/%y", "%d %b %Y", "%b %d %Y"};
  static const char* const kTimestampFormats[] = {
      "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",   "%d/%m/%Y %H:%M:%S",
      "%m/%d/%Y %H:%M:%S",   "%d/%m/%Y %H:%M",    "%Y-%m-%d %H:%M:%S.%f"};
  std::vector<std::string> out;
  if (type == FieldType::kDate) {
    for (const char* f : kDateFormats) {
      if (ParseDate(text, f).ok()) out.push_back(f);
    }
  } else {
    for (const char* f : kTimestampFormats) {
      if (ParseTimestamp(text, f).ok()) out.push_back(f);
    }
  }
  return out;
}

}  // namespace sluice
