#pragma once
#include "common/connectors/connector.h"
namespace sluice {
// JSON Lines: one JSON object per line. Nested objects are flattened into
// columns named by their path ("address.city"); arrays keep their JSON text,
// numbers and booleans their JSON spelling, null is NULL. Options: key (the
// key column, a path too, required). Batches are byte ranges of the file.
Result<std::unique_ptr<Source>> OpenJsonlSource(const SourceSpec& spec);
}  // namespace sluice
