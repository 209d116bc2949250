#include "common/connectors/fixed_width/fixed_width_layout.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "common/core/nearest.h"

namespace sluice {
namespace {

// `out` may be null: only whether `word` is a number.
bool ParseSize(const std::string& word, size_t* out) {
  size_t value = 0;
  const char* end = word.data() + word.size();
  auto [p, ec] = std::from_chars(word.data(), end, value);
  if (out != nullptr) *out = value;
  return !word.empty() && ec == std::errc() && p == end;
}

// Reads a column's format word (`packed:2`) into `column`; false when it is
// not one.
bool ParseFormat(const std::string& word, FixedWidthColumn* column) {
  std::string kind = word.substr(0, word.find(':'));
  size_t scale = 0;
  if (kind.size() < word.size() && !ParseSize(word.substr(kind.size() + 1), &scale)) return false;
  if (kind == "text" && kind.size() == word.size()) {
    column->format = FixedWidthFormat::kText;
  } else if (kind == "zoned") {
    column->format = FixedWidthFormat::kZoned;
  } else if (kind == "packed" || kind == "comp-3") {
    column->format = FixedWidthFormat::kPacked;
  } else {
    return false;
  }
  column->scale = static_cast<int>(std::min<size_t>(scale, 64));
  return true;
}

// The number of digits the column holds.
size_t Digits(const FixedWidthColumn& c) {
  return c.format == FixedWidthFormat::kPacked ? 2 * c.length - 1 : c.length;
}

}  // namespace

bool FixedWidthLayout::HasPacked() const {
  return std::any_of(columns.begin(), columns.end(), [](const FixedWidthColumn& c) {
    return c.format == FixedWidthFormat::kPacked;
  });
}

int FixedWidthLayout::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string FixedWidthLayout::NotInLayout(std::string_view name) const {
  std::vector<std::string> names;
  for (const FixedWidthColumn& c : columns) names.push_back(c.name);
  std::optional<std::string> near = NearestValue(name, names);
  return "column '" + std::string(name) + "' is not in the layout" +
         (near ? " (did you mean '" + *near + "'?)" : "");
}

Result<FixedWidthLayout> FixedWidthLayout::Parse(std::string_view text) {
  FixedWidthLayout layout;
  std::istringstream in{std::string(text)};
  size_t next = 0;  // where a `name width` column starts
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string word; words >> word;) w.push_back(word);
    if (w.empty()) continue;
    const std::string at = "layout line " + std::to_string(number) + ": ";
    FixedWidthColumn column;
    column.name = w[0];
    if (w.size() >= 3 && !ParseSize(w.back(), nullptr)) {
      if (!ParseFormat(w.back(), &column)) {
        return Status::InvalidArgument(at + "unknown format '" + w.back() +
                                       "' (text, zoned[:scale] or packed[:scale])");
      }
      w.pop_back();
    }
    size_t a = 0, b = 0;
    if (w.size() == 2 && ParseSize(w[1], &b)) {
      column.start = next;
      column.length = b;
    } else if (w.size() == 3 && ParseSize(w[1], &a) && ParseSize(w[2], &b) && a > 0) {
      column.start = a - 1;
      column.length = b;
    } else {
      return Status::InvalidArgument(at +
                                     "expected 'name start length' (start from 1) or "
                                     "'name width', got '" +
                                     line + "'");
    }
    if (column.length == 0) return Status::InvalidArgument(at + "length must be at least 1");
    if (column.format != FixedWidthFormat::kText &&
        static_cast<size_t>(column.scale) > Digits(column)) {
      return Status::InvalidArgument(at + "scale " + std::to_string(column.scale) +
                                     " is more than the " + std::to_string(Digits(column)) +
                                     " digits of column '" + column.name + "'");
    }
    if (layout.IndexOf(column.name) >= 0) {
      return Status::InvalidArgument(at + "duplicate column '" + column.name + "'");
    }
    for (const FixedWidthColumn& c : layout.columns) {
      if (column.start < c.start + c.length && c.start < column.start + column.length) {
        return Status::InvalidArgument(at + "column '" + column.name + "' overlaps '" + c.name +
                                       "'");
      }
    }
    next = column.start + column.length;
    layout.width = std::max(layout.width, next);
    layout.columns.push_back(std::move(column));
  }
  if (layout.columns.empty()) return Status::InvalidArgument("layout has no column");
  return layout;
}

Result<size_t> ParseRecordLength(std::string_view text, const FixedWidthLayout& layout) {
  if (text.empty()) {
    if (layout.HasPacked()) {
      return Status::InvalidArgument(
          "required with a packed column: packed bytes may look like line ends, so the file "
          "must be read as fixed-length records");
    }
    return 0;
  }
  size_t length = 0;
  if (!ParseSize(std::string(text), &length) || length == 0) {
    return Status::InvalidArgument("must be a positive number of bytes, got '" + std::string(text) +
                                   "'");
  }
  if (length < layout.width) {
    return Status::InvalidArgument(std::to_string(length) + " bytes is shorter than the layout (" +
                                   std::to_string(layout.width) + ")");
  }
  return length;
}

Result<FixedWidthTrim> ParseFixedWidthTrim(std::string_view text) {
  if (text.empty() || text == "both") return FixedWidthTrim::kBoth;
  if (text == "right") return FixedWidthTrim::kRight;
  if (text == "left") return FixedWidthTrim::kLeft;
  if (text == "none") return FixedWidthTrim::kNone;
  return Status::InvalidArgument("must be both, right, left or none, got '" + std::string(text) +
                                 "'");
}

std::string_view TrimFixedWidth(std::string_view value, FixedWidthTrim trim) {
  constexpr std::string_view kBlanks = " \t";
  if (trim == FixedWidthTrim::kBoth || trim == FixedWidthTrim::kLeft) {
    size_t first = value.find_first_not_of(kBlanks);
    value.remove_prefix(first == std::string_view::npos ? value.size() : first);
  }
  if (trim == FixedWidthTrim::kBoth || trim == FixedWidthTrim::kRight) {
    size_t last = value.find_last_not_of(kBlanks);
    value = value.substr(0, last == std::string_view::npos ? 0 : last + 1);
  }
  return value;
}

}  // namespace sluice
