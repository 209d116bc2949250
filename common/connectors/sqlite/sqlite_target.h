#pragma once
#include "common/connectors/connector.h"
namespace sluice {
// The embedded default target: a SQLite file (`path`).
Result<std::unique_ptr<Target>> OpenSqliteTarget(const TargetSpec& spec);
// The CREATE TABLE statement the target runs for `entity` (also printed by
// `sluice model ddl`): sluice_id INTEGER PRIMARY KEY, then the model fields.
std::string SqliteEntityDdl(const Entity& entity);
}  // namespace sluice
