// Internal to the deduper: what the shard (dedup.cc) hands to clustering
// and survivor assembly (dedup_cluster.cc).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/core/record.h"
#include "common/plan/plan.h"
#include "deduper/dedup.h"
#include "deduper/guardrails.h"
#include "deduper/packed_spill.h"
#include "deduper/packed_values.h"
#include "deduper/shard_map.h"
#include "deduper/shard_rounds.h"
#include "deduper/survivorship.h"
#include "validator/validate.h"

namespace sluice::dedup_internal {

// Where a record arrived from. Orders two occurrences of one (source, key)
// independently of arrival: by batch stream and sequence, then position.
// The position is the record's in the transformer's whole batch
// (RecordBatch.positions), so that every shard names an occurrence alike.
struct Origin {
  uint32_t batch = 0;
  uint32_t position = 0;
};

// The spec the fuzzy matcher runs: the plan's key (when given) as the
// first blocking rule and the first deterministic rule.
DedupSpec FuzzyMatcherSpec(const DedupSpec& spec);

// The blocking rules the fuzzy matcher blocks on: the plan's key (when
// given) first, then `blocking`.
std::vector<BlockingRule> FuzzyBlockingRules(const DedupSpec& spec);

// The exact-key matcher's block key of each record: a hash of its key
// values, 0 when a part is NULL or empty (it never matches). Fails with
// InvalidArgument when a key field is not in `schema`.
Result<std::vector<uint64_t>> ExactKeyHashes(const DedupSpec& spec, const Schema& schema,
                                             const std::vector<Record>& records);

struct IngestedBatch {
  v1::BatchId id;
  std::string name;
};

// The permutation that sorts a shard's records by (source, key, origin):
// origins of one (source, key) by batch stream (source, sequence, name),
// then position. Every later step depends only on the records, never on
// their arrival order.
std::vector<uint32_t> CanonicalOrder(const std::vector<Record>& records,
                                     const std::vector<Origin>& origins,
                                     const std::vector<IngestedBatch>& batches);

// A shard's canonical records (sorted by source, key, origin) and its rules.
struct ClusterInput {
  const std::string& entity;
  const DedupSpec* spec;  // none: nothing merges
  const Schema& schema;
  std::vector<Record>& records;  // moved into the output batches
  const std::vector<Origin>& origins;
  const std::vector<IngestedBatch>& batches;
  const SurvivorshipRule* survivorship;  // null without a spec: no cluster forms
  const GoldenRecordBuilder* golden;
  const ShardMap& shards;
  // Per record, 1: this shard owns it (overrides `shards`): on N shards
  // the universe also holds records that are only there as the first
  // occurrence of a home key repeated, their cluster owned elsewhere.
  const std::vector<uint8_t>* owned = nullptr;
  // The record-level validation of the entity: a member it would reject or
  // hold never survives (docs/dedup.md#clusters-and-validation). Null:
  // survivors are elected without it (no rules, or the test fault).
  EntityValidator* judge = nullptr;
  // Where the resolution's packed messages go as they are made
  // (packed_messages.h); null: held in memory.
  std::shared_ptr<PackedSpill> spill = nullptr;
  // Records held by name (docs/dedup.md#one-shards-memory): a record with
  // no values and packed_of[i] != PackedValues::kNone has them in `values`.
  // Cluster decodes a cluster's members while it picks the survivor and
  // builds the golden record, and lets go of them after; the members of
  // review items while it fills them; the output as it cuts each batch. A survivor's golden values
  // are packed again (appended). Null: every record is held whole.
  PackedValues* values = nullptr;
  std::vector<uint32_t>* packed_of = nullptr;
};

// Rejects repeated source keys, clusters the records over the merge and
// review `edges` (any order: the result depends only on the set), applies
// the guardrails, picks survivors and builds the golden records. On N
// shards (ResolveRouted) it runs over the shard's universe with `owned`
// set: fates, decisions, review items and output batches are those of the
// owned records (Resolution::in of them). An edge's detail is let go of
// once its decision is recorded.
Result<Resolution> Cluster(const ClusterInput& in, std::vector<MatchEdge>& edges,
                           const v1::BatchId& id_template, size_t batch_size);

// The decision on a steward's distinct pair, recorded by names: on N shards
// the other record may be held elsewhere.
v1::MatchDecision DistinctDecision(const MatchEdge& edge, const SourceKey& a, const SourceKey& b);

// The clusters of the merge and review edges of every shard, by record
// names, as every shard computes them in round 4 (docs/dedup.md#scale-out):
// a cluster belongs to the home shard of its first member in (source, key)
// order.
class NamedClusters {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  explicit NamedClusters(const std::vector<NamedEdge>& edges);
  // The name's index, or kNone when no merge or review edge names it.
  uint32_t Find(const SourceKey& name) const;
  const SourceKey& name(uint32_t i) const { return names_[i]; }
  // The root of the cluster of name i, its first member, its members.
  uint32_t root(uint32_t i) const { return root_[i]; }
  const SourceKey& First(uint32_t i) const { return names_[first_[root_[i]]]; }
  const std::vector<uint32_t>& Members(uint32_t i) const { return members_[root_[i]]; }
  uint32_t Owner(uint32_t i, const ShardMap& shards) const {
    const SourceKey& f = First(i);
    return shards.HomeOf(f.source, f.key);
  }
  size_t size() const { return names_.size(); }

 private:
  // (KeyHash(source, key), name index), ascending: looked up for every
  // record a shard holds in round 4, most of which no edge names, so a
  // lookup compares hashes and reads a name only on a hash match.
  std::vector<std::pair<uint64_t, uint32_t>> index_;
  std::vector<SourceKey> names_;
  std::vector<uint32_t> root_, first_;
  std::vector<std::vector<uint32_t>> members_;  // by root
};

// Round 4 takes every shard's edges as they came, the links the guardrails
// cut included: they are cut once (WithoutCutLinks, guardrails.h, with
// `on_conflict: review` holding instead of cutting), and ResolveRouted
// records the cuts by name as one shard does.
//
// Every shard's edges as round 4 takes them: the steward pairs that stand
// (KeepStewardEdges), the links the guardrails cut still in.
Result<std::vector<NamedEdge>> RoundFourEdges(const ShardMap& shards, const v1::DedupEdges& all);

// What every step of round 4 (the members to serve, every shard's output
// count, the resolve) derives from every shard's edges, computed once per
// resolution (each step used to parse, cut and cluster every edge again:
// O(E) per shard, three times over).
struct RoundFour {
  std::vector<NamedEdge> edges;           // RoundFourEdges
  ChainCuts cuts;                         // per edge of `edges` (none cut with on_conflict: review)
  std::vector<NamedEdge> kept;            // `edges` without the cut links: what Cluster() joins
  std::optional<NamedClusters> clusters;  // of `kept`
  bool review_on_conflict = false;
};
Result<std::shared_ptr<const RoundFour>> PrepareRoundFour(const ShardMap& shards,
                                                          const v1::DedupEdges& all,
                                                          bool review_on_conflict);

// Round 4, what a shard serves (DedupShard::MembersFor): for each other
// shard t, the first occurrence of each of its home `records` (canonical
// order) in a cluster t owns.
std::map<uint32_t, RecordBatch> MembersToServe(const std::vector<Record>& records,
                                               const Schema& schema, const ShardMap& shards,
                                               const RoundFour& four);

// Round 4 of a multi-shard resolve on one shard: the universe it clusters
// (its home records but the first occurrences in clusters owned elsewhere,
// which stay only to reject their repeats, and every member of the clusters
// it owns, fetched from their home shards when it does not hold them), then
// Cluster over it. `records` and `origins` are the shard's canonical
// records, moved from.
struct RoutedInput {
  const std::string& entity;
  const DedupSpec* spec;
  const Schema& schema;
  std::vector<Record>& records;
  const std::vector<Origin>& origins;
  const std::vector<IngestedBatch>& batches;
  const SurvivorshipRule* survivorship;
  const GoldenRecordBuilder* golden;
  const ShardMap& shards;
  EntityValidator* judge = nullptr;              // as in ClusterInput
  std::shared_ptr<PackedSpill> spill = nullptr;  // as in ClusterInput
};
// `four` is let go of before clustering (the caller keeps no other
// reference): every shard's edges are much larger than the shard's own
// clusters'.
Result<Resolution> ResolveRouted(const RoutedInput& in, std::shared_ptr<const RoundFour> four,
                                 const DedupShard::MemberFetch& fetch,
                                 const v1::BatchId& id_template, size_t batch_size);

// Round 4: how many records every shard outputs, by shard, computed alike
// on every shard from every shard's round-1 summary (`blocks`, one per
// shard) and the clusters of every edge: a shard's distinct home keys
// (records less repeats), less those in a cluster, plus one survivor per
// cluster it owns that is not held for review (the guardrails of Cluster()).
// Fails with Internal when `blocks` does not hold each shard once or the
// counts do not add up.
Result<std::vector<uint64_t>> StreamOutputs(const ShardMap& shards, const DedupSpec* spec,
                                            const std::vector<v1::DedupBlocks>& blocks,
                                            const RoundFour& four);

}  // namespace sluice::dedup_internal
