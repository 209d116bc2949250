// What `sluice status`, `halt`, `runs` and `resume` share (issue 15;
// docs/operations.md): finding the run meant, telling whether its
// coordinator is still there, and asking that coordinator over its control
// socket, from its machine or another one.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/audit/audit_store.h"
#include "common/audit/liveness.h"
#include "common/core/status.h"
#include "sluice/v1/control.pb.h"

namespace sluice::cli {

// A run of the audit store with its coordinator's record and the status to
// show (ShownStatus: `interrupted` when its coordinator is gone).
struct SupervisedRun {
  RunRecord run;
  std::optional<CoordinatorRecord> coordinator;
  std::string status;
  bool running() const { return status == "running"; }
};

// The run `run_id` of `audit`; with no id, the most recent running one, else
// the most recent. NotFound when there is none.
Result<SupervisedRun> FindRun(AuditStore& audit, const std::string& run_id,
                              const LivenessProbe& probe);

// The last progress snapshot the run's coordinator recorded, with the
// status shown for the run; nullopt when it recorded none.
std::optional<v1::RunProgress> RecordedProgress(const SupervisedRun& run);

// Where this machine reaches the coordinator of `record`: its control
// endpoint with a wildcard host (tcp://0.0.0.0:5570) replaced by 127.0.0.1
// on its own host, by its host name elsewhere.
std::string ReachableEndpoint(const CoordinatorRecord& record, const std::string& this_host);

// A sealed run's coordinator answers only the run's supervisor key, which
// it leaves in STATE_DIR/supervise/RUN/ (curve_keys.h): seals this process
// with it, so that AskStatus and AskHalt reach that coordinator. Nothing for
// a plaintext run (no keys there).
Status UseSupervisionKeys(const std::string& state_dir, const std::string& run_id);

// Asks the coordinator at `endpoint` for the progress of `run_id` (empty:
// its run). Unavailable when it does not answer within `timeout`.
Result<v1::RunProgress> AskStatus(const std::string& endpoint, const std::string& run_id,
                                  std::chrono::milliseconds timeout);

// Asks the coordinator at `endpoint` to halt; its answer, or Unavailable
// when it does not answer within `timeout`.
Result<v1::HaltReply> AskHalt(const std::string& endpoint, const v1::HaltRequest& request,
                              std::chrono::milliseconds timeout);

// "user@host", for the record of who halted a run.
std::string WhoAmI();

}  // namespace sluice::cli
