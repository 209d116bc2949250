#include "coordinator/coordinator.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "common/runtime/commit_keys.h"
#include "common/runtime/routing_id.h"
#include "common/runtime/seal.h"
#include "common/runtime/test_fault.h"
#include "coordinator/dedup_shards.h"
#include "coordinator/keepalive.h"

namespace sluice::coordination {
namespace {

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

// A new run, or the interrupted one this coordinator continues.
RunSummary NewSummary(const RunOptions& options) {
  RunSummary s;
  s.run_id = options.continue_run.empty() ? NewRunId() : options.continue_run;
  return s;
}

// --dedup-shards: the number of dedup shards is the deduper's replicas.
uint32_t DedupShardsOf(const RunOptions& options) {
  auto it = options.replicas.find("deduper");
  return std::max<uint32_t>(1, it == options.replicas.end() ? 1 : it->second);
}

RosterOptions RosterOptionsOf(const RunOptions& options) {
  RosterOptions o;
  o.worker_timeout = options.worker_timeout;
  return o;
}

}  // namespace

Coordinator::Coordinator(const Plan& plan, const RunOptions& options, CoordinatorEnv env)
    : plan_(plan),
      options_(options),
      clock_(env.clock),
      control_(env.control ? RouteToBound(std::move(env.control), routes_) : nullptr),
      summary_(NewSummary(options)),
      dedup_shards_(DedupShardsOf(options)),
      roster_(options.replicas, RosterOptionsOf(options)),
      waves_(plan, summary_.run_id, dedup_shards_),
      launcher_(options.bin_dir.empty() ? Launcher::SelfDir() : options.bin_dir) {
  ledger_.set_dedup_shards(dedup_shards_);
}

Result<RunSummary> Coordinator::Run() {
  SLUICE_RETURN_IF_ERROR(Start());
  Status st;
  while (!done() && st.ok()) st = Step();
  if (!st.ok()) {
    Halt(StateFaultReason(st, plan_.state_dir));
  } else if (halted_) {
    DrainAfterHalt();
  }
  Finish();
  return summary_;
}

Status Coordinator::Start() {
  started_ = Now();
  summary_.environment = plan_.environment.empty() ? options_.environment : plan_.environment;
  summary_.resumed_from = options_.resumed_from;
  summary_.start_wave = options_.start_wave;
  SLUICE_ASSIGN_OR_RETURN(window_clock_, RunClock::FromEnvironment());
  log_.run = summary_.run_id;
  log_.stage = "coordinator";
  SLUICE_ASSIGN_OR_RETURN(
      audit_, AuditStore::Open((std::filesystem::path(plan_.state_dir) / "audit.db").string()));
  // Before the run is recorded as running: the room to record how it ends.
  SLUICE_ASSIGN_OR_RETURN(
      reserve_,
      StateReserve::Create((std::filesystem::path(plan_.state_dir) / "audit.reserve").string()));
  if (!control_) {
    SLUICE_RETURN_IF_ERROR(Seal());
    SLUICE_ASSIGN_OR_RETURN(auto bound, BindCoordinatorChannel(options_.control_bind));
    // Workers must not take a long commit for the coordinator's death. The
    // keepalive thread sits below the routes (worker_routes.h), which are
    // the main thread's alone: it echoes to the routes the coordinator used.
    control_ = RouteToBound(std::make_unique<KeepaliveChannel>(
                                std::move(bound), std::chrono::seconds(1), options_.worker_timeout),
                            routes_);
  }
  // The run and this coordinator's liveness record (supervision.cc).
  SLUICE_RETURN_IF_ERROR(RecordRun());
  SLUICE_RETURN_IF_ERROR(LoadDeltaMarks());  // delta.cc (issue 18)
  // Steward decisions of earlier runs of the plan, shipped at registration.
  SLUICE_ASSIGN_OR_RETURN(review_decisions_, audit_->ReviewDecisionsOf(plan_.name));
  LogInfo(log_, "coordinator listening on " + control_->endpoint() + ", plan " + plan_.path +
                    " (hash " + plan_.content_hash + ", model " + plan_.model.content_hash + ")");
  if (options_.local) {
    for (const auto& [identity, w] : roster_.workers()) {
      SLUICE_RETURN_IF_ERROR(StartLocal(identity));
    }
  }
  SLUICE_RETURN_IF_ERROR(PrefetchKnownKeys());  // delta.cc: while the workers start
  register_deadline_ = Now() + options_.register_timeout;
  last_progress_ = Now();
  return Status::Ok();
}

Status Coordinator::Seal() {
  SealOptions seal;
  seal.insecure = options_.insecure && !options_.local;
  if (options_.local && !options_.insecure) {
    // Keys for this run only, so that no other process of this machine can
    // join it: each child gets its own in its environment, which only its
    // user can read, and the coordinator admits those and no others.
    SLUICE_ASSIGN_OR_RETURN(seal.keys, GenerateCurveKeyPair());
    for (const auto& [identity, w] : roster_.workers()) {
      SLUICE_ASSIGN_OR_RETURN(local_keys_[identity], GenerateCurveKeyPair());
      seal.accepted[local_keys_[identity].public_key] = identity;
    }
  } else if (options_.keys) {
    seal.keys = options_.keys;
    seal.accepted = options_.authorized_keys;
  }
  keys_ = seal.keys;
  if (keys_) {
    // The key `sluice status` and `sluice halt` ask with, for this run only,
    // beside the coordinator's public key in the state directory (mode 0700
    // folder, 0600 secret): whoever may read the audit store may supervise.
    SLUICE_ASSIGN_OR_RETURN(CurveKeyPair supervisor, GenerateCurveKeyPair());
    seal.accepted[supervisor.public_key] = "supervisor";
    supervisor_key_ = supervisor.public_key;
    SLUICE_RETURN_IF_ERROR(WriteSupervisorKeys(plan_.state_dir, summary_.run_id,
                                               SupervisorKeys{supervisor, keys_->public_key}));
  }
  SLUICE_RETURN_IF_ERROR(SealProcess(seal));
  if (keys_) {
    LogInfo(log_, "sealed: CurveZMQ with public key " + keys_->public_key + ", " +
                      std::to_string(seal.accepted.size()) + " worker key(s) accepted");
  } else if (options_.insecure) {
    LogWarn(log_, "--insecure: the control channel is plaintext; anyone who reaches " +
                      options_.control_bind + " can read the run and pose as a worker");
  } else {
    LogInfo(log_, "plaintext control channel on loopback (no --key)");
  }
  return Status::Ok();
}

Status Coordinator::StartLocal(const std::string& identity) {
  const Worker& w = *roster_.Find(identity);
  LaunchSpec spec;
  spec.role = w.role;
  spec.ordinal = w.ordinal;
  spec.coordinator = control_->endpoint();
  spec.bind = w.endpoint;  // a replacement serves where its predecessor did
  spec.log_level = options_.log_level;
  if (auto keys = local_keys_.find(identity); keys != local_keys_.end() && keys_) {
    spec.curve_secret_key = keys->second.secret_key;
    spec.coordinator_key = keys_->public_key;
  }
  spec.log_path =
      (std::filesystem::path(plan_.state_dir) / "logs" / summary_.run_id / (identity + ".log"))
          .string();
  SLUICE_ASSIGN_OR_RETURN(pid_t pid, launcher_.Start(spec));
  roster_.SetPid(identity, static_cast<uint32_t>(pid));
  return Status::Ok();
}

Status Coordinator::Step() {
  SLUICE_ASSIGN_OR_RETURN(auto msg, control_->Receive(std::chrono::milliseconds(20)));
  if (msg) SLUICE_RETURN_IF_ERROR(HandleExcusing(*msg));
  // Drain what else is waiting before housekeeping.
  for (int i = 0; i < 256 && !halted_; ++i) {
    SLUICE_ASSIGN_OR_RETURN(auto more, control_->Receive(std::chrono::milliseconds(0)));
    if (!more) break;
    SLUICE_RETURN_IF_ERROR(HandleExcusing(*more));
  }
  SendCommitAcks();
  // Ctrl-C or SIGTERM of `sluice run`: a halt, as `sluice halt` asks.
  if (!halted_ && options_.interrupted != nullptr && options_.interrupted->load() != 0) {
    const int sig = options_.interrupted->load();
    Halt(std::string("interrupted by ") + (sig == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM") +
         "; continue with `sluice resume " + summary_.run_id + "`");
  }
  // The liveness record and the progress (supervision.cc).
  Supervise(false);
  if (halted_) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(CheckWorkers());
  if (!started_run_) {
    if (roster_.AllRegistered()) return StartRun();
    if (Now() > register_deadline_) {
      return Status::Unavailable(WaitingForWorkers() + ": gave up after " +
                                 std::to_string(options_.register_timeout.count()) +
                                 "s (--register-timeout)");
    }
    return Status::Ok();
  }
  SLUICE_RETURN_IF_ERROR(DispatchLeases());
  SLUICE_RETURN_IF_ERROR(Advance());
  if (!finished_ && options_.window_closes_at &&
      window_clock_.Now() >= *options_.window_closes_at) {
    Pause();
    return Status::Ok();
  }
  if (Now() - last_progress_ > options_.stall_timeout) {
    Halt("no progress for " + std::to_string(options_.stall_timeout.count()) + "s while " +
         waves_.Waiting(ledger_));
  }
  return Status::Ok();
}

void Coordinator::DrainAfterHalt() {
  // Until the workers send nothing but heartbeats for 300 ms (at most 30 s):
  // the commits queued before they read the halt are read to the last.
  const auto cap = Now() + std::chrono::seconds(30);
  auto quiet_until = Now() + std::chrono::milliseconds(300);
  while (Now() < quiet_until && Now() < cap) {
    auto msg = control_->Receive(std::chrono::milliseconds(20));
    if (!msg.ok() || !*msg) continue;
    const std::string from = WorkerNameOf((*msg)->sender);
    roster_.Seen(from, Now());
    if ((*msg)->envelope.has_heartbeat()) continue;  // they go on until shutdown
    quiet_until = Now() + std::chrono::milliseconds(300);
    // A batch the loader committed to the target before it read the halt is
    // in the target: its fates are recorded too, so the halted run's figures
    // and fates tell what the target holds (a believed commit only).
    v1::Envelope& env = (*msg)->envelope;
    if (env.has_commit() && env.commit().stage() == StageName(Stage::kLoad) &&
        Believe(**msg, from, false).ok()) {
      Status st = OnCommit(from, std::move(*env.mutable_commit()));
      if (!st.ok()) LogError(log_, "a load committed after the halt: " + st.ToString());
    }
  }
}

void Coordinator::Finish() {
  reserve_.Release();  // the room for the writes below, on a full state directory
  summary_.status = superseded_ ? "superseded"
                    : paused_   ? "paused"
                    : halted_   ? "halted"
                                : "completed";
  // A run that stops mid-way says what it reached, not zeros; a resolution
  // that did not come whole leaves nothing recorded (resolution.cc).
  if (halted_ && started_run_) AddReachedRows();
  // (Unless another coordinator continues the run: the records are its.)
  while (!superseded_ && !resolving_.empty()) AbandonResolution(resolving_.begin()->first);
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
  const int wave = waves_.wave();
  if (halted_ && !superseded_ && started_run_ && wave < static_cast<int>(plan_.waves.size())) {
    Status st = audit_->RecordWave(summary_.run_id, wave, plan_.waves[wave].name, summary_.status,
                                   summary_.halt_reason);
    if (!st.ok()) LogError(log_, "cannot record the wave's halt: " + st.ToString());
  }
  if (started_run_) SummarizeWaves();
  summary_.seconds = std::chrono::duration<double>(Now() - started_).count();
  v1::Envelope bye;
  bye.mutable_shutdown();
  for (const std::string& id : roster_.Alive()) (void)control_->Send(id, bye);
  launcher_.StopAll(2000);
  for (const auto& [id, how] : launcher_.exited()) LogInfo(log_, "worker " + id + " " + how);
  struct rusage self {};
  getrusage(RUSAGE_SELF, &self);
  LogInfo(log_,
          "coordinator used " + std::to_string(self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6) +
              "s user cpu, " + std::to_string(self.ru_stime.tv_sec + self.ru_stime.tv_usec / 1e6) +
              "s system cpu, peak RSS " + std::to_string(self.ru_maxrss / 1024) + " MiB");
  // The last progress, for `sluice status` after the run; the run is the
  // coordinator's that took it over when this one was superseded.
  Supervise(true);
  if (superseded_) return;
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
  for (const std::string& id : roster_.Alive()) (void)control_->Send(id, h);
}

void Coordinator::Pause() {
  paused_ = true;
  const int w = waves_.wave();
  const std::string wave =
      w < static_cast<int>(plan_.waves.size()) ? plan_.waves[w].name : std::to_string(w);
  Halt("the production window " + options_.window_text + " closed at " +
       FormatInZone(*options_.window_closes_at, plan_.window ? plan_.window->tz : "UTC") +
       "; paused in wave " + wave +
       " at a batch boundary; continue in the next window with "
       "`sluice resume " +
       summary_.run_id + "`");
}

Status Coordinator::Handle(ControlMessage& message) {
  const std::string& sender = message.sender;
  v1::Envelope& env = message.envelope;
  // Heartbeats arrive from each worker's "<identity>/hb" socket; routing
  // ids carry the process's nonce (routing_id.h).
  const std::string socket = SocketNameOf(sender);
  const bool hb_socket = socket.size() > 3 && socket.compare(socket.size() - 3, 3, "/hb") == 0;
  const std::string from = WorkerNameOf(sender);
  if (env.has_register_() && !hb_socket) {
    return OnRegister(from, env.register_(), message.sender_key, sender);
  }
  // Supervision asks with the run's supervisor key (or in plaintext).
  if (env.has_status_request() || env.has_halt_request()) {
    if (keys_ && message.sender_key != supervisor_key_) {
      LogRefused(message, Status::FailedPrecondition("not the run's supervisor key"));
    } else if (env.has_status_request()) {
      OnStatusRequest(sender);
    } else {
      OnHaltRequest(sender, env.halt_request());
    }
    return Status::Ok();
  }
  // Only what a registered worker sends is believed (admission.cc).
  if (Status believed = Believe(message, from, hb_socket); !believed.ok()) {
    LogRefused(message, believed);
    return Status::Ok();
  }
  // Every believed commit is answered once handled, whether the ledger takes
  // it or not (a worker that waits for an answer must not wait for ever):
  // its credit back, to the very process (route) that sent it, so that a
  // replaced process's late commit gives its successor nothing. A refused
  // sender was given no credits to wait for.
  if (TakesCommitCredit(env)) ++commit_acks_[sender];
  roster_.Seen(from, Now());
  holdings_.Heard(from, env);
  switch (env.body_case()) {
    case v1::Envelope::kHeartbeat: {
      if (stall_watch_.AtWork(from, env.heartbeat().busy_ms())) last_progress_ = Now();
      v1::Envelope echo;
      echo.mutable_heartbeat()->set_sequence(env.heartbeat().sequence());
      const Worker* w = roster_.Find(from);
      if (w != nullptr && w->alive) {
        (void)control_->Send(from, echo);
      } else if (w != nullptr) {
        AskToRejoin(from);  // it registered with a coordinator that is gone
      }
      return Status::Ok();
    }
    case v1::Envelope::kCommit:
      return OnCommit(from, std::move(*env.mutable_commit()));
    case v1::Envelope::kStreamDone:
      return OnStreamDone(env.stream_done());
    case v1::Envelope::kReconcileResult:
      return OnReconcileResult(from, std::move(*env.mutable_reconcile_result()));
    case v1::Envelope::kReconcileInputRequest:
      return OnReconcileInputRequest(from, env.reconcile_input_request());
    case v1::Envelope::kReconcileDifferences:
      return OnReconcileDifferences(env.reconcile_differences());
    case v1::Envelope::kError: {
      const auto& e = env.error();
      Halt(from + " (" + e.stage() + "): " + e.message());
      return Status::Ok();
    }
    default:
      return Status::Ok();
  }
}

Status Coordinator::Reply(const std::string& identity) {
  const Worker& w = *roster_.Find(identity);
  v1::Envelope env;
  auto* r = env.mutable_register_reply();
  r->set_run_id(summary_.run_id);
  r->set_plan_yaml(plan_.yaml_text);
  r->set_base_dir(plan_.base_dir);
  r->set_state_dir(plan_.state_dir);
  r->set_shard(w.ordinal);
  r->set_shard_count(w.role == "deduper" ? dedup_shards_ : 1);
  r->set_commit_credits(kCommitCredits);
  DedupShards(dedup_shards_, 1).FillRegisterReply(r);
  *r->mutable_review_decisions() = review_decisions_;
  for (const Worker* up : roster_.Upstream(w.role)) {
    r->add_upstream_endpoints(up->endpoint);
    if (keys_) r->add_upstream_keys(up->key);
  }
  *r->mutable_peer_keys() = roster_.PeerKeys();
  // Faults hit the first incarnation only, so the replacement can finish;
  // a poisonous record hits every one that reads it.
  auto fault = options_.faults.find(identity);  // "deduper-1:...": that worker only
  if (fault == options_.faults.end()) fault = options_.faults.find(w.role);
  if (fault != options_.faults.end()) {
    auto parsed = ParseTestFaults(fault->second);
    if (w.generation == 0 || (parsed.ok() && parsed->OfTheInput())) r->set_fault(fault->second);
  }
  roster_.MarkReplied(identity);
  SLUICE_ASSIGN_OR_RETURN(bool sent, SendToWorker(identity, env));  // false: gone already
  return sent && w.role == "loader" ? SendParentFatesTo(identity) : Status::Ok();
}

Status Coordinator::OnRegister(const std::string& identity, const v1::Register& reg,
                               const std::string& key, const std::string& route) {
  const Roster::Registration how = roster_.Classify(identity, reg);
  if (Status admitted = AdmitRegistration(identity, reg, key, route, how); !admitted.ok()) {
    ControlMessage refused{route, key, {}};
    *refused.envelope.mutable_register_() = reg;
    LogRefused(refused, admitted);
    return Status::Ok();
  }
  holdings_.Forget(identity);  // a new process holds nothing yet
  if (how == Roster::Registration::kRetry) {
    roster_.Seen(identity, Now());
    return Reply(identity);
  }
  const bool new_key = roster_.Find(identity)->key != key;
  const bool restarted = roster_.Admit(identity, reg, how, Now(), key);
  if (restarted) ++summary_.restarts;
  routes_.Bind(identity, route);  // its messages go there from now on
  const Worker& w = *roster_.Find(identity);
  LogInfo(log_, "worker " + identity + " registered (pid " + std::to_string(reg.pid()) +
                    (route == identity ? "" : ", route " + route) +
                    (w.endpoint.empty() ? "" : ", serving " + w.endpoint) +
                    (w.member_endpoint.empty() ? "" : ", members at " + w.member_endpoint) + ")");
  if (!started_run_) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(Reply(identity));
  if (new_key) {
    // A replacement on another machine: its peers admit its new key.
    v1::Envelope peers;
    *peers.mutable_peer_keys() = roster_.PeerKeys();
    for (const std::string& other : roster_.Alive()) {
      if (other != identity) (void)control_->Send(other, peers);
    }
  }
  if (restarted && how == Roster::Registration::kNew && rejoin_asked_.erase(identity) > 0 &&
      !halted_ && !finished_) {
    // Its process, written off for silence, ran on (a partition) and was
    // asked to register again (AskToRejoin): it may have taken batches
    // after its write-off and lost them as it stopped. What its role holds
    // is leased again (recovery.cc).
    Recover(w.role);
  }
  if (w.role == "deduper" && dedup_shards_ > 1 && !halted_) {
    // The other shards may be waiting for members at its old endpoint.
    for (auto& [entity, run] : waves_.runs()) {
      if (!run.shards) continue;
      for (auto& [to, lease] : run.shards->MemberRoundAgain(w.ordinal)) {
        leases_.Queue(std::move(to), std::move(lease));
      }
    }
  }
  return Status::Ok();
}

Status Coordinator::StartRun() {
  for (const auto& [identity, w] : roster_.workers()) SLUICE_RETURN_IF_ERROR(Reply(identity));
  started_run_ = true;
  last_progress_ = Now();
  SLUICE_RETURN_IF_ERROR(CarryPins());  // pin_check.cc
  return StartWave(options_.start_wave);
}

void Coordinator::SendCommitAcks() {
  for (const auto& [identity, commits] : commit_acks_) {
    v1::Envelope ack;
    ack.mutable_commit_ack()->set_commits(commits);
    (void)control_->Send(identity, ack);
  }
  commit_acks_.clear();
}

Status Coordinator::HandleExcusing(ControlMessage& message) {
  const Clock::TimePoint start = Now();
  Status st = Handle(message);
  const Clock::Duration spent = Now() - start;
  if (spent > std::chrono::seconds(1)) roster_.Excuse(spent, Now());
  return st;
}

Status Coordinator::CheckWorkers() {
  for (const auto& [identity, how] : launcher_.Reap()) {
    if (roster_.Find(identity) == nullptr) continue;
    LogWarn(log_, "worker " + identity + " " + how);
    const std::optional<std::string> poison =
        poison_.Died(identity, roster_.Find(identity)->role, how);
    OnDeath(identity);
    if (poison && !halted_) Halt(*poison);  // poison_batch.h: not restarted
    if (options_.local && !halted_) {
      if (roster_.NextGeneration(identity) > options_.max_restarts) {
        Halt("worker " + identity + " keeps dying (" + how + "); gave up after " +
             std::to_string(options_.max_restarts) + " restarts");
        return Status::Ok();
      }
      SLUICE_RETURN_IF_ERROR(StartLocal(identity));
    }
  }
  for (const std::string& identity : roster_.Silent(Now())) {
    LogWarn(log_, "worker " + identity + " missed its heartbeats");
    OnDeath(identity);
    roster_.NextGeneration(identity);
  }
  return Status::Ok();
}

void Coordinator::OnDeath(const std::string& identity) {
  if (!roster_.WriteOff(identity)) return;
  if (!started_run_ || halted_ || finished_) return;
  // Whatever the dead worker held or had in flight is leased again.
  Recover(roster_.Find(identity)->role);
}

}  // namespace sluice::coordination
