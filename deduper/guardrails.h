// Cluster guardrails against chains (issue 21; docs/dedup.md, "Guardrails
// against chains"). A distinct edge handed to clustering is decisive: a
// distinct rule held for the pair, a comparison fell on a decisive level
// (two different ids that both pass the plan's checksum), or a steward
// decided the pair distinct. Its two records must not end in one cluster,
// however many merge and review edges chain them together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/core/record.h"
#include "deduper/dedup.h"
#include "deduper/shard_rounds.h"

namespace sluice::dedup_internal {

struct ChainCuts {
  // Per edge: why the guardrail cut this merge or review edge ("" when
  // kept). A cut edge joins nothing.
  std::vector<std::string> cut;
  // Per edge: 1 for a distinct edge whose records the links would have put
  // in one cluster (its decision is recorded, with the cuts it caused).
  std::vector<uint8_t> binding;
};

// Among `records` linked by the merge and review `edges` (distinct edges
// are the constraints), takes the links strongest first (merge before
// review, rule-decided before scored, higher weight first, then record
// order) and cuts each one that would put the two records of a distinct
// edge in one cluster: a chain is split at its weakest link, and a cluster
// without a decisive pair is left as the links make it. Edges with an end
// past `records` are ignored. The reasons name the records (source:key).
// Records marked in `ignore` (rejected repeats) take no part.
ChainCuts CutChains(const std::vector<Record>& records, const std::vector<MatchEdge>& edges,
                    const std::vector<uint8_t>& ignore = {});

// CutChains over `edges` by names (as on N shards): the same cuts on every
// shard, since every shard has every edge. Per edge of `edges`.
ChainCuts CutChainsByName(const std::vector<NamedEdge>& edges);

// `edges` (by names, as on N shards) without the links CutChains cuts: what
// every shard's Cluster() will join. With guardrails.on_conflict: review
// nothing is cut (the cluster is held whole instead): `edges` as they are.
std::vector<NamedEdge> WithoutCutLinks(const std::vector<NamedEdge>& edges,
                                       bool review_on_conflict = false);

// On N shards (ResolveRouted), the decisions a single shard's Cluster()
// records for the chains it splits: each cut link (outcome: the cut's
// reason) and each distinct pair whose records the links would have joined
// (outcome "distinct"; not the steward's, recorded as before), by name,
// oriented as one shard orients them (the smaller (source, key) first), for
// the pairs whose first record `records_here` says this shard records.
std::vector<v1::MatchDecision> SplitDecisions(
    const std::vector<NamedEdge>& edges, const std::function<bool(const SourceKey&)>& records_here);
// The same with the cuts of `edges` known (CutChainsByName(edges)).
std::vector<v1::MatchDecision> SplitDecisions(
    const std::vector<NamedEdge>& edges, const ChainCuts& cuts,
    const std::function<bool(const SourceKey&)>& records_here);

// guardrails.on_conflict: review, why a cluster is held: records a and b
// of the cluster are kept apart by the `distinct` edge (its rule and detail).
std::string ConflictReason(const Record& a, const Record& b, const MatchEdge& distinct);

}  // namespace sluice::dedup_internal
