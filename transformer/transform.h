// Mapping of raw source records onto the canonical model.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/audit/lineage.h"
#include "common/core/record.h"
#include "common/core/status.h"
#include "common/plan/plan.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// Applies one mapping (entity, source) to raw batches of that source.
// Thread-compatible; build one per (entity, source).
class EntityTransformer {
 public:
  // Fails when the mapping names source columns missing from `source_schema`
  // or model fields the entity lacks, or cannot be compiled.
  // `decisions` (not owned, may be null): the steward's decisions on
  // records; a correction of a field whose transformation fails replaces
  // it, `load` loads the record with the field NULL, `reject` rejects it.
  static Result<std::unique_ptr<EntityTransformer>> Create(
      const Plan& plan, const std::string& entity, const std::string& source,
      const Schema& source_schema, const v1::ReviewDecisions* decisions = nullptr);
  virtual ~EntityTransformer() = default;

  // Maps every record of `in` (raw strings) onto the entity schema: trim,
  // value maps, defaults, casts. A field whose transformation fails follows
  // its mapping's `on_error`: `reject` (the default) drops the record with
  // a REJECTED fate naming field, value, rule and reason (e.g. rule
  // "value_map", reason "unmapped value 'XX' in map of specialty");
  // `review` holds it with a REVIEW fate and a review item in `items`;
  // `null` passes it on with the field NULL and a WARNING fate. The failed
  // field's original value goes to `lineage` under every policy.
  // `out` receives the batch id/epoch/range of `in`, the entity schema and
  // the mapped records with fresh content hashes; records it already holds
  // are overwritten (a caller passing the same `out` again saves their
  // allocations).
  //
  // Each value a step changed (beyond trimming and casting) of a record that
  // is passed on is added to `lineage` (when not null): key, field, before,
  // after and the rule ("map", "split", "phone+default", ...).
  virtual void Apply(const RecordBatch& in, RecordBatch* out, std::vector<v1::Fate>* fates,
                     LineageWriter* lineage, std::vector<v1::ReviewItem>* items = nullptr) = 0;
  void Apply(const RecordBatch& in, RecordBatch* out, std::vector<v1::Fate>* fates) {
    Apply(in, out, fates, nullptr);
  }
};

}  // namespace sluice
