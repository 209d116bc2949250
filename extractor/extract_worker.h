// The extractor stage: reads sources under leases from the coordinator and
// cuts them into deterministic batches.
#pragma once

#include <memory>
#include <string>

#include "common/connectors/connector.h"
#include "common/core/stage.h"
#include "common/runtime/worker.h"

namespace sluice {

class ExtractLogic : public StageLogic {
 public:
  std::string stage() const override { return std::string(StageName(Stage::kExtract)); }
  bool consumes() const override { return false; }
  Status Start(const WorkerContext& ctx) override;
  // EXTRACT_SOURCE starts streaming a source from the lease's offset;
  // EXTRACT_BATCH reads one batch again, byte-identically.
  Status OnLease(const v1::Lease& lease, StageEmitter& out) override;
  Result<bool> Produce(StageEmitter& out) override;
  void OnHalt(const std::string& reason) override { streams_.clear(); }

 private:
  struct Stream {
    v1::Lease lease;
    std::unique_ptr<Source> source;
    uint64_t next_sequence = 0;
  };
  Result<std::unique_ptr<Source>> Open(const v1::BatchId& id);
  // Reads one batch from `source`; false when the source is exhausted.
  Result<bool> ExtractOne(Source& source, const v1::BatchId& id, uint64_t epoch, StageEmitter& out);

  WorkerContext ctx_;
  std::vector<Stream> streams_;
  size_t next_stream_ = 0;  // round-robin over streams_
};

}  // namespace sluice
