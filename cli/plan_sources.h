// `sluice plan check`'s look at the sources themselves: what the plan says
// about columns, checked against the columns the sources have.
#pragma once

#include <string>
#include <vector>

#include "common/plan/plan.h"

namespace sluice::cli {

// Opens every source a mapping reads (its file, table, query or server) and
// checks that each column the mapping names (from, concat, split, ...,
// through the transformer that will read them) and the source's key exist.
// Appends "<plan_path>: <yaml path>: <message>" to `problems`, with a "did
// you mean" for a near name. A source that cannot be opened now (a missing
// file, a server down) is appended to `notes`, not to `problems`: the run
// may still find it.
void CheckPlanSources(const std::string& plan_path, const Plan& plan,
                      std::vector<std::string>* problems, std::vector<std::string>* notes);

}  // namespace sluice::cli
