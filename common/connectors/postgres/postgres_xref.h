// Reference lookups in the PostgreSQL target's cross-reference (sluice.xref),
// for the loader's rewriting of children's references (loader/references.h).
// Used by postgres_target.cc only.
#pragma once

#include <string>
#include <vector>

#include "common/connectors/connector.h"
#include "common/connectors/postgres/pg_util.h"

namespace sluice {

// The target id of each of `keys` of (entity, source); 0 where the
// cross-reference holds no entry. One statement per call.
Result<std::vector<int64_t>> ResolvePgXrefKeys(PgConn* conn, const std::string& entity,
                                               const std::string& source,
                                               const std::vector<std::string>& keys);

// The entries of `keys` that the cross-reference of `entity` holds, each
// with whether its row in `table` (quoted, schema-qualified) exists. One
// statement per source and 10,000 keys.
Result<std::vector<TargetEntry>> LookupPgXrefEntries(PgConn* conn, const std::string& table,
                                                     const std::string& entity,
                                                     const std::vector<SourceKey>& keys);

// How many batches of `run_id` whose name starts with `prefix` sluice.batches
// holds (applied and committed).
Result<uint64_t> CountPgAppliedBatches(PgConn* conn, const std::string& run_id,
                                       const std::string& prefix);

}  // namespace sluice
