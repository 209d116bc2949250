#include "cli/supervision.h"

#include <pwd.h>
#include <unistd.h>

#include "common/runtime/curve_keys.h"
#include "common/runtime/endpoint.h"
#include "common/runtime/routing_id.h"
#include "common/runtime/seal.h"
#include "common/runtime/transport.h"

namespace sluice::cli {
namespace {

Result<SupervisedRun> Supervised(AuditStore& audit, RunRecord run, const LivenessProbe& probe) {
  SupervisedRun s;
  SLUICE_ASSIGN_OR_RETURN(s.coordinator, audit.CoordinatorOf(run.run_id));
  s.status = ShownStatus(run, s.coordinator, probe);
  s.run = std::move(run);
  return s;
}

// The coordinator's public key once UseSupervisionKeys found the run's
// keys; "" (plaintext) before.
std::string& CoordinatorKey() {
  static std::string key;
  return key;
}

// One question to the coordinator and its answer, on a DEALER of our own:
// its identity is no worker's, so the coordinator answers it as a client.
Result<v1::Envelope> Ask(const std::string& endpoint, const v1::Envelope& question,
                         v1::Envelope::BodyCase answer, std::chrono::milliseconds timeout) {
  // A nonce of its own (routing_id.h): the coordinator's ROUTER ignores a
  // second connection under a routing id it still holds.
  const std::string identity =
      RoutingId("sluice-cli/" + LocalHostName() + "/" + std::to_string(static_cast<int>(getpid())),
                NewRouteNonce());
  SLUICE_ASSIGN_OR_RETURN(auto client, ControlClient::Create(endpoint, identity, CoordinatorKey()));
  SLUICE_RETURN_IF_ERROR(client->Send(question));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    SLUICE_ASSIGN_OR_RETURN(auto msg,
                            client->Receive(std::max(left, std::chrono::milliseconds(1))));
    if (msg && msg->body_case() == answer) return std::move(*msg);
  }
  return Status::Unavailable("no answer from the coordinator at " + endpoint + " within " +
                             std::to_string(timeout.count()) + " ms");
}

}  // namespace

Status UseSupervisionKeys(const std::string& state_dir, const std::string& run_id) {
  static std::string sealed_for;  // once per process and run (status --watch asks often)
  if (sealed_for == state_dir + "/" + run_id) return Status::Ok();
  auto keys = ReadSupervisorKeys(state_dir, run_id);
  if (!keys.ok()) {
    if (keys.status().code() == StatusCode::kNotFound) return Status::Ok();  // plaintext
    return keys.status();
  }
  sealed_for = state_dir + "/" + run_id;
  SealOptions seal;
  seal.keys = keys->supervisor;
  SLUICE_RETURN_IF_ERROR(SealProcess(seal));
  CoordinatorKey() = keys->coordinator_key;
  return Status::Ok();
}

Result<SupervisedRun> FindRun(AuditStore& audit, const std::string& run_id,
                              const LivenessProbe& probe) {
  if (!run_id.empty()) {
    SLUICE_ASSIGN_OR_RETURN(RunRecord run, audit.Run(run_id));
    return Supervised(audit, std::move(run), probe);
  }
  SLUICE_ASSIGN_OR_RETURN(auto runs, audit.Runs());  // oldest first
  if (runs.empty()) return Status::NotFound("no run recorded in the audit store");
  for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
    if (it->status != "running") continue;
    SLUICE_ASSIGN_OR_RETURN(SupervisedRun s, Supervised(audit, *it, probe));
    if (s.running()) return s;
  }
  return Supervised(audit, runs.back(), probe);
}

std::optional<v1::RunProgress> RecordedProgress(const SupervisedRun& run) {
  if (!run.coordinator || run.coordinator->progress.empty()) return std::nullopt;
  v1::RunProgress p;
  if (!p.ParseFromString(run.coordinator->progress)) return std::nullopt;
  if (run.status != "running") {
    p.set_status(run.status);
    if (!run.run.halt_reason.empty()) p.set_reason(run.run.halt_reason);
  }
  return p;
}

std::string ReachableEndpoint(const CoordinatorRecord& record, const std::string& this_host) {
  return AdvertisedEndpoint(record.control_endpoint, "",
                            record.host == this_host ? "127.0.0.1" : record.host);
}

Result<v1::RunProgress> AskStatus(const std::string& endpoint, const std::string& run_id,
                                  std::chrono::milliseconds timeout) {
  v1::Envelope q;
  q.mutable_status_request()->set_run_id(run_id);
  SLUICE_ASSIGN_OR_RETURN(v1::Envelope a, Ask(endpoint, q, v1::Envelope::kStatus, timeout));
  return std::move(*a.mutable_status());
}

Result<v1::HaltReply> AskHalt(const std::string& endpoint, const v1::HaltRequest& request,
                              std::chrono::milliseconds timeout) {
  v1::Envelope q;
  *q.mutable_halt_request() = request;
  SLUICE_ASSIGN_OR_RETURN(v1::Envelope a, Ask(endpoint, q, v1::Envelope::kHaltReply, timeout));
  return std::move(*a.mutable_halt_reply());
}

std::string WhoAmI() {
  const char* user = std::getenv("USER");
  std::string name = user != nullptr ? user : "";
  if (name.empty()) {
    if (const passwd* pw = getpwuid(getuid()); pw != nullptr) name = pw->pw_name;
  }
  return (name.empty() ? "someone" : name) + "@" + LocalHostName();
}

}  // namespace sluice::cli
