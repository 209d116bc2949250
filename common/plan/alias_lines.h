// The format of a name alias table (deduper/data/aliases.csv, and a plan's
// `aliases: FILE`): one group per line, `language,name,alias;alias;...`,
// `#` comments and blank lines skipped. Read here once for both the plan
// check (a bad file is refused with its YAML path) and the deduper's table.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"

namespace sluice {

// Calls `group` with the names of each group of `csv` (the name first, then
// its aliases, as written). Fails with InvalidArgument "ORIGIN:LINE: ..."
// at the first malformed line (no two commas, or no name at all); the
// groups before it have been passed on.
Status ForEachAliasGroup(std::string_view csv, const std::string& origin,
                         const std::function<void(const std::vector<std::string_view>&)>& group);

}  // namespace sluice
