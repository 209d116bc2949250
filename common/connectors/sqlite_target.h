#pragma once
#include "common/connector.h"
namespace sluice {
// The embedded default target: a SQLite file (`path`).
Result<std::unique_ptr<Target>> OpenSqliteTarget(const TargetSpec& spec);
}  // namespace sluice
