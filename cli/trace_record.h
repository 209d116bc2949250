// The history of one record for `sluice trace`: where did it go, and why.
#pragma once

#include <string>

#include "common/audit/audit_store.h"
#include "common/audit/key_hints.h"
#include "common/core/status.h"

namespace sluice::cli {

// The readable history of (entity, source, key) across runs (or in run
// `run` only, when not empty): every fate with its stage, rule, field, value
// and reason, and the batch it was decided in with that batch's recorded
// stage commits and checksums. A merged record shows the target row it
// lives in (its survivor's, through the survivor chain), a loaded child the
// parents' rows its references point at, a survivor its golden record's
// provenance. A row rejected as malformed at extraction is traced by its key
// when the key column could be read, else by "line:N". NotFound when the
// store has no fate of it (in `run`: then the message names the runs it has
// fates in).
Result<std::string> TraceRecord(AuditStore& audit, const std::string& entity,
                                const std::string& source, const std::string& key,
                                const std::string& run = "");

// What to type instead when the store has no fate of (entity, source, key),
// from KeyHintsOf: the names the store does hold, the keys that look like
// `key`, the keys either side of it, and what a KEY is. Lines of their own,
// each ending in a newline; "" when the store holds the key as given.
std::string NoFateAdvice(const KeyHints& hints, const std::string& entity,
                         const std::string& source, const std::string& key);

}  // namespace sluice::cli
