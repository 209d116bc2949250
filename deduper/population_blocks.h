// The blocking keys a dedup_ingest commit carries (issue 18 item 3,
// docs/incremental_dedup.md): per record the shard takes in as its home,
// one (rule, block key) per rule that blocks it, exactly as the matcher
// blocks on them. The coordinator stores them as the population, so that a
// later delta run reads the residents of the blocks its delta touches.
#pragma once

#include "common/core/record.h"
#include "common/core/status.h"
#include "common/plan/plan.h"
#include "deduper/shard_map.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// Adds to `commit` the population blocks of the records of `batch` whose
// home is `shards.self()`: under the plan's exact key (rule "exact") or,
// fuzzy, under each blocking rule the matcher uses (its name; "key" for the
// plan's key). Records without values (guest rows) give none, nor do keys
// of 0 (a NULL, empty or placeholder part). Fails when the spec names a field
// the batch's schema lacks. A record blocked by no rule gets one entry of
// rule "" and block 0: every record taken in is named.
Status AddPopulationBlocks(const DedupSpec& spec, const ShardMap& shards, const RecordBatch& batch,
                           v1::Commit* commit);

}  // namespace sluice
