#pragma once
#include "common/connectors/connector.h"
namespace sluice {
// A SQLite table (option `table`) or query (option `query`), key column
// `key`; batches are ranges of the key order, so any batch reads again.
Result<std::unique_ptr<Source>> OpenSqliteSource(const SourceSpec& spec);
}  // namespace sluice
