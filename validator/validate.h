// Validation of canonical records against the plan's rules.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/record.h"
#include "common/core/status.h"
#include "common/plan/plan.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

struct ValidatorOptions {
  // today() of expressions, days since 1970-01-01; the validator uses the
  // run's start day, so that a run decides the same way after midnight.
  int64_t today = 0;
  // Where `unique` rules keep the values claimed ("" or ":memory:": in memory).
  std::string unique_index_path = ":memory:";
  // Steward decisions of the plan (docs/review.md); may be null.
  const v1::ReviewDecisions* decisions = nullptr;
};

// Checks records of one entity. Thread-compatible.
class EntityValidator {
 public:
  // Fails when a rule names an unknown field, has a bad regex, bounds or
  // expression (one line per rule, prefixed with its YAML path).
  static Result<std::unique_ptr<EntityValidator>> Create(const Plan& plan,
                                                         const std::string& entity,
                                                         const ValidatorOptions& options = {});
  virtual ~EntityValidator() = default;
  // Passes valid records to `out` (same id, epoch, range, schema). Per failure
  // a fate with rule, field, value, reason and a suggestion: severity error
  // -> REJECTED (record dropped), review -> REVIEW (record held, dropped
  // from `out`, and a review item with its values in `items`), warning ->
  // WARNING (record still passed on). A record gets at most one terminal
  // fate: the first error, else the first review. Steward decisions apply
  // first (corrections, load, reject) and are recorded as fates of stage
  // "steward". Fails only when the unique index cannot be read or written.
  // Records `out` already holds are overwritten (a caller passing the same
  // `out` again saves their allocations).
  virtual Status Apply(const RecordBatch& in, RecordBatch* out, std::vector<v1::Fate>* fates,
                       std::vector<v1::ReviewItem>* items = nullptr) = 0;

  // The terminal fate Apply would give `rec` (of `schema`) by its
  // record-level rules, every kind but unique and reference, after the
  // steward's decisions on it; nothing when it passes them. Records nothing
  // and claims no unique value: the deduper asks it so that it elects only
  // survivors that validation passes (docs/dedup.md#clusters-and-validation).
  // `item`, when not null, receives the review item of a REVIEW fate.
  virtual std::optional<v1::Fate> Judge(const Record& rec, const Schema& schema,
                                        v1::ReviewItem* item = nullptr) = 0;
};

// Days since 1970-01-01 of a run id "run-YYYYMMDDT...", else of today (UTC).
int64_t RunDay(const std::string& run_id);

}  // namespace sluice
