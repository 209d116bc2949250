// The deduper stage, one shard: ingests batches into a durable shard log,
// then, on the coordinator's RESOLVE lease, decides and emits survivors.
#pragma once

#include <deque>
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
  Result<bool> Produce(StageEmitter& out) override;

 private:
  Result<DedupShard*> ShardFor(const v1::BatchId& id);
  // Queues output batches of a resolution for Produce.
  void Schedule(const std::string& name, uint64_t epoch, std::optional<uint64_t> only_sequence);
  struct Pending {
    std::string resolution;
    size_t index;
    uint64_t epoch;
  };
  std::deque<Pending> to_emit_;

  WorkerContext ctx_;
  std::map<std::string, std::unique_ptr<DedupShard>> shards_;  // by wave/entity
  std::map<std::string, Resolution> resolved_;                 // kept for RESEND
};

}  // namespace sluice
