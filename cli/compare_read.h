// The two sides of `sluice compare` (docs/compare.md) as the pipeline would
// see them, read into a LiveComparison: each source through the plan's
// mapping (the transformer's EntityTransformer, the validator's record
// rules, the loader's reference rewriting), and the target through its
// cross-reference. Nothing is written to the target.
#pragma once

#include <set>
#include <string>

#include "common/connectors/connector.h"
#include "common/plan/plan.h"
#include "reconciler/live_comparison.h"
#include "sluice/v1/control.pb.h"

namespace sluice::cli {

// What was read of one entity.
struct ComparedSide {
  uint64_t source_records = 0;  // mapped and loadable today
  uint64_t source_rejects = 0;  // the pipeline would reject or hold them today
  uint64_t target_entries = 0;  // cross-reference entries of the compared sources
  uint64_t stray_rows = 0;      // rows no entry owns
  std::string note;             // e.g. the target cannot list rows without an entry
};

// Reads every source of `entity` whose name is in `sources` (empty: all its
// mappings) into `comparison`, then the target's entries of those sources,
// and, when `sources` is empty, the rows no entry owns. `decisions`: the
// plan's steward decisions, as the transformer and validator apply them.
// Fails when a source, the mapping or the target cannot be read.
Result<ComparedSide> ReadBothSides(const Plan& plan, const Entity& entity,
                                   const std::set<std::string>& sources,
                                   const v1::ReviewDecisions& decisions, Target* target,
                                   LiveComparison* comparison);

}  // namespace sluice::cli
