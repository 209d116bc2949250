// The reconciler stage: on the coordinator's RECONCILE lease, asks the
// coordinator for the wave's source side (ledger rows, fates, decimal sums:
// issue 22, it reads no audit.db), re-derives the accounting from it entity
// by entity and compares it with the target.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/connectors/connector.h"
#include "common/core/stage.h"
#include "common/runtime/worker.h"
#include "reconciler/reconcile.h"
#include "reconciler/reconcile_input.h"

namespace sluice {

// ReconcileInput chunks the reconciler asks for ahead (the same credit flow
// as data: the coordinator sends at most that many unread).
inline constexpr uint32_t kReconcileInputCredits = 4;
// Differences per v1::ReconcileDifferences message sent to the coordinator.
inline constexpr int kDifferencesPerMessage = 2048;

class ReconcileLogic : public StageLogic {
 public:
  std::string stage() const override { return std::string(StageName(Stage::kReconcile)); }
  bool consumes() const override { return false; }
  bool produces() const override { return false; }
  Status Start(const WorkerContext& ctx) override;
  // Starts the wave's reconciliation: asks for its input.
  Status OnLease(const v1::Lease& lease, StageEmitter& out) override;
  // One chunk of the input (v1::ReconcileInput): an entity is reconciled
  // once its last chunk is in, the result sent after the wave's last.
  Status OnControl(const v1::Envelope& message, StageEmitter& out) override;

 private:
  // The wave being reconciled (one lease at a time; a new lease replaces it).
  struct WaveInProgress {
    std::string run_id;
    int wave = 0;
    uint64_t epoch = 0;
    uint64_t next_sequence = 0;  // of the next chunk
    size_t next_entity = 0;      // in the plan's wave
    std::unique_ptr<Target> target;
    std::optional<ReconcileInputBuilder> input;  // of the entity arriving
    std::vector<EntityReconciliation> results;
    v1::ReconcileResult result;
  };
  Status OnInput(const v1::ReconcileInput& chunk, StageEmitter& out);
  // Reconciles the entity whose input is complete; sends every difference
  // found (issue 17) in v1::ReconcileDifferences messages.
  Status ReconcileArrived(StageEmitter& out);
  // Sends the wave's verdict and report.
  void SendResult(StageEmitter& out);

  WorkerContext ctx_;
  std::optional<WaveInProgress> wave_;
};

}  // namespace sluice
