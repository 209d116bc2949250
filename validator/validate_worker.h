// The validator stage: checks canonical records against the plan's rules.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/core/stage.h"
#include "common/runtime/worker.h"
#include "validator/validate.h"

namespace sluice {

// For an entity with halt thresholds (validation.<entity>.halt), the batches
// passed on are held back until the coordinator, having seen every batch of
// the entity in the wave validated and under the thresholds, sends a
// ValidationRelease; so a wave over a threshold halts with nothing loaded.
class ValidateLogic : public StageLogic {
 public:
  std::string stage() const override { return std::string(StageName(Stage::kValidate)); }
  Status Start(const WorkerContext& ctx) override;
  Status OnBatch(RecordBatch batch, StageEmitter& out) override;
  Status OnControl(const v1::Envelope& message, StageEmitter& out) override;
  Result<bool> Produce(StageEmitter& out) override;
  void OnHalt(const std::string& reason) override;

 private:
  // "wave/entity" of a batch or release.
  static std::string GateKey(uint32_t wave, const std::string& entity) {
    return std::to_string(wave) + "/" + entity;
  }

  WorkerContext ctx_;
  std::map<std::string, std::unique_ptr<EntityValidator>> validators_;
  std::set<std::string> released_;  // gates opened by the coordinator
  // Held output, per gate: batch name -> (epoch, encoded batch); a batch
  // held again under a later epoch replaces the earlier copy.
  std::map<std::string, std::map<std::string, std::pair<uint64_t, RecordBatch>>> held_;
  std::deque<RecordBatch> releasing_;  // released, to emit as output has room
  // Reused per batch: Apply assigns over its records, so their strings are
  // not allocated and freed again for every batch (a held batch moves out).
  RecordBatch valid_;
};

}  // namespace sluice
