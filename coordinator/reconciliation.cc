// The wave's reconciliation over the wire (issue 22): the reconciler asks
// for the wave's source side as it has room (reconcile_feed.h) and answers
// with its verdict and report; the coordinator checks the verdict against
// what it sent and writes the report into its own state directory.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "coordinator/coordinator.h"
#include "coordinator/failures_json.h"
#include "coordinator/reconcile_feed.h"

namespace sluice::coordination {

void Coordinator::StartReconcileFeed() {
  const int wave = waves_.wave();
  reconcile_feed_ = std::make_unique<ReconcileFeed>(audit_.get(), summary_.run_id, wave,
                                                    plan_.waves[wave].entities, reconcile_epoch_);
  // An earlier lease's differences go: this one's are recorded afresh.
  if (Status st = audit_->ClearDifferences(summary_.run_id, wave); !st.ok()) {
    Halt("cannot clear the reconciliation differences of wave " + waves_.spec().name + ": " +
         st.message());
  }
}

Status Coordinator::OnReconcileDifferences(const v1::ReconcileDifferences& d) {
  if (!waves_.reconciling() || static_cast<int>(d.wave()) != waves_.wave()) return Status::Ok();
  if (Status st = audit_->RecordDifferences(summary_.run_id, d); !st.ok()) {
    Halt("cannot store the reconciliation differences of wave " + waves_.spec().name + ": " +
         st.message());
  }
  return Status::Ok();
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
  report["errors_by_rule"] = FailuresByRuleJson(*audit_, run_id, wave);
  const auto dir = std::filesystem::path(plan_.state_dir) / "reports" / run_id;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto path = dir / ("wave-" + std::to_string(wave) + ".json");
  std::ofstream out(path);
  out << report.dump(2) << "\n";
  if (!out) LogError(log_, "cannot write the reconciliation report " + path.string());
  return path.string();
}

Status Coordinator::CheckDifferencesStored(const v1::ReconcileResult& r) {
  // Issue 17: every difference it counted arrived and was stored.
  uint64_t claimed = 0;
  for (const auto& e : r.entities()) claimed += e.differences();
  SLUICE_ASSIGN_OR_RETURN(uint64_t stored,
                          audit_->CountDifferences(summary_.run_id, static_cast<int>(r.wave())));
  if (stored == claimed) return Status::Ok();
  return Status::FailedPrecondition("it counted " + std::to_string(claimed) + " differences, " +
                                    std::to_string(stored) + " arrived");
}

Status Coordinator::OnReconcileResult(const std::string& from, v1::ReconcileResult&& r) {
  if (!waves_.reconciling() || static_cast<int>(r.wave()) != waves_.wave()) return Status::Ok();
  r.set_report_path(WriteReconcileReport(r));
  Status adds_up = reconcile_feed_ ? CheckReconcileClaims(*reconcile_feed_, r)
                                   : Status::FailedPrecondition("no reconciliation input was sent");
  if (adds_up.ok()) adds_up = CheckDifferencesStored(r);
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
