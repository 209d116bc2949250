// Referential integrity at load time: a child's reference fields name a
// parent by its key in the child's own source system; before the child is
// loaded they are rewritten to the parent's target id through the target's
// cross-reference (the survivor's id when the parent was merged as a
// duplicate). A reference that resolves to nothing is an orphan: the child
// is rejected with its reason, never loaded with a dangling key.
#pragma once

#include <vector>

#include "common/connector.h"
#include "common/plan.h"
#include "common/record.h"

namespace sluice {

struct ReferenceOutcome {
  std::vector<v1::Fate> orphans;  // REJECTED fates, stage "load", rule "reference"
  std::vector<bool> orphaned;     // per record of the batch; empty when none is
  uint64_t rewritten = 0;         // reference values rewritten
};

// Rewrites the reference fields of `batch` in place (and the content hash of
// every record that changed) and finds the orphans. References of an entity
// to itself are left as they are (the parent may load later in the same
// entity). Fails only when the target cannot be read.
// A child's reference keys name parents of the child's own source, or of the
// source its `references_from` setting names.
Result<ReferenceOutcome> ResolveReferences(const Plan& plan, const Entity& entity, Target* target,
                                           RecordBatch* batch);

}  // namespace sluice
