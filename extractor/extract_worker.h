// The extractor stage: reads sources under leases from the coordinator and
// cuts them into deterministic batches.
#pragma once

#include <memory>
#include <optional>
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
  // A source being read, with the pin it must still match (source_pin.h):
  // the lease's, or taken before this extractor's first read of it.
  struct Opened {
    const SourceSpec* spec = nullptr;
    std::unique_ptr<Source> source;
    std::optional<v1::SourcePin> pin;
  };
  struct Stream {
    v1::Lease lease;
    Opened opened;
    uint64_t next_sequence = 0;
  };
  Result<Opened> Open(const v1::Lease& lease);
  // Reads one batch; false when the source is exhausted. Nothing is passed
  // on when the source no longer matches its pin (Corruption naming it).
  Result<bool> ExtractOne(Opened& opened, const v1::BatchId& id, uint64_t epoch, StageEmitter& out);
  // Corruption naming the source when it no longer matches its pin.
  static Status CheckPin(const Opened& opened, const std::string& what);

  WorkerContext ctx_;
  std::vector<Stream> streams_;
  size_t next_stream_ = 0;  // round-robin over streams_
};

}  // namespace sluice
