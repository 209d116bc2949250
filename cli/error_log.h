// The error log for `sluice errors`: every failure of a run, as CSV or as a
// table, and the trend of failures per rule across the runs of a plan
// (docs/validation.md).
#pragma once

#include <ostream>
#include <string>

#include "common/audit/audit_store.h"
#include "common/core/status.h"

namespace sluice::cli {

struct ErrorFilter {
  std::string rule;    // empty: every rule
  std::string entity;  // empty: every entity
};

// Writes every failure of `run_id` matching `filter` as CSV (header line,
// then one row per failure). Returns the number of rows.
Result<uint64_t> WriteErrorsCsv(AuditStore& audit, const std::string& run_id,
                                const ErrorFilter& filter, std::ostream& out);
// Writes the same failures as a table for people. Returns the row count.
Result<uint64_t> WriteErrorsText(AuditStore& audit, const std::string& run_id,
                                 const ErrorFilter& filter, std::ostream& out);
// Failure counts per (entity, rule, severity) for every run of `plan_name`,
// oldest first, and whether the last run did better or worse than the one
// before.
Status WriteErrorTrend(AuditStore& audit, const std::string& plan_name, std::ostream& out);

}  // namespace sluice::cli
