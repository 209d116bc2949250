// The validator stage: checks canonical records against the plan's rules.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/worker.h"
#include "validator/validate.h"

namespace sluice {

class ValidateLogic : public StageLogic {
 public:
  std::string stage() const override { return "validate"; }
  Status Start(const WorkerContext& ctx) override;
  Status OnBatch(RecordBatch batch, StageEmitter& out) override;

 private:
  WorkerContext ctx_;
  std::map<std::string, std::unique_ptr<EntityValidator>> validators_;
};

}  // namespace sluice
