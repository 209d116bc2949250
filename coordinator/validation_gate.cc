// The validation halt thresholds of issue 6 (docs/validation.md#halt): an
// entity with `validation.<entity>.halt` loads nothing in a wave until every
// output batch is validated and the wave's reject and review rates are under
// the thresholds. The validators hold the batches they pass on until the
// coordinator releases them (ValidationRelease).
#include <cstdio>

#include "coordinator/coordinator.h"

namespace sluice::coordination {
namespace {

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", fraction * 100);
  return buf;
}

}  // namespace

Status Coordinator::CheckValidationGate(EntityRun& run) {
  const std::string& entity = run.entity;
  auto halt = plan_.validation_halts.find(entity);
  if (halt == plan_.validation_halts.end() || !halt->second.any()) return Status::Ok();
  if (run.validation_released) return Status::Ok();
  if (!waves_.OutputsAt(run, Stage::kValidate, ledger_)) return Status::Ok();  // not yet complete
  std::vector<std::string> all = waves_.OutputBatches(run);
  for (std::string& name : waves_.IngestBatches(run)) all.push_back(std::move(name));
  // Everything is decided but the load: rejections at every stage so far,
  // and records held for review, over what was extracted.
  uint64_t extracted = 0, rejected = 0, review = 0;
  for (const auto& [source, t] : ledger_.Totals(all, {BatchName(run.resolution_id)})) {
    extracted += t.extracted;
    rejected += t.fates.rejected;
    review += t.fates.review;
  }
  const ValidationHalt& h = halt->second;
  std::string over;
  auto check = [&](const char* what, uint64_t n, const std::optional<double>& limit,
                   const char* key) {
    if (!limit || extracted == 0) return;
    double rate = static_cast<double>(n) / static_cast<double>(extracted);
    if (rate <= *limit) return;
    over += std::string(over.empty() ? "" : "; ") + what + " rate " + Percent(rate) + " (" +
            std::to_string(n) + " of " + std::to_string(extracted) + ") is above " + h.yaml_path +
            "." + key + " " + Percent(*limit);
  };
  check("reject", rejected, h.reject_rate, "reject_rate");
  check("review", review, h.review_rate, "review_rate");
  if (!over.empty()) {
    std::string rules;
    auto counts = audit_->ErrorCounts(summary_.run_id);
    if (counts.ok()) {
      for (const auto& c : *counts) {
        if (c.entity != entity || c.kind == "warning") continue;
        rules += (rules.empty() ? "" : ", ") + c.rule + " " + std::to_string(c.count);
      }
    }
    Halt("wave " + waves_.spec().name + ", entity " + entity + ": " + over + "; nothing of " +
         entity + " was loaded in this wave" +
         (rules.empty()
              ? ""
              : " (failures by rule: " + rules + "; see `sluice errors " + summary_.run_id + "`)"));
    return Status::Ok();
  }
  run.validation_released = true;
  LogInfo(EntityLog(entity), "validation of " + entity + " complete and under its thresholds (" +
                                 std::to_string(rejected) + " rejected, " + std::to_string(review) +
                                 " held of " + std::to_string(extracted) +
                                 "): releasing it to the loader");
  v1::Envelope env;
  auto* r = env.mutable_validation_release();
  r->set_run_id(summary_.run_id);
  r->set_wave(static_cast<uint32_t>(waves_.wave()));
  r->set_entity(entity);
  for (const std::string& id : roster_.Alive("validator")) {
    SLUICE_RETURN_IF_ERROR(SendToWorker(id, env).status());
  }
  last_progress_ = Now();
  return Status::Ok();
}

void Coordinator::OnValidateCommit(const std::string& from, const EntityRun& run) {
  if (!run.validation_released) return;
  v1::Envelope env;
  auto* r = env.mutable_validation_release();
  r->set_run_id(summary_.run_id);
  r->set_wave(static_cast<uint32_t>(waves_.wave()));
  r->set_entity(run.entity);
  Status st = control_->Send(from, env);
  if (!st.ok())
    LogWarn(log_, "cannot release " + run.entity + " to " + from + ": " + st.ToString());
}

}  // namespace sluice::coordination
