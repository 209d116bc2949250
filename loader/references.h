// Referential integrity at load time: a child's reference fields name a
// parent by its key in the child's own source system; before the child is
// loaded they are rewritten to the parent's target id through the target's
// cross-reference (the survivor's id when the parent was merged as a
// duplicate). A reference that resolves to nothing is an orphan, never loaded
// with a dangling key. The entity's `reference` validation rule on the field,
// when the plan has one, decides the orphan's fate by its severity: error
// rejects the child, warning loads it with the reference NULL, review holds
// it for a steward. Without a rule the child is rejected (rule "reference").
#pragma once

#include <string>
#include <vector>

#include "common/connectors/connector.h"
#include "common/plan/plan.h"
#include "common/core/record.h"

namespace sluice {

struct ReferenceOutcome {
  // Terminal fates of the orphans, stage "load": REJECTED, or REVIEW under a
  // review-severity rule. Rule: the plan rule's name, or "reference".
  std::vector<v1::Fate> orphans;
  // WARNING fates of orphans loaded with the reference set to NULL.
  std::vector<v1::Fate> warnings;
  std::vector<v1::ReviewItem> review_items;  // one per REVIEW fate
  std::vector<bool> orphaned;  // per record: not loaded (rejected or held); empty when none is
  uint64_t rewritten = 0;      // reference values rewritten
};

// The plan's `reference` rule of `entity` on `field`, or nullptr.
const RuleSpec* FindReferenceRule(const Plan& plan, const std::string& entity,
                                  const std::string& field);

// The columns of `entity`'s references to itself (`hcp.parent_id`), in
// field order; loader/self_references.h loads them.
std::vector<size_t> SelfReferenceColumns(const Entity& entity);

// The source whose keys `source`'s reference fields hold: its
// `references_from` setting, or itself.
std::string ParentSource(const Plan& plan, const std::string& source);

// Records the orphan fate of `r`, whose reference `field` holds `value`, a
// key of source `from` that resolves to nothing (`why`: "not found in
// source eu"), under `rule`'s severity (nullptr: error) into `out`: a
// REJECTED or REVIEW fate (with its review item) in `out->orphans`, or a
// WARNING in `out->warnings`. Returns true for a warning: the record is
// still loaded, with the reference set to NULL by the caller.
bool AddOrphan(const Entity& entity, const ModelField& field, const RuleSpec* rule, const Record& r,
               const Schema& schema, const std::string& value, const std::string& from,
               const std::string& why, ReferenceOutcome* out);

// Rewrites the reference fields of `batch` in place (and the content hash of
// every record that changed) and finds the orphans. References of an entity
// to itself are left as they are: their parent may load later in the same
// entity, so SelfReferences (loader/self_references.h) settles them. Fails
// only when the target cannot be read.
// A child's reference keys name parents of the child's own source, or of the
// source its `references_from` setting names.
Result<ReferenceOutcome> ResolveReferences(const Plan& plan, const Entity& entity, Target* target,
                                           RecordBatch* batch);

}  // namespace sluice
