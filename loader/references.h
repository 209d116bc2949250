// Referential integrity at load time: a child's reference fields name a
// parent by its key in the child's own source system; before the child is
// loaded they are rewritten to the parent's target id through the target's
// cross-reference (the survivor's id when the parent was merged as a
// duplicate). A reference that resolves to nothing is an orphan, never loaded
// with a dangling key. The entity's `reference` validation rule on the field,
// when the plan has one, decides the orphan's fate by its severity: error
// rejects the child, warning loads it with the reference NULL, review holds
// it for a steward. Without a rule the child is rejected (rule "reference").
//
// A parent that was extracted but has no row, because it was rejected or is
// held for review, is not an orphan's parent: the coordinator tells the
// loaders about such parents (ParentFates) and the child follows its
// parent's fate (docs/consolidation.md#children-of-parents-without-a-row).
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/connectors/connector.h"
#include "common/core/record.h"
#include "common/plan/plan.h"

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
  // Per record, the parents its references were rewritten to, for its
  // LOADED fate ("hcp_ref -> hcp us:US01, target id 7"); empty when none.
  std::vector<std::string> parents;
};

// The parents that have no row of their own, per parent entity, as the
// coordinator sent them (v1::ParentFates). Thread-compatible.
class ParentFates {
 public:
  // Replaces what is known of `message.entity()`.
  void Set(const v1::ParentFates& message);
  // The fate of parent (entity, source, key), or null when it is not known
  // to have been rejected or held.
  const v1::ParentFate* Find(const std::string& entity, const std::string& source,
                             const std::string& key) const;

 private:
  std::map<std::string, std::unordered_map<std::string, v1::ParentFate>> by_entity_;
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
//
// `parent`, when not null, is the parent's own fate: rejected, the child's
// reason names the parent's rule ("parent hcp eu:EU0010195 was rejected by
// last_name_required") under the rule's severity; held for review, the
// child is held too (whatever the severity), and loads on the run after the
// steward's decision on its parent.
bool AddOrphan(const Entity& entity, const ModelField& field, const RuleSpec* rule, const Record& r,
               const Schema& schema, const std::string& value, const std::string& from,
               const std::string& why, ReferenceOutcome* out,
               const v1::ParentFate* parent = nullptr);

// Rewrites the reference fields of `batch` in place (and the content hash of
// every record that changed) and finds the orphans. References of an entity
// to itself are left as they are: their parent may load later in the same
// entity, so SelfReferences (loader/self_references.h) settles them. Fails
// only when the target cannot be read.
// A child's reference keys name parents of the child's own source, or of the
// source its `references_from` setting names.
// `parents`, when not null, holds the parents that have no row (AddOrphan).
Result<ReferenceOutcome> ResolveReferences(const Plan& plan, const Entity& entity, Target* target,
                                           RecordBatch* batch,
                                           const ParentFates* parents = nullptr);

}  // namespace sluice
