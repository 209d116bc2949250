// The reference check: every reference the target holds for an entity
// points at a row of its parent entity. Counted over the whole target, not
// only the rows of one run: a dangling reference is wrong whoever wrote it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/connectors/connector.h"
#include "common/plan/plan.h"
#include "reconciler/differences.h"

namespace sluice {

struct ReferenceCheck {
  bool checked = false;     // the entity has references (to itself or others)
  uint64_t references = 0;  // non-NULL reference values seen
  uint64_t unresolved = 0;  // of which point at no parent row
  std::map<std::string, uint64_t> unresolved_by_field;
  std::vector<std::string> examples;  // up to 20 "source/key: field -> value"
  bool passed() const { return unresolved == 0; }
  // "PASS", "FAIL" or "n/a" (no references to check).
  std::string Verdict() const { return !checked ? "n/a" : passed() ? "PASS" : "FAIL"; }
};

// Reads the parents' target ids and the entity's rows from `target`.
// References of the entity to itself are checked against its own rows.
// Each unresolved reference is also a REFERENCE_BROKEN in `log` when given.
// Fails only when the target cannot be read.
Result<ReferenceCheck> CheckReferences(const Model& model, const Entity& entity, Target* target,
                                       DifferenceLog* log = nullptr);

}  // namespace sluice
