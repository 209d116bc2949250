#pragma once
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
}  // namespace sluice
