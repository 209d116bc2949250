// A wave's failures grouped by rule with a few examples, as the wave report
// and the run report show them (issue 6, issue 17).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/audit/audit_store.h"

namespace sluice::coordination {

// [{entity, rule, kind, count, examples: [{source, key, field, value, reason,
// suggestion}]}] of `run_id`'s wave, up to `examples` each; an empty array
// when the audit store cannot be read.
nlohmann::json FailuresByRuleJson(AuditStore& audit, const std::string& run_id, int wave,
                                  size_t examples = 3);

}  // namespace sluice::coordination
