#include "common/plan/alias_lines.h"

#include <algorithm>

namespace sluice {
namespace {

bool Blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

}  // namespace

Status ForEachAliasGroup(std::string_view csv, const std::string& origin,
                         const std::function<void(const std::vector<std::string_view>&)>& group) {
  size_t line_no = 0, at = 0;
  std::vector<std::string_view> names;
  while (at < csv.size()) {
    const size_t end = std::min(csv.find('\n', at), csv.size());
    std::string_view line = csv.substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (Blank(line) || line[0] == '#') continue;
    const size_t c1 = line.find(','), c2 = c1 == line.npos ? c1 : line.find(',', c1 + 1);
    if (c2 == line.npos || Blank(line.substr(c1 + 1, c2 - c1 - 1))) {
      return Status::InvalidArgument(origin + ":" + std::to_string(line_no) +
                                     ": expected language,name,alias;alias");
    }
    names.assign(1, line.substr(c1 + 1, c2 - c1 - 1));
    std::string_view rest = line.substr(c2 + 1);
    while (!rest.empty()) {
      const size_t semi = std::min(rest.find(';'), rest.size());
      names.push_back(rest.substr(0, semi));
      rest = semi < rest.size() ? rest.substr(semi + 1) : std::string_view();
    }
    group(names);
  }
  return Status::Ok();
}

}  // namespace sluice
