// The transformer stage: maps raw batches onto the canonical model.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/core/stage.h"
#include "common/runtime/worker.h"
#include "deduper/shard_route.h"
#include "transformer/transform.h"

namespace sluice {

class TransformLogic : public StageLogic {
 public:
  std::string stage() const override { return std::string(StageName(Stage::kTransform)); }
  Status Start(const WorkerContext& ctx) override;
  Status OnBatch(RecordBatch batch, StageEmitter& out) override;

  // On N > 1 dedup shards (docs/dedup.md#scale-out): `mapped` split into
  // one batch per shard, each holding the records that shard needs (its
  // home records and the members of the blocks it owns, so a record with
  // several blocking keys may go to several), with their positions in
  // `mapped`. Every shard gets a batch, empty or not: each commits its
  // ingest. The commit learns what went where, for the ledger.
  static std::vector<RecordBatch> Route(const ShardRouter& router, const RecordBatch& mapped,
                                        v1::Commit* commit);

 private:
  Result<const ShardRouter*> RouterFor(const std::string& entity, const Schema& schema);

  WorkerContext ctx_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<EntityTransformer>> mappers_;
  LineageWriter lineage_;                       // reused per batch
  std::map<std::string, ShardRouter> routers_;  // by entity
  // Reused per batch: Apply maps over its records, so their value strings
  // are not allocated and freed again for every batch.
  RecordBatch mapped_;
};

}  // namespace sluice
