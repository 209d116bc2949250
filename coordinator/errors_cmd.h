// `sluice errors`: the error log of a run, every failure, and the trend of
// failures per rule across the runs of a plan (docs/validation.md).
#pragma once

#include <ostream>
#include <string>

#include "common/audit/audit_store.h"
#include "common/core/status.h"

namespace sluice {

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

// The CLI command; returns the process exit code. `run_id` empty with
// `trend` set: the trend of the plan's runs.
int CmdErrors(const std::string& run_id, const ErrorFilter& filter, const std::string& csv_path,
              bool trend, const std::string& plan_path, const std::string& state_dir);

}  // namespace sluice
