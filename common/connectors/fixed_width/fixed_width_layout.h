// The `layout:` of a fixed-width source: which characters of a line hold
// which column.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"

namespace sluice {

// How a column's characters (or bytes) hold its value.
enum class FixedWidthFormat {
  kText,    // characters of the encoding (the default)
  kZoned,   // COBOL zoned decimal: digits, the last one overpunched with the sign
  kPacked,  // COBOL COMP-3 packed decimal: two digits a byte, the sign in the last half
};

// One column of a fixed-width line: characters [start, start + length),
// counted from 0 (the plan counts from 1). In a file of fixed-length
// records (`record_length`) positions count bytes.
struct FixedWidthColumn {
  std::string name;
  size_t start = 0;
  size_t length = 0;
  FixedWidthFormat format = FixedWidthFormat::kText;
  int scale = 0;  // zoned, packed: digits after the implied decimal point
};

// The columns of a line, in layout order, and the characters a line needs.
struct FixedWidthLayout {
  std::vector<FixedWidthColumn> columns;
  size_t width = 0;  // end of the furthest column

  // True when a column is packed: its bytes are binary, not text.
  bool HasPacked() const;

  // -1 when no column has this name.
  int IndexOf(std::string_view name) const;
  // "column 'nme' is not in the layout (did you mean 'name'?)": the message
  // for a name IndexOf does not find.
  std::string NotInLayout(std::string_view name) const;

  // Parses the plan's `layout:` text: one column per line, `name start
  // length` (start counted from 1) or `name width` (the column starts where
  // the previous one ended), each optionally followed by a format: `text`,
  // `zoned[:scale]` or `packed[:scale]` (alias `comp-3`); blank lines and `#`
  // comments are skipped. InvalidArgument naming the layout line for a
  // malformed line, a duplicate name, a zero length, a scale longer than
  // the column's digits or overlapping columns.
  static Result<FixedWidthLayout> Parse(std::string_view text);
};

// How column values are trimmed of blanks (spaces and tabs):
// `trim: both` (the default), `right`, `left` or `none`.
enum class FixedWidthTrim { kBoth, kRight, kLeft, kNone };
// The `record_length:` of a file of fixed-length records without line
// ends ("" when the file has lines: 0). InvalidArgument when it is not a
// positive number, is shorter than the layout, or is missing while the
// layout has a packed column (a packed byte may look like a line end).
Result<size_t> ParseRecordLength(std::string_view text, const FixedWidthLayout& layout);

Result<FixedWidthTrim> ParseFixedWidthTrim(std::string_view text);
std::string_view TrimFixedWidth(std::string_view value, FixedWidthTrim trim);

}  // namespace sluice
