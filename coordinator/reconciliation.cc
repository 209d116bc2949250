// The wave's reconciliation over the wire (issue 22): the reconciler asks
// for the wave's source side as it has room (reconcile_feed.h) and answers
// with its verdict and report; the coordinator checks the verdict against
// what it sent and writes the report into its own state directory.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "coordinator/coordinator.h"
#include "coordinator/reconcile_feed.h"

namespace sluice::coordination {

void Coordinator::StartReconcileFeed() {
  const int wave = waves_.wave();
  reconcile_feed_ = std::make_unique<ReconcileFeed>(audit_.get(), summary_.run_id, wave,
                                                    plan_.waves[wave].entities, reconcile_epoch_);
}

Status Coordinator::OnReconcileInputRequest(const std::string& from,
                                            const v1::ReconcileInputRequest& request) {
  if (!reconcile_feed_ || request.epoch() != reconcile_feed_->epoch()) return Status::Ok();
  reconcile_feed_->Grant(request.credits());
  while (reconcile_feed_->CanSend()) {
    auto chunk = reconcile_feed_->Next();
    if (!chunk.ok()) {
      Halt("cannot read the reconciliation input of wave " + waves_.spec().name + ": " +
           chunk.status().message());
      return Status::Ok();
    }
    v1::Envelope env;
    *env.mutable_reconcile_input() = std::move(chunk).value();
    Status sent = control_->Send(from, env);
    if (sent.code() == StatusCode::kUnavailable) {
      // Gone mid-feed: its replacement gets a new lease and a new feed.
      LogWarn(log_, "worker " + from + " is unreachable: " + sent.message());
      return Status::Ok();
    }
    SLUICE_RETURN_IF_ERROR(sent);
  }
  return Status::Ok();
}

std::string Coordinator::WriteReconcileReport(const v1::ReconcileResult& r) {
  const std::string& run_id = summary_.run_id;
  const int wave = static_cast<int>(r.wave());
  nlohmann::json report =
      nlohmann::json::parse(r.report_json(), nullptr, /*allow_exceptions=*/false);
  if (!report.is_object()) report = {{"run_id", run_id}, {"wave", wave}, {"summary", r.summary()}};
  // Issue 6: the wave's failures grouped by rule, with examples.
  report["errors_by_rule"] = nlohmann::json::array();
  if (auto by_rule = audit_->FailuresByRule(run_id, wave, 3); by_rule.ok()) {
    for (const auto& f : *by_rule) {
      nlohmann::json examples = nlohmann::json::array();
      for (const auto& e : f.examples) {
        examples.push_back({{"source", e.source()},
                            {"key", e.key()},
                            {"field", e.field()},
                            {"value", e.value()},
                            {"reason", e.reason()},
                            {"suggestion", e.suggestion()}});
      }
      report["errors_by_rule"].push_back({{"entity", f.count.entity},
                                          {"rule", f.count.rule},
                                          {"kind", f.count.kind},
                                          {"count", f.count.count},
                                          {"examples", examples}});
    }
  }
  const auto dir = std::filesystem::path(plan_.state_dir) / "reports" / run_id;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto path = dir / ("wave-" + std::to_string(wave) + ".json");
  std::ofstream out(path);
  out << report.dump(2) << "\n";
  if (!out) LogError(log_, "cannot write the reconciliation report " + path.string());
  return path.string();
}

Status Coordinator::OnReconcileResult(const std::string& from, v1::ReconcileResult&& r) {
  if (!waves_.reconciling() || static_cast<int>(r.wave()) != waves_.wave()) return Status::Ok();
  r.set_report_path(WriteReconcileReport(r));
  Status adds_up = reconcile_feed_ ? CheckReconcileClaims(*reconcile_feed_, r)
                                   : Status::FailedPrecondition("no reconciliation input was sent");
  if (!adds_up.ok()) {
    // A reconciler whose numbers do not match what it was sent, or a pass
    // its own numbers deny, is not believed: the wave is not reconciled.
    Halt("the reconciliation result of " + from + " for wave " + waves_.spec().name +
         " does not add up: " + adds_up.message() + "; see " + r.report_path());
    return Status::Ok();
  }
  return OnReconciled(r);
}

}  // namespace sluice::coordination
