#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/connectors/connector.h"

namespace sluice {

// Settings of a PostgreSQL target, read from TargetSpec::options.
struct PostgresTargetOptions {
  std::string dsn;                 // libpq connection string (key=value or URI); required
  std::string schema = "public";   // schema of the entity tables
  double max_rows_per_second = 0;  // 0: unlimited
  int max_attempts = 5;            // tries per transaction on transient failures
  int64_t retry_base_ms = 100;     // first backoff ceiling; doubles per attempt
  int64_t retry_max_ms = 5000;     // backoff ceiling
};

// The options of a postgres target besides `dsn` (PostgresTargetOptions).
inline constexpr const char* kPostgresTargetKeys[] = {
    "schema", "max_rows_per_second", "max_attempts", "retry_base_ms", "retry_max_ms"};

// Parses and checks the options; problems name the YAML path
// ("target.options.max_attempts: must be an integer >= 1").
Result<PostgresTargetOptions> ParsePostgresTargetOptions(const TargetSpec& spec);

// A PostgreSQL database (`kind: postgres`), through libpq. Each batch is
// one transaction: COPY into a temporary staging table, then set-based
// upsert through sluice.xref, rollback data and the sluice.batches record.
// Transient failures are retried with backoff; rows the server refuses are
// isolated by bisection and returned as rejects. See docs/postgres.md.
Result<std::unique_ptr<Target>> OpenPostgresTarget(const TargetSpec& spec);

}  // namespace sluice
