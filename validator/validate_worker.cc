#include "validator/validate_worker.h"

#include <filesystem>

namespace sluice {

Status ValidateLogic::Start(const WorkerContext& ctx) {
  ctx_ = ctx;
  return Status::Ok();
}

Status ValidateLogic::OnBatch(RecordBatch batch, StageEmitter& out) {
  const std::string& entity = batch.id.entity();
  auto it = validators_.find(entity);
  if (it == validators_.end()) {
    ValidatorOptions options;
    options.today = RunDay(ctx_.run_id);
    options.decisions = &ctx_.review_decisions;
    // Shared by the validators of this machine; per run.
    options.unique_index_path =
        (std::filesystem::path(ctx_.state_dir.empty() ? "." : ctx_.state_dir) / "validator" /
         ("unique-" + ctx_.run_id + ".db"))
            .string();
    SLUICE_ASSIGN_OR_RETURN(auto v, EntityValidator::Create(ctx_.plan, entity, options));
    it = validators_.emplace(entity, std::move(v)).first;
  }
  RecordBatch& valid = valid_;
  std::vector<v1::Fate> fates;
  std::vector<v1::ReviewItem> items;
  SLUICE_RETURN_IF_ERROR(it->second->Apply(batch, &valid, &fates, &items));
  v1::Commit commit = MakeCommit(stage(), batch, valid.records, fates);
  for (auto& item : items) *commit.add_review_items() = std::move(item);
  out.Commit(std::move(commit));
  auto halt = ctx_.plan.validation_halts.find(entity);
  const std::string gate = GateKey(batch.id.wave(), entity);
  if (halt != ctx_.plan.validation_halts.end() && halt->second.any() && !released_.count(gate)) {
    auto& slot = held_[gate][BatchName(batch.id)];
    if (slot.first <= valid.epoch) slot = {valid.epoch, std::move(valid)};
    return Status::Ok();
  }
  out.Emit(0, valid);
  return Status::Ok();
}

Status ValidateLogic::OnControl(const v1::Envelope& message, StageEmitter& out) {
  if (!message.has_validation_release()) return Status::Ok();
  const auto& r = message.validation_release();
  if (r.run_id() != ctx_.run_id) return Status::Ok();
  const std::string gate = GateKey(r.wave(), r.entity());
  released_.insert(gate);
  auto it = held_.find(gate);
  if (it == held_.end()) return Status::Ok();
  for (auto& [name, held] : it->second) releasing_.push_back(std::move(held.second));
  held_.erase(it);
  return Status::Ok();
}

Result<bool> ValidateLogic::Produce(StageEmitter& out) {
  if (releasing_.empty()) return false;
  out.Emit(0, releasing_.front());
  releasing_.pop_front();
  return !releasing_.empty();
}

void ValidateLogic::OnHalt(const std::string& reason) {
  held_.clear();
  releasing_.clear();
}

}  // namespace sluice
