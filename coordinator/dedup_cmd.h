// `sluice dedup estimate PLAN`: before a run, how many candidate pairs each
// blocking rule of each fuzzy dedup entity will give (docs/dedup.md).
#pragma once

#include <string>

namespace sluice {

// Reads and maps every source of the plan (as the extractor and transformer
// do), then counts per blocking rule the records blocked, the blocks, the new
// candidate pairs (pairs an earlier rule gives count once) and the blocks
// above max_block_size. Returns the process exit code: 0, or 2 for an
// invalid plan, 1 when a source cannot be read.
int CmdDedupEstimate(const std::string& plan_path, const std::string& env);

}  // namespace sluice
