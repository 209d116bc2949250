// Internal to the deduper: what the shard (dedup.cc) hands to clustering
// and survivor assembly (dedup_cluster.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/plan.h"
#include "common/record.h"
#include "deduper/dedup.h"
#include "deduper/shard_map.h"
#include "deduper/survivorship.h"

namespace sluice::dedup_internal {

// Where a record arrived from. Orders two occurrences of one (source, key)
// independently of arrival: by batch stream and sequence, then position.
struct Origin {
  uint32_t batch = 0;
  uint32_t position = 0;
};

struct IngestedBatch {
  v1::BatchId id;
  std::string name;
};

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
};

// Rejects repeated source keys, clusters the records over the merge and
// review `edges` (any order: the result depends only on the set), applies
// the guardrails, picks survivors and builds the golden records. On N
// shards every shard runs it over the same records and edges and keeps
// what it owns: a cluster belongs to the home shard of its first member, a
// rejected repeat to its own home shard; fates, decisions, review items and
// output batches are those of the owned records (Resolution::in of them).
Result<Resolution> Cluster(const ClusterInput& in, const std::vector<MatchEdge>& edges,
                           const v1::BatchId& id_template, size_t batch_size);

}  // namespace sluice::dedup_internal
