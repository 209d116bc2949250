// RFC 4180 output for the CLI's CSV files (`sluice errors --csv`,
// `sluice review export`): a field is quoted when it holds the delimiter, a
// quote or a line break, with inner quotes doubled.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

inline void WriteCsvField(std::ostream& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out << field;
    return;
  }
  out << '"';
  for (char c : field) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

inline void WriteCsvRow(std::ostream& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out << ',';
    WriteCsvField(out, fields[i]);
  }
  out << "\r\n";
}

}  // namespace sluice
