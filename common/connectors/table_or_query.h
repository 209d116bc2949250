// Sources that read a database (sqlite, postgres) read a `table` or the rows
// of a `query`: exactly one of the two, not empty. Their plan checks and
// their Open functions both ask here, so that the rule is written once.
#pragma once

#include <map>
#include <string>

namespace sluice {

// The problem with the table and query settings of `options`, to be
// reported at the source's YAML path; "" when exactly one is set.
inline std::string TableOrQueryProblem(const std::map<std::string, std::string>& options) {
  auto set = [&options](const char* key) {
    auto it = options.find(key);
    return it != options.end() && !it->second.empty();
  };
  const bool table = set("table"), query = set("query");
  if (!table && !query) return "needs 'table' or 'query'";
  if (table && query) return "use 'table' or 'query', not both";
  return "";
}

}  // namespace sluice
