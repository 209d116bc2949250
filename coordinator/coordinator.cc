#include "coordinator/coordinator.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

namespace sluice::coordination {
namespace {

const std::vector<std::string>& Roles() {
  static const std::vector<std::string> kRoles = {"extractor", "transformer", "deduper",
                                                  "validator", "loader",      "reconciler"};
  return kRoles;
}

std::string UpstreamRole(const std::string& role) {
  if (role == "transformer") return "extractor";
  if (role == "deduper") return "transformer";
  if (role == "validator") return "deduper";
  if (role == "loader") return "validator";
  return "";
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewRunId() {
  auto t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", rd() & 0xffff);
  return std::string("run-") + buf + "-" + suffix;
}

}  // namespace

Result<RunSummary> Coordinator::Run() {
  started_ = Clock::now();
  summary_.run_id = NewRunId();
  summary_.environment = plan_.environment.empty() ? options_.environment : plan_.environment;
  summary_.resumed_from = options_.resumed_from;
  summary_.start_wave = options_.start_wave;
  SLUICE_ASSIGN_OR_RETURN(clock_, RunClock::FromEnvironment());
  log_.run = summary_.run_id;
  log_.stage = "coordinator";
  SLUICE_RETURN_IF_ERROR(Setup());
  Status st = Loop();
  if (!st.ok()) Halt("coordinator error: " + st.ToString());
  Finish();
  return summary_;
}

Status Coordinator::Setup() {
  SLUICE_ASSIGN_OR_RETURN(
      audit_, AuditStore::Open((std::filesystem::path(plan_.state_dir) / "audit.db").string()));
  RunRecord rec;
  rec.run_id = summary_.run_id;
  rec.plan_name = plan_.name;
  rec.plan_path = plan_.path;
  rec.plan_hash = plan_.content_hash;
  rec.model_hash = plan_.model.content_hash;
  rec.environment = summary_.environment;
  rec.started_ms = NowMs();
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
    }
  }
  // Steward decisions of earlier runs of the plan, shipped at registration.
  SLUICE_ASSIGN_OR_RETURN(review_decisions_, audit_->ReviewDecisionsOf(plan_.name));
  SLUICE_ASSIGN_OR_RETURN(control_, ControlServer::Create(options_.control_bind));
  LogInfo(log_, "coordinator listening on " + control_->endpoint() + ", plan " + plan_.path +
                    " (hash " + plan_.content_hash + ", model " + plan_.model.content_hash + ")");
  for (const auto& role : Roles()) {
    uint32_t n = options_.replicas.count(role) ? options_.replicas.at(role) : 1;
    if (role == "reconciler") n = 1;
    if (role == "deduper") dedup_shards_ = std::max<uint32_t>(1, n);  // --dedup-shards
    for (uint32_t i = 0; i < n; ++i) {
      Worker w;
      w.role = role;
      w.ordinal = i;
      w.identity = role + "-" + std::to_string(i);
      workers_[w.identity] = w;
    }
  }
  ledger_.set_dedup_shards(dedup_shards_);
  if (options_.local) {
    for (auto& [id, w] : workers_) SLUICE_RETURN_IF_ERROR(StartLocal(w));
  }
  return Status::Ok();
}

Status Coordinator::StartLocal(Worker& w) {
  LaunchSpec spec;
  spec.role = w.role;
  spec.ordinal = w.ordinal;
  spec.coordinator = control_->endpoint();
  spec.bind = w.endpoint;  // a replacement serves where its predecessor did
  spec.log_level = options_.log_level;
  spec.log_path =
      (std::filesystem::path(plan_.state_dir) / "logs" / summary_.run_id / (w.identity + ".log"))
          .string();
  SLUICE_ASSIGN_OR_RETURN(pid_t pid, launcher_.Start(spec));
  w.pid = static_cast<uint32_t>(pid);
  return Status::Ok();
}

void Coordinator::Finish() {
  summary_.status = paused_ ? "paused" : halted_ ? "halted" : "completed";
  // Entities of a wave finish in any order when they run in parallel: the
  // summary lists them in the wave's load order.
  auto position = [this](const EntitySourceSummary& r) {
    const auto& order = plan_.waves[r.wave].entities;
    return std::find(order.begin(), order.end(), r.entity) - order.begin();
  };
  std::stable_sort(summary_.rows.begin(), summary_.rows.end(),
                   [&](const EntitySourceSummary& a, const EntitySourceSummary& b) {
                     if (a.wave != b.wave) return a.wave < b.wave;
                     return position(a) < position(b);
                   });
  // Secrets resolved into the plan never leave the process in a reason.
  summary_.halt_reason = RedactSecrets(summary_.halt_reason, plan_.secret_values);
  for (auto& r : summary_.reconciliation) r = RedactSecrets(r, plan_.secret_values);
  if (halted_ && started_run_ && wave_ < static_cast<int>(plan_.waves.size())) {
    Status st = audit_->RecordWave(summary_.run_id, wave_, plan_.waves[wave_].name, summary_.status,
                                   summary_.halt_reason);
    if (!st.ok()) LogError(log_, "cannot record the wave's halt: " + st.ToString());
  }
  summary_.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  v1::Envelope bye;
  bye.mutable_shutdown();
  for (auto& [id, w] : workers_) {
    if (w.alive) (void)control_->Send(id, bye);
  }
  launcher_.StopAll(2000);
  for (const auto& [id, how] : launcher_.exited()) LogInfo(log_, "worker " + id + " " + how);
  struct rusage self {};
  getrusage(RUSAGE_SELF, &self);
  LogInfo(log_, "coordinator used " +
                    std::to_string(self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6) +
                    "s user cpu");
  Status st = audit_->EndRun(summary_.run_id, summary_.status, summary_.halt_reason,
                             SummaryJson(summary_), NowMs());
  if (!st.ok()) LogError(log_, "cannot close the run in the audit store: " + st.ToString());
}

void Coordinator::Halt(const std::string& reason) {
  if (halted_) return;
  halted_ = true;
  summary_.halt_reason = RedactSecrets(reason, plan_.secret_values);
  LogError(log_, (paused_ ? "PAUSE: " : "HALT: ") + summary_.halt_reason);
  v1::Envelope h;
  h.mutable_halt()->set_reason(summary_.halt_reason);
  for (auto& [id, w] : workers_) {
    if (w.alive) (void)control_->Send(id, h);
  }
}

void Coordinator::Pause() {
  paused_ = true;
  const std::string wave = wave_ < static_cast<int>(plan_.waves.size()) ? plan_.waves[wave_].name
                                                                        : std::to_string(wave_);
  Halt("the production window " + options_.window_text + " closed at " +
       FormatInZone(*options_.window_closes_at, plan_.window ? plan_.window->tz : "UTC") +
       "; paused in wave " + wave +
       " at a batch boundary; continue in the next window with "
       "`sluice resume " +
       summary_.run_id + "`");
}

Status Coordinator::Loop() {
  auto register_deadline = Clock::now() + options_.register_timeout;
  last_progress_ = Clock::now();
  while (!halted_ && !finished_) {
    SLUICE_ASSIGN_OR_RETURN(auto msg, control_->Receive(std::chrono::milliseconds(20)));
    if (msg) SLUICE_RETURN_IF_ERROR(Handle(msg->first, msg->second));
    // Drain what else is waiting before housekeeping.
    for (int i = 0; i < 256 && !halted_; ++i) {
      SLUICE_ASSIGN_OR_RETURN(auto more, control_->Receive(std::chrono::milliseconds(0)));
      if (!more) break;
      SLUICE_RETURN_IF_ERROR(Handle(more->first, more->second));
    }
    if (halted_) break;
    SLUICE_RETURN_IF_ERROR(CheckWorkers());
    if (!started_run_) {
      if (AllRegistered()) {
        SLUICE_RETURN_IF_ERROR(StartRun());
      } else if (Clock::now() > register_deadline) {
        return Status::Unavailable("workers did not register within " +
                                   std::to_string(options_.register_timeout.count()) +
                                   "s: " + MissingWorkers());
      }
      continue;
    }
    SLUICE_RETURN_IF_ERROR(DispatchLeases());
    SLUICE_RETURN_IF_ERROR(Advance());
    if (!finished_ && options_.window_closes_at && clock_.Now() >= *options_.window_closes_at) {
      Pause();
      break;
    }
    if (Clock::now() - last_progress_ > options_.stall_timeout) {
      Halt("no progress for " + std::to_string(options_.stall_timeout.count()) + "s while " +
           Waiting());
    }
  }
  // Let the halt reach every worker before shutting them down.
  if (halted_) {
    auto until = Clock::now() + std::chrono::milliseconds(300);
    while (Clock::now() < until) {
      auto msg = control_->Receive(std::chrono::milliseconds(20));
      if (msg.ok() && *msg) {
        auto it = workers_.find((*msg)->first);
        if (it != workers_.end()) it->second.last_seen = Clock::now();
      }
    }
  }
  return Status::Ok();
}

bool Coordinator::AllRegistered() const {
  for (const auto& [id, w] : workers_) {
    if (!w.alive) return false;
  }
  return true;
}

std::string Coordinator::MissingWorkers() const {
  std::string s;
  for (const auto& [id, w] : workers_) {
    if (!w.alive) s += (s.empty() ? "" : ", ") + id;
  }
  return s;
}

Status Coordinator::Reply(Worker& w) {
  v1::Envelope env;
  auto* r = env.mutable_register_reply();
  r->set_run_id(summary_.run_id);
  r->set_plan_yaml(plan_.yaml_text);
  r->set_base_dir(plan_.base_dir);
  r->set_state_dir(plan_.state_dir);
  r->set_shard(w.ordinal);
  r->set_shard_count(w.role == "deduper" ? dedup_shards_ : 1);
  DedupShards(dedup_shards_, 1).FillRegisterReply(r);
  *r->mutable_review_decisions() = review_decisions_;
  std::string up = UpstreamRole(w.role);
  for (const auto& [id, other] : workers_) {
    if (other.role == up && !other.endpoint.empty()) r->add_upstream_endpoints(other.endpoint);
  }
  // Faults hit the first incarnation only, so the replacement can finish.
  auto fault = options_.faults.find(w.identity);  // "deduper-1:...": that worker only
  if (fault == options_.faults.end()) fault = options_.faults.find(w.role);
  if (fault != options_.faults.end() && w.generation == 0) r->set_fault(fault->second);
  w.replied = true;
  return control_->Send(w.identity, env);
}

Status Coordinator::OnRegister(const std::string& identity, const v1::Register& reg) {
  auto it = workers_.find(identity);
  if (it == workers_.end()) {
    LogWarn(log_, "refusing unknown worker " + identity);
    return Status::Ok();
  }
  Worker& w = it->second;
  bool restarted = w.alive && w.pid != reg.pid();
  if (w.replied && w.pid == reg.pid() && w.alive) return Reply(w);  // a retried register
  if (restarted) OnDeath(w, "replaced by a new process");
  if (w.generation > 0 || restarted) ++summary_.restarts;
  w.pid = reg.pid();
  w.alive = true;
  w.replied = false;
  w.last_seen = Clock::now();
  if (!reg.data_endpoint().empty()) w.endpoint = reg.data_endpoint();
  w.member_endpoint = reg.dedup_peer_endpoint();
  LogInfo(log_, "worker " + identity + " registered (pid " + std::to_string(reg.pid()) +
                    (w.endpoint.empty() ? "" : ", serving " + w.endpoint) +
                    (w.member_endpoint.empty() ? "" : ", members at " + w.member_endpoint) + ")");
  if (!started_run_) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(Reply(w));
  if (w.role == "deduper" && dedup_shards_ > 1 && !halted_) {
    // The other shards may be waiting for members at its old endpoint.
    for (auto& [entity, rounds] : dedup_) {
      for (auto& lease : rounds.MemberRoundAgain(w.ordinal)) pending_.push_back(std::move(lease));
    }
  }
  return Status::Ok();
}

Status Coordinator::StartRun() {
  for (auto& [id, w] : workers_) SLUICE_RETURN_IF_ERROR(Reply(w));
  started_run_ = true;
  last_progress_ = Clock::now();
  wave_ = options_.start_wave;
  if (wave_ >= static_cast<int>(plan_.waves.size())) {
    finished_ = true;
    return Status::Ok();
  }
  return StartWave();
}

}  // namespace sluice::coordination
