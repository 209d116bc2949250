// Whom the coordinator believes (issue 22, docs/architecture.md#security):
// a control message counts only when it comes from a worker of the run
// that registered, over the socket and with the CURVE key it registered
// with, and, for what answers a lease, from the holder of that lease at its
// current epoch. Everything else is refused and logged, and the run goes on.
#include "coordinator/coordinator.h"

namespace sluice::coordination {
namespace {

const char* KindOf(const v1::Envelope& env) {
  switch (env.body_case()) {
    case v1::Envelope::kRegister:
      return "registration";
    case v1::Envelope::kHeartbeat:
      return "heartbeat";
    case v1::Envelope::kCommit:
      return "commit";
    case v1::Envelope::kStreamDone:
      return "end of stream";
    case v1::Envelope::kReconcileResult:
      return "reconciliation result";
    case v1::Envelope::kReconcileInputRequest:
      return "reconciliation input request";
    case v1::Envelope::kError:
      return "worker error";
    default:
      return "message";
  }
}

}  // namespace

Status Coordinator::AdmitRegistration(const std::string& identity, const v1::Register& reg,
                                      const std::string& key, const std::string& route,
                                      Roster::Registration how) const {
  const Worker* w = roster_.Find(identity);
  if (w == nullptr || how == Roster::Registration::kUnknown) {
    return Status::FailedPrecondition("no worker " + identity + " in this run");
  }
  if (w->role != reg.role() || w->ordinal != reg.ordinal()) {
    return Status::FailedPrecondition("it registers as " + reg.role() + "-" +
                                      std::to_string(reg.ordinal()) + " from socket " + identity);
  }
  if (how == Roster::Registration::kReplacesLive ||
      (w->alive && !routes_.Current(identity, route, false))) {
    // The registered process still heartbeats: a second one under its name
    // is a squatter, or a replacement that comes too early; either way it
    // waits until the first is written off (silent or reaped).
    return Status::FailedPrecondition(identity + " is alive (pid " + std::to_string(w->pid) +
                                      "); a replacement is taken once it is written off");
  }
  if (how == Roster::Registration::kRetry && key != w->key) {
    return Status::FailedPrecondition("not the key " + identity + " registered with");
  }
  if (auto own = local_keys_.find(identity);
      own != local_keys_.end() && keys_ && key != own->second.public_key) {
    // --local: each child has a key of its own; a worker's key is its name.
    return Status::FailedPrecondition("not the key this run made for " + identity);
  }
  return Status::Ok();
}

Status Coordinator::Believe(const ControlMessage& message, const std::string& from,
                            bool hb_socket) const {
  const v1::Envelope& env = message.envelope;
  const Worker* w = roster_.Find(from);
  if (w == nullptr) return Status::FailedPrecondition("not a worker of the run");
  if (w->generation == 0 && !w->alive) return Status::FailedPrecondition("never registered");
  if (message.sender_key != w->key) {
    return Status::FailedPrecondition("not the key " + from + " registered with");
  }
  // The route its admitted registration came from (worker_routes.h): a
  // process using another routing id under its name is not it.
  if (!routes_.Current(from, message.sender, hb_socket) &&
      !(env.has_commit() && routes_.Former(from, message.sender))) {
    return Status::FailedPrecondition("not the route " + from + " registered from");
  }
  if (hb_socket && !env.has_heartbeat()) {
    return Status::FailedPrecondition("a heartbeat socket carries heartbeats only");
  }
  switch (env.body_case()) {
    case v1::Envelope::kHeartbeat:
      return Status::Ok();
    case v1::Envelope::kCommit:
      // Judged by LeaseBook::Admit (OnCommit): a written-off worker's commits
      // at a current epoch still count (lease_book.h).
      return Status::Ok();
    case v1::Envelope::kStreamDone:
      if (!w->alive) return Status::FailedPrecondition(from + " was written off");
      if (!leases_.Holds(from, env.stream_done().epoch())) {
        return Status::FailedPrecondition(from + " holds no extraction lease at epoch " +
                                          std::to_string(env.stream_done().epoch()));
      }
      return Status::Ok();
    case v1::Envelope::kReconcileResult:
    case v1::Envelope::kReconcileDifferences:  // issue 17
    case v1::Envelope::kReconcileInputRequest: {
      const uint64_t epoch = env.has_reconcile_result() ? env.reconcile_result().epoch()
                             : env.has_reconcile_differences()
                                 ? env.reconcile_differences().epoch()
                                 : env.reconcile_input_request().epoch();
      if (!w->alive) return Status::FailedPrecondition(from + " was written off");
      if (w->role != "reconciler") return Status::FailedPrecondition(from + " is no reconciler");
      if (epoch == 0 || epoch != reconcile_epoch_ || !leases_.Holds(from, epoch)) {
        return Status::FailedPrecondition(
            from + " holds no current reconciliation lease at epoch " + std::to_string(epoch) +
            " (current: " + std::to_string(reconcile_epoch_) + ")");
      }
      return Status::Ok();
    }
    default:
      // A worker error halts the run: only a live, registered worker's does.
      if (!w->alive) return Status::FailedPrecondition(from + " was written off");
      return Status::Ok();
  }
}

void Coordinator::LogRefused(const ControlMessage& message, const Status& why) {
  // Once a minute per sender and kind: a flood of forgeries must not drown
  // the log (or the coordinator writing it).
  const std::string what = message.sender + "\n" + KindOf(message.envelope);
  auto [last, first] = refusals_logged_.try_emplace(what, Now());
  if (!first && Now() - last->second < std::chrono::minutes(1)) return;
  last->second = Now();
  // The sender's public key only (its handshake proved it): never a secret.
  LogWarn(log_, std::string("refused ") + KindOf(message.envelope) + " from " + message.sender +
                    (message.sender_key.empty() ? "" : " (key " + message.sender_key + ")") + ": " +
                    why.message());
}

}  // namespace sluice::coordination
