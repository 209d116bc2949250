// Which deduplicated entities a delta run may read by their delta and the
// residents of its blocks (issue 18 item 3, docs/incremental_dedup.md).
#pragma once

#include <string>

#include "common/plan/plan.h"

namespace sluice {

// "" when a delta run of `entity` may read only its delta and the residents
// of the delta's blocks (it is deduplicated, a source of it is incremental,
// and its decisions do not depend on the records resolved); otherwise why it
// is read whole: EM-estimated m/u weights or term frequencies would be
// estimated over the records read, so only the whole population gives a
// full run's decisions.
std::string IncrementalDedupBlocker(const Plan& plan, const std::string& entity);

// What the stored population's blocks depend on in `spec` (the exact key,
// the blocking rules, the placeholders), as text: a run's population is used
// only by runs whose spec gives the same.
std::string PopulationSpec(const DedupSpec& spec);

}  // namespace sluice
