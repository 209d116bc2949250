#pragma once
#include "common/connectors/connector.h"
namespace sluice {
// RFC 4180 CSV. Options: delimiter (default ","), quote ("\""), header
// ("true"), key (the key column, required), encoding ("utf-8").
Result<std::unique_ptr<Source>> OpenCsvSource(const SourceSpec& spec);
}  // namespace sluice
