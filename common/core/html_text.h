// Text made safe for HTML (the profile page and the run report, both
// self-contained pages sluice writes).
#pragma once

#include <string>
#include <string_view>

namespace sluice {

// `text` with <, >, & and " escaped.
inline std::string HtmlText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace sluice
