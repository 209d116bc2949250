#pragma once
#include <string>
#include <vector>

#include "common/connectors/connector.h"
namespace sluice {
// A SQLite table (option `table`) or query (option `query`), key column
// `key`; batches are ranges of the key order, so any batch reads again.
Result<std::unique_ptr<Source>> OpenSqliteSource(const SourceSpec& spec);
// The same, reading only the rows whose key is one of `keys` (residents,
// issue 18 item 3), through a temporary table; `spec.extract_above` is not
// applied. Batches are ranges of ranks among those rows.
Result<std::unique_ptr<Source>> OpenSqliteSourceByKeys(const SourceSpec& spec,
                                                       std::vector<std::string> keys);
}  // namespace sluice
