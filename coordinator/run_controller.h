// The coordinator's run: registers workers, leases work wave by wave, keeps
// the ledger, recovers from dead workers and halts on the first record that
// cannot be accounted for.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/status.h"
#include "common/plan/plan.h"
#include "common/runtime/curve_keys.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

struct RunOptions {
  bool local = true;                               // start the workers as child processes
  std::string control_bind = "tcp://127.0.0.1:*";  // where workers register
  std::string bin_dir;                             // worker executables ("" = beside sluice)
  std::map<std::string, uint32_t> replicas;        // role -> count (default 1 each)
  std::map<std::string, std::string> faults;       // test-only: role -> fault spec
  std::chrono::seconds stall_timeout{120};         // no progress for this long halts the run
  std::chrono::seconds register_timeout{60};       // workers must register within this
  std::chrono::milliseconds worker_timeout{5000};  // heartbeat silence = dead worker
  int max_restarts = 5;                            // per worker, before the run halts
  std::string log_level = "info";
  std::string environment = "default";  // recorded when the plan names none
  // `sluice resume`: the run this one continues, and its first wave to run
  // (the waves before it reconciled in that run).
  std::string resumed_from;
  int start_wave = 0;
  // The end of the production window the run started in: the run pauses at
  // the first batch boundary after it. Unset: no window (or --ignore-window).
  std::optional<std::chrono::system_clock::time_point> window_closes_at;
  std::string window_text;  // "03:00-06:00 America/New_York", for the pause reason
  // CurveZMQ (docs/architecture.md#security): the coordinator's key pair and
  // the public keys of the workers it admits (public key -> name), from the
  // deployment (`--key`, `--authorized-keys`), never from the plan. None:
  // plaintext, refused on a non-loopback --bind unless `insecure`. A local
  // run ignores both and makes ephemeral keys for itself and each child.
  std::optional<CurveKeyPair> keys;
  std::map<std::string, std::string> authorized_keys;
  bool insecure = false;
  // `sluice run --full` (issue 18): every row of the incremental sources is
  // extracted, whatever their marks; the marks are raised after it all the same.
  bool full = false;

  // ---- supervision (issue 15; docs/operations.md) ----

  // `sluice resume` of an interrupted run (its coordinator died): that run's
  // id. The run continues in place under a new coordinator, from what is
  // durable: completed waves and finished entities are kept, the entities
  // in flight are accounted afresh (their shard logs and the target's
  // cross-reference make the replay cheap and idempotent).
  std::string continue_run;
  // Called on the coordinator's thread with the run's progress about every
  // `progress_every`, and once more when it ends (`sluice run`'s display).
  std::function<void(const v1::RunProgress&)> on_progress;
  std::chrono::milliseconds progress_every{250};
  // Set to a signal number (SIGINT, SIGTERM) by the command's handler: the
  // run halts as by `sluice halt`. Not owned.
  const std::atomic<int>* interrupted = nullptr;
};

// One row of the summary: an entity from one source.
struct EntitySourceSummary {
  std::string entity;
  std::string source;
  int wave = 0;
  uint64_t extracted = 0, merged = 0, rejected = 0, review = 0, loaded = 0;
  uint64_t inserted = 0, updated = 0, unchanged = 0;
  bool reconciled = false;
  std::string ri_check = "n/a";        // the entity's reference check: PASS, FAIL or n/a
  uint64_t unresolved_references = 0;  // of the entity, in the whole target
  // False: the run stopped (halted or paused) before the entity finished;
  // the figures are those reached, and conservation is not yet decided.
  bool finished = true;
  // The source's merged records reach a loaded row (issue 14): PASS, FAIL
  // or n/a (none merged, or not reconciled).
  std::string survivor_check = "n/a";
  uint64_t unresolved_survivors = 0;  // merged records of the source that reach no row
  // Delta runs (issue 18): the mark the source was extracted above ("" all
  // of it), the rows read and left out as not above it (file sources), and
  // the keys found deleted at the source (deleted_at_source fates).
  std::string mark;
  uint64_t skipped = 0;
  uint64_t deleted = 0;
  // Incremental dedup (issue 18 item 3): of `extracted`, the records read by
  // key because the delta shares their blocks or clusters (residents).
  uint64_t residents = 0;
};

struct RunSummary {
  std::string run_id;
  // completed | halted | paused (the production window closed) |
  // superseded (another coordinator continued the run, believing this one
  // dead: this one stopped its workers and left the run to it)
  std::string status;
  std::string environment;
  std::string resumed_from;  // the run this one continues, if any
  int start_wave = 0;
  std::string halt_reason;
  std::vector<EntitySourceSummary> rows;
  std::vector<std::string> reports;         // reconciliation report paths
  std::vector<std::string> reconciliation;  // per wave, human-readable verdicts
  // The plan's waves by outcome: reconciled (here, or "NAME (in RUN)" in the
  // run this one resumed) and not reconciled.
  std::vector<std::string> waves_reconciled;
  std::vector<std::string> waves_not_reconciled;
  double seconds = 0;
  int restarts = 0;
  int generation = 1;  // the coordinator's: 2 and up when it continued an interrupted run
};

// Runs `plan` to completion or halt. Errors are setup failures (the audit
// store cannot be opened, workers never register); a halted run is a
// summary with status "halted", not an error.
Result<RunSummary> RunPlan(const Plan& plan, const RunOptions& options);

// The summary as a readable table, and as the `--json` object.
std::string SummaryText(const RunSummary& summary);
std::string SummaryJson(const RunSummary& summary);

}  // namespace sluice
