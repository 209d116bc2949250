// The deduper stage, one shard: ingests batches into a durable shard log,
// then, on the coordinator's RESOLVE lease, decides and emits survivors.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/worker.h"
#include "deduper/dedup.h"

namespace sluice {

class DedupLogic : public StageLogic {
 public:
  std::string stage() const override { return "dedup"; }
  Status Start(const WorkerContext& ctx) override;
  Status OnBatch(RecordBatch batch, StageEmitter& out) override;
  Status OnLease(const v1::Lease& lease, StageEmitter& out) override;

 private:
  Result<DedupShard*> ShardFor(const v1::BatchId& id);
  Status EmitResolution(const v1::Lease& lease, const Resolution& res, StageEmitter& out,
                        std::optional<uint64_t> only_sequence);

  WorkerContext ctx_;
  std::map<std::string, std::unique_ptr<DedupShard>> shards_;  // by wave/entity
  std::map<std::string, Resolution> resolved_;                 // kept for RESEND
};

}  // namespace sluice
