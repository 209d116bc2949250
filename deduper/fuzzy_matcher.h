// The pieces of the fuzzy matcher that tools outside the resolve path use:
// blocking keys and the estimate of candidate pairs per blocking rule
// (`sluice dedup estimate`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/record.h"
#include "common/core/status.h"
#include "common/plan/plan.h"

namespace sluice {

// Computes the blocking keys of one rule for every record: a 64-bit hash
// of the transformed parts, 0 when a part is NULL, empty or a placeholder
// (such a record is not blocked by the rule). Fails when a part names a
// field `schema` lacks.
Result<std::vector<uint64_t>> BlockingKeys(const BlockingRule& rule,
                                           const std::vector<std::string>& placeholders,
                                           const Schema& schema,
                                           const std::vector<Record>& records);

// What blocking would give on `records`, per rule: records blocked, blocks,
// new candidate pairs (pairs an earlier rule already yields count once),
// oversize blocks. For `sluice dedup estimate`, before a run.
struct BlockingEstimate {
  std::string rule;
  uint64_t blocked = 0, blocks = 0, pairs = 0, oversize_blocks = 0, oversize_records = 0;
  uint64_t largest_block = 0;
};
Result<std::vector<BlockingEstimate>> EstimateBlocking(const DedupSpec& spec, const Schema& schema,
                                                       const std::vector<Record>& records);

}  // namespace sluice
