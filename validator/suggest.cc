#include "validator/suggest.h"

#include <algorithm>

#include "common/core/datetime.h"

namespace sluice {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool Continues(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

size_t EditDistance(std::string_view a, std::string_view b) {
  // One row of the dynamic programme; only called on failures.
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t cost = Lower(a[i - 1]) == Lower(b[j - 1]) ? 0 : 1;
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> NearestValue(std::string_view value,
                                        const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t best_distance = 0;
  for (const auto& c : candidates) {
    size_t d = EditDistance(value, c);
    if (d * 2 > std::max(value.size(), c.size())) continue;
    if (best == nullptr || d < best_distance) {
      best = &c;
      best_distance = d;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

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
