// Database sources read above a high-water mark (issue 18, docs/delta.md):
// the check they share that the incremental column exists.
#pragma once

#include <string>

#include "common/core/status.h"
#include "common/core/value.h"
#include "common/plan/plan.h"

namespace sluice {

// InvalidArgument at "<source>.incremental.column" when `schema`, the
// columns of `spec`'s table (or query, when `table` is empty), lacks the
// incremental column.
inline Status CheckIncrementalColumn(const SourceSpec& spec, const Schema& schema,
                                     const std::string& table) {
  const std::string& column = spec.incremental_column;
  if (schema.IndexOf(column) >= 0) return Status::Ok();
  return Status::InvalidArgument(spec.yaml_path + ".incremental.column: column '" + column +
                                 "' not found in " +
                                 (table.empty() ? "the query" : "table '" + table + "'"));
}

}  // namespace sluice
