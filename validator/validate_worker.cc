#include "validator/validate_worker.h"

namespace sluice {

Status ValidateLogic::Start(const WorkerContext& ctx) {
  ctx_ = ctx;
  return Status::Ok();
}

Status ValidateLogic::OnBatch(RecordBatch batch, StageEmitter& out) {
  auto it = validators_.find(batch.id.entity());
  if (it == validators_.end()) {
    SLUICE_ASSIGN_OR_RETURN(auto v, EntityValidator::Create(ctx_.plan, batch.id.entity()));
    it = validators_.emplace(batch.id.entity(), std::move(v)).first;
  }
  RecordBatch valid;
  std::vector<v1::Fate> fates;
  it->second->Apply(batch, &valid, &fates);
  out.Commit(MakeCommit(stage(), batch, valid.records, fates));
  out.Emit(0, valid);
  return Status::Ok();
}

}  // namespace sluice
