// The transformer stage: maps raw batches onto the canonical model.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/worker.h"
#include "transformer/transform.h"

namespace sluice {

class TransformLogic : public StageLogic {
 public:
  std::string stage() const override { return "transform"; }
  Status Start(const WorkerContext& ctx) override;
  Status OnBatch(RecordBatch batch, StageEmitter& out) override;

 private:
  WorkerContext ctx_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<EntityTransformer>> mappers_;
  LineageWriter lineage_;  // reused per batch
};

}  // namespace sluice
