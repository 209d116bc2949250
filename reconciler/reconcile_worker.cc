#include "reconciler/reconcile_worker.h"

namespace sluice {
namespace {

v1::Envelope InputRequest(int wave, uint64_t epoch, uint32_t credits) {
  v1::Envelope env;
  auto* r = env.mutable_reconcile_input_request();
  r->set_wave(static_cast<uint32_t>(wave));
  r->set_epoch(epoch);
  r->set_credits(credits);
  return env;
}

// One entity's line of the result's summary.
std::string SummaryOf(const EntityReconciliation& r) {
  std::string summary = r.entity + ": " + (r.passed ? "PASS" : "FAIL") + " (" +
                        std::to_string(r.matched_rows) + "/" + std::to_string(r.expected_rows) +
                        " rows matched, " + std::to_string(r.difference_count) + " differences";
  for (const auto& [failure, n] : r.difference_counts) {
    summary += ", " + std::to_string(n) + " " + failure;
  }
  uint64_t segments = 0;
  for (const SegmentRow& s : r.segments) segments += s.differs() ? 1 : 0;
  if (segments > 0) summary += ", " + std::to_string(segments) + " segments differ";
  if (r.ri.checked) {
    summary += ", ri_check " + r.ri.Verdict() + ": " + std::to_string(r.ri.unresolved) +
               " unresolved of " + std::to_string(r.ri.references) + " references";
  }
  if (r.survivors.checked) {
    summary += ", survivor_check " + r.survivors.Verdict() + ": " +
               std::to_string(r.survivors.unresolved) + " of " +
               std::to_string(r.survivors.merged) + " merged reach no loaded row";
    for (const auto& [source, c] : r.survivors.by_source) {
      summary +=
          " (" + source + " " + std::to_string(c.unresolved) + "/" + std::to_string(c.merged) + ")";
    }
    if (!r.survivors.examples.empty()) summary += ", e.g. " + r.survivors.examples.front();
  }
  return summary + ")";
}

}  // namespace

Status ReconcileLogic::Start(const WorkerContext& ctx) {
  ctx_ = ctx;
  return Status::Ok();
}

Status ReconcileLogic::OnLease(const v1::Lease& lease, StageEmitter& out) {
  if (lease.kind() != v1::Lease::KIND_RECONCILE) {
    return Status::InvalidArgument("reconciler cannot take this lease");
  }
  const int wave = static_cast<int>(lease.batch().wave());
  if (wave < 0 || wave >= static_cast<int>(ctx_.plan.waves.size())) {
    return Status::InvalidArgument("no wave " + std::to_string(wave));
  }
  wave_.reset();  // a new lease replaces what an earlier one left
  SLUICE_ASSIGN_OR_RETURN(auto target, OpenTarget(ctx_.plan.target));
  wave_.emplace();
  wave_->run_id = lease.batch().run_id();
  wave_->wave = wave;
  wave_->epoch = lease.epoch();
  wave_->target = std::move(target);
  out.Send(InputRequest(wave, lease.epoch(), kReconcileInputCredits));
  return Status::Ok();
}

Status ReconcileLogic::OnControl(const v1::Envelope& message, StageEmitter& out) {
  if (!message.has_reconcile_input()) return Status::Ok();
  const v1::ReconcileInput& chunk = message.reconcile_input();
  // A chunk of an earlier lease, sent before the coordinator leased again.
  if (!wave_ || chunk.epoch() != wave_->epoch || chunk.wave() != uint32_t(wave_->wave)) {
    return Status::Ok();
  }
  Status st = OnInput(chunk, out);
  if (!st.ok()) wave_.reset();
  return st;
}

Status ReconcileLogic::OnInput(const v1::ReconcileInput& chunk, StageEmitter& out) {
  WaveInProgress& w = *wave_;
  if (chunk.sequence() != w.next_sequence) {
    return Status::Corruption("reconciliation input chunk " + std::to_string(chunk.sequence()) +
                              " arrived where " + std::to_string(w.next_sequence) + " was due");
  }
  ++w.next_sequence;
  const std::vector<std::string>& entities = ctx_.plan.waves[w.wave].entities;
  if (!chunk.entity().empty()) {
    if (!w.input) {
      // The coordinator sends the wave's entities in the plan's order.
      if (w.next_entity >= entities.size() || entities[w.next_entity] != chunk.entity()) {
        return Status::Corruption(
            "reconciliation input for " + chunk.entity() + " where " +
            (w.next_entity < entities.size() ? entities[w.next_entity] : std::string("none")) +
            " was due");
      }
      // Fates beyond the budget go to sorted runs in the reconciler's own
      // state directory (issue 20 item 3).
      SortedFates::Options spill;
      if (!ctx_.state_dir.empty()) spill.spill_dir = ctx_.state_dir + "/reconcile";
      w.input.emplace(w.run_id, w.wave, chunk.entity(), spill);
    }
    SLUICE_RETURN_IF_ERROR(w.input->Add(chunk));
    if (chunk.entity_done()) SLUICE_RETURN_IF_ERROR(ReconcileArrived(out));
  }
  if (!chunk.wave_done()) {
    out.Send(InputRequest(w.wave, w.epoch, 1));  // room for one more
    return Status::Ok();
  }
  if (w.input || w.next_entity != entities.size()) {
    return Status::Corruption("the reconciliation input ended after " +
                              std::to_string(w.next_entity) + " of " +
                              std::to_string(entities.size()) + " entities");
  }
  SendResult(out);
  wave_.reset();
  return Status::Ok();
}

Status ReconcileLogic::ReconcileArrived(StageEmitter& out) {
  WaveInProgress& w = *wave_;
  const std::string name = ctx_.plan.waves[w.wave].entities[w.next_entity];
  const Entity* entity = ctx_.plan.model.Find(name);
  if (entity == nullptr) return Status::NotFound("entity " + name);
  v1::ReconciledEntity* received = w.result.add_entities();
  received->set_entity(name);
  received->set_fates(w.input->fates());
  received->set_fates_checksum(w.input->fates_checksum());
  SLUICE_ASSIGN_OR_RETURN(ReconcileInputBuilder::Finished finished, w.input->Finish());
  ReconcileInput& input = finished.input;
  input.segment_fields = SegmentFields(ctx_.plan, *entity);
  w.input.reset();
  ++w.next_entity;
  SLUICE_RETURN_IF_ERROR(w.target->Prepare(*entity));
  // Every difference goes to the coordinator, which stores them all.
  v1::Envelope batch;
  auto flush = [&] {
    v1::ReconcileDifferences* d = batch.mutable_reconcile_differences();
    if (d->differences_size() == 0) return;
    d->set_wave(static_cast<uint32_t>(w.wave));
    d->set_epoch(w.epoch);
    out.Send(std::move(batch));
    batch.Clear();
  };
  DifferenceLog log([&](const FieldDifference& f) {
    v1::ReconcileDifference* d = batch.mutable_reconcile_differences()->add_differences();
    d->set_entity(name);
    d->set_source(f.source);
    d->set_key(f.key);
    d->set_failure(f.failure);
    d->set_field(f.field);
    d->set_expected(f.expected);
    d->set_actual(f.actual);
    if (batch.reconcile_differences().differences_size() >= kDifferencesPerMessage) flush();
  });
  SurvivorCheck survivors;
  SLUICE_ASSIGN_OR_RETURN(
      EntityReconciliation r,
      ReconcileSorted(*entity, input, finished.fates.get(), w.target.get(), &log, &survivors));
  finished.fates.reset();  // its runs are gone with it
  r.survivors = std::move(survivors);
  SLUICE_ASSIGN_OR_RETURN(r.ri, CheckReferences(ctx_.plan.model, *entity, w.target.get(), &log));
  flush();
  TakeDifferences(log, &r);
  r.passed = r.passed && r.ri.passed() && r.survivors.passed();
  received->set_expected_rows(r.expected_rows);
  received->set_matched_rows(r.matched_rows);
  received->set_differences(r.difference_count);
  received->set_passed(r.passed);
  v1::ReconcileResult& res = w.result;
  res.set_summary(res.summary() + (res.summary().empty() ? "" : "; ") + SummaryOf(r));
  for (const auto& [source, c] : r.survivors.by_source) {
    v1::SurvivorCheck* sc = res.add_survivor_checks();
    sc->set_entity(name);
    sc->set_source(source);
    sc->set_merged(c.merged);
    sc->set_unresolved(c.unresolved);
    sc->set_verdict(c.unresolved == 0 ? "PASS" : "FAIL");
  }
  v1::ReferenceCheck* check = res.add_reference_checks();
  check->set_entity(name);
  check->set_verdict(r.ri.Verdict());
  check->set_unresolved(r.ri.unresolved);
  w.results.push_back(std::move(r));
  return Status::Ok();
}

void ReconcileLogic::SendResult(StageEmitter& out) {
  WaveInProgress& w = *wave_;
  bool passed = true;
  for (const auto& r : w.results) passed = passed && r.passed;
  v1::Envelope env;
  v1::ReconcileResult* res = env.mutable_reconcile_result();
  *res = std::move(w.result);
  res->set_wave(static_cast<uint32_t>(w.wave));
  res->set_epoch(w.epoch);
  res->set_passed(passed);
  // The coordinator writes it into its state directory (with the wave's
  // failures by rule) and names the file.
  res->set_report_json(ReconciliationJson(w.run_id, w.wave, w.results));
  out.Send(std::move(env));
}

}  // namespace sluice
