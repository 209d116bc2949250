// Round 4's edges, routed (docs/dedup.md#round-4-edges-routed). Every shard
// needs every edge's names, band, rule and score: it clusters them all, cuts
// chains and counts every shard's output batches from them. Only the shards
// home to a record of an edge's component (the records its edges join,
// distinct edges included) can own one of its clusters, serve one of its
// members or record one of its decisions, so only they need the edge's
// detail, the text of its comparisons and most of its size. The coordinator
// (and bench/dedup_scale) relays each shard its own view instead of every
// edge whole to every shard.
#pragma once

#include <cstdint>
#include <vector>

#include "deduper/shard_map.h"
#include "sluice/v1/dedup_rounds.pb.h"

namespace sluice {

class EdgeRoutes {
 public:
  // The components of `all`'s edges and the shards home to their records,
  // under `shards` (its self() is not used). `all` must outlive this.
  EdgeRoutes(const ShardMap& shards, const v1::DedupEdges& all);

  // Whether shard `shard` needs edge `e` of `all` with its detail. A
  // malformed edge (a name without a key) goes whole to every shard, which
  // refuses it.
  bool Whole(int e, uint32_t shard) const;

  // What shard `shard` receives in round 4: every edge of `all`, in its
  // order, the ones it does not need whole without their detail.
  v1::DedupEdges For(uint32_t shard) const;
  // Edge `e` of `all` without its detail, into `out`.
  void CopyWithoutDetail(int e, v1::DedupEdge* out) const;

 private:
  const v1::DedupEdges& all_;
  uint32_t count_ = 1;
  std::vector<uint32_t> component_;           // per edge; kWhole: malformed
  std::vector<std::vector<uint32_t>> homes_;  // per component, ascending
};

// Every shard's view (EdgeRoutes::For), index = shard ordinal.
std::vector<v1::DedupEdges> RouteEdges(const ShardMap& shards, const v1::DedupEdges& all);
// The same, taking `all` apart: each edge moves into the last view that
// needs it whole and is copied into the others, so that the views are the
// only copy (the coordinator's peak at round 4 is what it relays).
std::vector<v1::DedupEdges> RouteEdges(const ShardMap& shards, v1::DedupEdges&& all);

}  // namespace sluice
