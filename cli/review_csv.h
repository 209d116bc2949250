// The review CSV of `sluice review export|import`: the steward's round trip
// for held items (docs/review.md describes the columns and the tables).
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "cli/review_file.h"
#include "common/audit/audit_store.h"
#include "common/core/status.h"
#include "common/plan/plan.h"

namespace sluice::cli {

// Writes every review item of `run_id` as CSV to `out`, with the decision
// already stored for it under `plan_name` (if any). Returns the item count.
Result<uint64_t> ExportReview(AuditStore& audit, const std::string& run_id,
                              const std::string& plan_name, std::ostream& out);

struct ReviewImportSummary {
  uint64_t records = 0;  // record decisions stored
  uint64_t pairs = 0;    // pair decisions stored
  uint64_t open = 0;     // rows left undecided
};

// Reads a CSV written by ExportReview and edited by a steward; checks every
// row against `plan` (entities, fields, the values of corrections) and, only
// when every row is valid, stores the decisions under `plan.name`. Errors
// name the file's line, one per line, all of them.
Result<ReviewImportSummary> ImportReview(AuditStore& audit, const Plan& plan,
                                         const std::string& csv_path, int64_t now_ms);

}  // namespace sluice::cli
