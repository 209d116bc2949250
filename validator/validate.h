// Validation of canonical records against the plan's rules.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/plan.h"
#include "common/record.h"
#include "common/status.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// Checks records of one entity. Thread-compatible.
class EntityValidator {
 public:
  // Fails when a rule names an unknown field, has a bad regex or bounds.
  static Result<std::unique_ptr<EntityValidator>> Create(const Plan& plan,
                                                         const std::string& entity);
  virtual ~EntityValidator() = default;

  // Passes valid records to `out` (same id, epoch, range, schema). Per failure
  // a fate with rule, field, value, reason and a suggestion: severity error
  // -> REJECTED (record dropped), review -> REVIEW (record held, dropped
  // from `out`), warning -> WARNING (record still passed on). A record gets
  // at most one terminal fate: the first error, else the first review.
  virtual void Apply(const RecordBatch& in, RecordBatch* out, std::vector<v1::Fate>* fates) = 0;
};

}  // namespace sluice
