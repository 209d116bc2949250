// The wire form of what dedup shards exchange in a multi-shard resolve
// (docs/dedup.md#scale-out): pattern and u level counts in round 2, edges
// (records named by source and key) in round 3.
#pragma once

#include <vector>

#include "common/core/status.h"
#include "deduper/dedup.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

void PatternsToProto(const PatternCounts& counts, v1::DedupPatterns* out);
PatternCounts PatternsFromProto(const v1::DedupPatterns& in);
// Every shard's pattern counts summed per entry, the term-frequency entries
// only for the values `keep` names (KeepNeededTermValues): no shard sums or
// holds the counts of values its pairs never look up.
PatternCounts SumPatterns(const std::vector<v1::DedupPatterns>& all, const TermValuesNeeded& keep);
void LevelCountsToProto(const LevelCounts& counts, v1::DedupPatterns* out);
// The u level counts of every shard, summed per comparison and level.
LevelCounts SumLevelCounts(const std::vector<v1::DedupPatterns>& all);

// An edge between two records named by (source, key).
struct NamedEdge {
  SourceKey a, b;
  MatchEdge edge;  // a and b unused
};

// `edges` index `records` (a or b may be named instead: MatchEdge::kAbsent).
void EdgesToProto(const std::vector<MatchEdge>& edges, const std::vector<Record>& records,
                  v1::DedupEdges* out);
// The edges of every shard (concatenated, any order), sorted by names: the
// order the clustering sees does not depend on which shard found what.
Result<std::vector<NamedEdge>> EdgesFromProto(const v1::DedupEdges& in);

// A steward's pair is emitted in round 3 by the home shard of each of its
// records that holds it (docs/dedup.md#scale-out): it stands when both did
// (once when one shard is home to both), so that a pair naming a record no
// shard holds is none, as on one shard. Keeps one copy of each that stands.
void KeepStewardEdges(const ShardMap& shards, std::vector<NamedEdge>* edges);

}  // namespace sluice
