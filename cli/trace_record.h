// The history of one record for `sluice trace`: where did it go, and why.
#pragma once

#include <string>

#include "common/audit/audit_store.h"
#include "common/core/status.h"

namespace sluice::cli {

// The readable history of (entity, source, key) across runs: every fate with
// its stage, rule, field, value and reason, and the batch it was decided in
// with that batch's recorded stage commits and checksums.
Result<std::string> TraceRecord(AuditStore& audit, const std::string& entity,
                                const std::string& source, const std::string& key);

}  // namespace sluice::cli
