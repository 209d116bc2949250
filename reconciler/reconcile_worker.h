// The reconciler stage: on the coordinator's RECONCILE lease, re-derives the
// wave's accounting from the audit store and compares it with the target.
#pragma once

#include <memory>
#include <string>

#include "common/audit/audit_store.h"
#include "common/connectors/connector.h"
#include "common/core/stage.h"
#include "common/runtime/worker.h"
#include "reconciler/reconcile.h"

namespace sluice {

// Reads the source side of one entity's reconciliation from the audit store.
Result<ReconcileInput> ReadReconcileInput(AuditStore& audit, const std::string& run_id, int wave,
                                          const std::string& entity);

class ReconcileLogic : public StageLogic {
 public:
  std::string stage() const override { return std::string(StageName(Stage::kReconcile)); }
  bool consumes() const override { return false; }
  bool produces() const override { return false; }
  Status Start(const WorkerContext& ctx) override;
  Status OnLease(const v1::Lease& lease, StageEmitter& out) override;

 private:
  WorkerContext ctx_;
};

}  // namespace sluice
