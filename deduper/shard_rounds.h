// The wire form of what dedup shards exchange in a multi-shard resolve
// (docs/dedup.md#scale-out): pattern counts in round 1, edges in round 2.
#pragma once

#include <vector>

#include "common/status.h"
#include "deduper/dedup.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

void PatternsToProto(const PatternCounts& counts, v1::DedupPatterns* out);
PatternCounts PatternsFromProto(const v1::DedupPatterns& in);

void EdgesToProto(const std::vector<MatchEdge>& edges, v1::DedupEdges* out);
// The edges of every shard (concatenated, any order), checked against the
// `records` a shard holds and sorted by (a, b): the order the clustering
// sees does not depend on which shard found what.
Result<std::vector<MatchEdge>> EdgesFromProto(const v1::DedupEdges& in, size_t records);

}  // namespace sluice
