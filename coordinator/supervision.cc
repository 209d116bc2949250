// Supervision (issue 15; docs/operations.md): the coordinator's liveness
// record in the audit store, the run's progress (for `sluice status`, `sluice
// run`'s display and the record), `sluice halt` from another process, workers
// that outlived a dead coordinator, and continuing a run whose coordinator
// died from what is durable.
#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <thread>

#include "common/audit/liveness.h"
#include "common/runtime/endpoint.h"
#include "common/runtime/test_fault.h"
#include "coordinator/coordinator.h"
#include "coordinator/entity_balance.h"

namespace sluice::coordination {
namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Epochs of a continued run start this far above the highest one its dead
// coordinator recorded: it may have leased more than it recorded, and none
// of those may pass for a lease of the new one.
constexpr uint64_t kEpochGap = 1'000'000;

}  // namespace

Status Coordinator::RecordRun() {
  started_ms_ = WallMs();
  if (auto fault = options_.faults.find("coordinator"); fault != options_.faults.end()) {
    SLUICE_ASSIGN_OR_RETURN(TestFaults faults, ParseTestFaults(fault->second));
    // The first coordinator only: the one that continues the run finishes it.
    if (options_.continue_run.empty()) {
      sigkill_at_ = faults.sigkill_at;
      stall_at_ = faults.stall_at;
    }
  }
  // Dedup shards' resolutions cut small (a test fault, the deduper's or its
  // own): the coordinator cuts their merged resolution as small.
  for (const char* role : {"deduper", "coordinator"}) {
    auto fault = options_.faults.find(role);
    if (fault == options_.faults.end()) continue;
    Result<TestFaults> faults = ParseTestFaults(fault->second);
    if (faults.ok() && faults->resolve_part_bytes)
      resolve_part_bytes_ = *faults->resolve_part_bytes;
  }
  progress_ = ProgressBook(dedup_shards_);
  for (size_t w = 0; w < plan_.waves.size(); ++w) {
    for (const std::string& entity : plan_.waves[w].entities) {
      progress_.AddEntity(static_cast<int>(w), entity);
      // A file source the coordinator can see: its size estimates the
      // entity's total while it is extracted.
      for (const Mapping* m : plan_.MappingsFor(entity)) {
        const SourceSpec* source = plan_.FindSource(m->source);
        if (source == nullptr || (source->kind != "csv" && source->kind != "jsonl")) continue;
        std::error_code ec;
        const auto bytes = std::filesystem::file_size(source->path, ec);
        if (!ec) progress_.SetSourceBytes(entity, m->source, bytes);
      }
    }
  }
  CoordinatorRecord me;
  me.run_id = summary_.run_id;
  me.host = LocalHostName();
  me.pid = static_cast<uint32_t>(getpid());
  me.pid_start = ProcessStartToken(me.pid);
  me.control_endpoint = control_->endpoint();
  me.started_ms = started_ms_;
  me.heartbeat_ms = started_ms_;
  if (!options_.continue_run.empty()) {
    // Take the run over: a higher generation fences the coordinator before
    // (should it still be alive somewhere, its next beat tells it to stop).
    SLUICE_ASSIGN_OR_RETURN(RunRecord run, audit_->Run(summary_.run_id));
    SLUICE_ASSIGN_OR_RETURN(auto before, audit_->CoordinatorOf(summary_.run_id));
    generation_ = me.generation = before ? before->generation + 1 : 2;
    summary_.generation = generation_;
    SLUICE_RETURN_IF_ERROR(audit_->RecordCoordinator(me));
    SLUICE_RETURN_IF_ERROR(audit_->ReopenRun(summary_.run_id));
    SLUICE_ASSIGN_OR_RETURN(uint64_t last_epoch, audit_->MaxEpoch(summary_.run_id));
    leases_ = LeaseBook(last_epoch + kEpochGap);
    // The waves it completed stay completed: their rows in the summary.
    for (int w = 0; w < options_.start_wave && w < static_cast<int>(plan_.waves.size()); ++w) {
      SLUICE_ASSIGN_OR_RETURN(auto rows, audit_->Ledger(summary_.run_id, w));
      KeepFinished(rows, /*reconciled=*/true);
      summary_.reconciliation.push_back("wave " + plan_.waves[w].name +
                                        ": PASS (reconciled before the coordinator was replaced)");
    }
    LogWarn(log_, "continuing run " + summary_.run_id + " (coordinator " +
                      std::to_string(generation_) + ") from wave " +
                      std::to_string(options_.start_wave) + "; its coordinator before was " +
                      (before ? DescribeCoordinator(*before, ThisMachine()) : "unrecorded"));
    return Status::Ok();
  }
  SLUICE_RETURN_IF_ERROR(audit_->RecordCoordinator(me));
  RunRecord rec;
  rec.run_id = summary_.run_id;
  rec.plan_name = plan_.name;
  rec.plan_path = plan_.path;
  rec.plan_hash = plan_.content_hash;
  rec.model_hash = plan_.model.content_hash;
  rec.environment = summary_.environment;
  rec.started_ms = started_ms_;
  rec.status = "running";
  SLUICE_RETURN_IF_ERROR(audit_->BeginRun(rec));
  if (!options_.resumed_from.empty()) {
    SLUICE_RETURN_IF_ERROR(
        audit_->RecordResume(summary_.run_id, options_.resumed_from, options_.start_wave));
    // The waves before the start reconciled in the run resumed: recorded as
    // completed here too, so that a resume of this run skips them as well.
    for (int w = 0; w < options_.start_wave && w < static_cast<int>(plan_.waves.size()); ++w) {
      SLUICE_RETURN_IF_ERROR(audit_->RecordWave(summary_.run_id, w, plan_.waves[w].name,
                                                "completed", "in " + options_.resumed_from));
      for (const std::string& entity : plan_.waves[w].entities) {
        progress_.SetPhase(entity, "finished");
      }
    }
  }
  return Status::Ok();
}

Status Coordinator::ResumeWave(int wave) {
  SLUICE_ASSIGN_OR_RETURN(auto rows, audit_->Ledger(summary_.run_id, wave));
  // An entity finished when its ledger rows were written and balance (an
  // unbalanced one halted the run, which was then not interrupted).
  std::map<std::string, std::vector<LedgerRow>> by_entity;
  for (LedgerRow& r : rows) by_entity[r.entity].push_back(std::move(r));
  for (const std::string& entity : plan_.waves[wave].entities) {
    auto it = by_entity.find(entity);
    bool finished = it != by_entity.end();
    if (finished) {
      for (const LedgerRow& r : it->second) {
        finished &= r.extracted == r.merged + r.rejected + r.review + r.loaded;
      }
    }
    if (!finished) {
      // Its batches are extracted, ingested (the shard logs keep one copy of
      // each), resolved and loaded again (the loader recognises what it
      // applied in this run) under new epochs: what the dead coordinator
      // recorded of them is forgotten first.
      SLUICE_RETURN_IF_ERROR(audit_->ForgetEntity(summary_.run_id, wave, entity));
      SLUICE_RETURN_IF_ERROR(audit_->ForgetDeltaBatches(summary_.run_id, wave, entity));
      SLUICE_ASSIGN_OR_RETURN(PopulationStore * population, Population());  // residents.cc
      SLUICE_RETURN_IF_ERROR(population->ForgetPopulation(summary_.run_id, wave, entity));
      continue;
    }
    KeepFinished(it->second, /*reconciled=*/false);
    waves_.MarkFinished(entity);
    LogInfo(EntityLog(entity), "entity " + entity + " finished before the coordinator was " +
                                   "replaced: not loaded again");
  }
  return Status::Ok();
}

void Coordinator::KeepFinished(const std::vector<LedgerRow>& rows, bool reconciled) {
  std::map<std::string, std::array<uint64_t, 5>> totals;  // entity -> extracted, loaded, ...
  for (const LedgerRow& r : rows) {
    EntitySourceSummary s = SummaryRowOf(r);
    s.reconciled = reconciled;
    summary_.rows.push_back(s);
    auto& t = totals[r.entity];
    const uint64_t v[5] = {r.extracted, r.loaded, r.merged, r.rejected, r.review};
    for (int i = 0; i < 5; ++i) t[i] += v[i];
  }
  for (const auto& [entity, t] : totals)
    progress_.SetFinished(entity, t[0], t[1], t[2], t[3], t[4]);
}

void Coordinator::Supervise(bool force) {
  if (!audit_) return;
  const auto now = Now();
  const bool beat = force || now - last_beat_ >= std::chrono::seconds(1);
  const bool callback =
      options_.on_progress && (force || now - last_callback_ >= options_.progress_every);
  if (!beat && !callback) return;
  const v1::RunProgress p = Snapshot();
  if (callback) {
    last_callback_ = now;
    options_.on_progress(p);
  }
  if (!beat || superseded_) return;
  last_beat_ = now;
  auto still_mine =
      audit_->BeatCoordinator(summary_.run_id, generation_, WallMs(), p.SerializeAsString());
  if (!still_mine.ok()) {
    LogWarn(log_, "cannot record the coordinator's heartbeat: " + still_mine.status().ToString());
  } else if (!*still_mine && !superseded_) {
    // Believed dead (a stall, a partition), the run was continued by
    // another coordinator: stop the workers and leave the run to it.
    superseded_ = true;
    halted_ = true;
    summary_.halt_reason = "another coordinator continued run " + summary_.run_id;
    LogError(log_, "SUPERSEDED: " + summary_.halt_reason + "; stopping");
  }
}

v1::RunProgress Coordinator::Snapshot() {
  v1::RunProgress p;
  p.set_run_id(summary_.run_id);
  p.set_plan(plan_.name);
  std::string status = !started_run_ ? "registering" : "running";
  if (halted_) status = "halting";
  if (!summary_.status.empty()) status = summary_.status;  // Finish has decided
  p.set_status(status);
  p.set_reason(summary_.halt_reason);
  p.set_started_ms(started_ms_);
  p.set_at_ms(WallMs());
  const int wave = waves_.wave();
  p.set_wave(static_cast<uint32_t>(wave));
  p.set_waves(static_cast<uint32_t>(plan_.waves.size()));
  if (wave >= 0 && wave < static_cast<int>(plan_.waves.size())) {
    p.set_wave_name(plan_.waves[wave].name);
  }
  if (!started_run_) {
    const auto left =
        std::chrono::duration_cast<std::chrono::seconds>(register_deadline_ - Now()).count();
    p.set_waiting(WaitingForWorkers() +
                  (left > 0 ? "; giving up in " + std::to_string(left) + "s" : "; giving up now"));
  } else if (!done() && wave < static_cast<int>(plan_.waves.size())) {
    p.set_waiting(waves_.Waiting(ledger_));
  }
  const double now_s = std::chrono::duration<double>(Now().time_since_epoch()).count();
  progress_.Fill(now_s, &p);
  const int64_t wall = p.at_ms();
  const auto now = Now();
  for (const auto& [identity, w] : roster_.workers()) {
    v1::WorkerProgress* out = p.add_workers();
    out->set_identity(identity);
    out->set_role(w.role);
    out->set_ordinal(w.ordinal);
    out->set_host(w.host);
    out->set_pid(w.pid);
    out->set_alive(w.alive);
    if (w.last_seen != Clock::TimePoint{}) {
      out->set_last_heartbeat_ms(
          wall - std::chrono::duration_cast<std::chrono::milliseconds>(now - w.last_seen).count());
    }
    out->set_restarts(static_cast<uint32_t>(w.generation));
    if (w.alive) out->set_holding(holdings_.Of(identity));
  }
  p.set_host(LocalHostName());
  p.set_pid(static_cast<uint32_t>(getpid()));
  if (control_) p.set_control_endpoint(control_->endpoint());
  p.set_restarts(static_cast<uint32_t>(summary_.restarts));
  p.set_generation(static_cast<uint32_t>(generation_));
  return p;
}

void Coordinator::OnStatusRequest(const std::string& from) {
  v1::Envelope answer;
  *answer.mutable_status() = Snapshot();
  (void)control_->Send(from, answer);  // an asker gone already is no error
}

void Coordinator::OnHaltRequest(const std::string& from, const v1::HaltRequest& request) {
  v1::Envelope answer;
  v1::HaltReply* reply = answer.mutable_halt_reply();
  if (!request.run_id().empty() && request.run_id() != summary_.run_id) {
    reply->set_message("this coordinator runs " + summary_.run_id + ", not " + request.run_id());
  } else if (done()) {
    reply->set_message("run " + summary_.run_id + " is " + (halted_ ? "halting" : "ending") +
                       " already");
  } else {
    std::string reason = "halted by " +
                         (request.requested_by().empty() ? "an operator" : request.requested_by()) +
                         " with `sluice halt`";
    if (!request.reason().empty()) reason += ": " + request.reason();
    Halt(reason + "; continue with `sluice resume " + summary_.run_id + "`");
    reply->set_accepted(true);
    reply->set_message(
        "every worker is told to stop: the loader finishes or abandons its transaction and "
        "loads nothing more");
  }
  (void)control_->Send(from, answer);
}

void Coordinator::AskToRejoin(const std::string& identity) {
  const auto now = Now();
  auto it = rejoin_asked_.find(identity);
  if (it != rejoin_asked_.end() && now - it->second < std::chrono::seconds(2)) return;
  rejoin_asked_[identity] = now;
  LogInfo(log_, "worker " + identity +
                    " heartbeats without being registered here: asking it to "
                    "register");
  v1::Envelope rejoin;
  rejoin.mutable_rejoin()->set_run_id(summary_.run_id);
  (void)control_->Send(identity, rejoin);
}

std::string Coordinator::WaitingForWorkers() const {
  const std::string endpoint = control_ ? control_->endpoint() : options_.control_bind;
  const std::string reach = AdvertisedEndpoint(endpoint, "", LocalHostName());
  std::string missing;
  for (const auto& [identity, w] : roster_.workers()) {
    if (w.alive) continue;
    missing += (missing.empty() ? "" : ", ") + identity;
  }
  if (options_.local) return "waiting for the local workers to register: missing " + missing;
  return "waiting for workers to register on " + reach + ": missing " + missing +
         " (start each with `sluice-<role> --coordinator " + reach +
         " --ordinal N`, or `deploy/sluice-worker ROLE-N`)";
}

void Coordinator::NoteLease(const std::string& identity, const v1::Lease& lease) {
  holdings_.Leased(identity, lease);
}

void Coordinator::MaybeDie(const std::string& at) {
  if (!sigkill_at_ && !stall_at_) return;
  // "resolve" alone is "resolve:1".
  const std::string when = at + ":" + std::to_string(++commits_at_[at]);
  auto is = [&](const std::optional<std::string>& fault) {
    return fault && (when == *fault || when == *fault + ":1");
  };
  if (is(stall_at_)) {
    LogWarn(log_, "test fault: the coordinator is busy for " +
                      std::to_string(TestFaults::kStallSeconds) + " s at " + when);
    std::this_thread::sleep_for(std::chrono::seconds(TestFaults::kStallSeconds));
  }
  if (!is(sigkill_at_)) return;
  LogWarn(log_, "test fault: the coordinator kills itself at " + when);
  raise(SIGKILL);
}

}  // namespace sluice::coordination
