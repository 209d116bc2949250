// Mapping of raw source records onto the canonical model.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/audit/lineage.h"
#include "common/plan/plan.h"
#include "common/core/record.h"
#include "common/core/status.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// Applies one mapping (entity, source) to raw batches of that source.
// Thread-compatible; build one per (entity, source).
class EntityTransformer {
 public:
  // Fails when the mapping names source columns missing from `source_schema`
  // or model fields the entity lacks, or cannot be compiled.
  static Result<std::unique_ptr<EntityTransformer>> Create(const Plan& plan,
                                                           const std::string& entity,
                                                           const std::string& source,
                                                           const Schema& source_schema);
  virtual ~EntityTransformer() = default;

  // Maps every record of `in` (raw strings) onto the entity schema: trim,
  // value maps, defaults, casts. A record that cannot be mapped is not passed
  // on: it gets a REJECTED fate naming field, value, rule and reason (e.g.
  // rule "value_map", reason "unmapped value 'XX' in map of specialty").
  // `out` receives the batch id/epoch/range of `in`, the entity schema and
  // the mapped records with fresh content hashes; records it already holds
  // are overwritten (a caller passing the same `out` again saves their
  // allocations).
  //
  // Each value a step changed (beyond trimming and casting) of a record that
  // is passed on is added to `lineage` (when not null): key, field, before,
  // after and the rule ("map", "split", "phone+default", ...).
  virtual void Apply(const RecordBatch& in, RecordBatch* out, std::vector<v1::Fate>* fates,
                     LineageWriter* lineage) = 0;
  void Apply(const RecordBatch& in, RecordBatch* out, std::vector<v1::Fate>* fates) {
    Apply(in, out, fates, nullptr);
  }
};

}  // namespace sluice
