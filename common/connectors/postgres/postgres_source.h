#pragma once
#include <string>
#include <vector>

#include "common/connectors/connector.h"
namespace sluice {
// A PostgreSQL table (option `table`, optionally `schema.table`) or query
// (option `query`) on the server named by the libpq connection string `dsn`,
// key column `key`. Rows are read in key order (ties broken by the other
// columns' text) through a cursor in one REPEATABLE READ snapshot; a batch is a
// range of ranks in that order, so Seek reads any batch again, identically
// while the data is unchanged. Every value comes as the server's text form
// under fixed session settings (UTF8, ISO dates, UTC); NULL stays NULL. A
// row whose key is NULL or empty is rejected ("missing key"). Fails naming
// the YAML path of the culprit (`.dsn`, `.table`, `.query`, `.key`) and the
// server's message; kUnavailable when the server cannot be reached.
Result<std::unique_ptr<Source>> OpenPostgresSource(const SourceSpec& spec);
// The same, reading only the rows whose key is one of `keys` (residents,
// issue 18 item 3), through a temporary table of the key column's type
// filled before the snapshot begins; `spec.extract_above` is not applied.
// Batches are ranges of ranks among those rows.
Result<std::unique_ptr<Source>> OpenPostgresSourceByKeys(const SourceSpec& spec,
                                                         std::vector<std::string> keys);
}  // namespace sluice
