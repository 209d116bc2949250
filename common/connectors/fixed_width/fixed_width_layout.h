// The `layout:` of a fixed-width source: which characters of a line hold
// which column.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"

namespace sluice {

// One column of a fixed-width line: characters [start, start + length),
// counted from 0 (the plan counts from 1).
struct FixedWidthColumn {
  std::string name;
  size_t start = 0;
  size_t length = 0;
};

// The columns of a line, in layout order, and the characters a line needs.
struct FixedWidthLayout {
  std::vector<FixedWidthColumn> columns;
  size_t width = 0;  // end of the furthest column

  // -1 when no column has this name.
  int IndexOf(std::string_view name) const;
  // "column 'nme' is not in the layout (did you mean 'name'?)": the message
  // for a name IndexOf does not find.
  std::string NotInLayout(std::string_view name) const;

  // Parses the plan's `layout:` text: one column per line, `name start
  // length` (start counted from 1) or `name width` (the column starts where
  // the previous one ended); blank lines and `#` comments are skipped.
  // InvalidArgument naming the layout line for a malformed line, a
  // duplicate name, a zero length or overlapping columns.
  static Result<FixedWidthLayout> Parse(std::string_view text);
};

// How column values are trimmed of blanks (spaces and tabs):
// `trim: both` (the default), `right`, `left` or `none`.
enum class FixedWidthTrim { kBoth, kRight, kLeft, kNone };
Result<FixedWidthTrim> ParseFixedWidthTrim(std::string_view text);
std::string_view TrimFixedWidth(std::string_view value, FixedWidthTrim trim);

}  // namespace sluice
