// The worker runtime shared by every stage executable: registration with the
// coordinator, heartbeats, the credit-based input and output channels, and
// the dispatch of batches and leases to the stage's logic.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/log.h"
#include "common/core/record.h"
#include "common/core/status.h"
#include "common/plan/plan.h"
#include "common/runtime/clock.h"
#include "common/runtime/curve_keys.h"
#include "common/runtime/test_fault.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

struct WorkerOptions {
  std::string role;                        // "transformer"
  uint32_t ordinal = 0;                    // replicas and shards: 0, 1, ...
  std::string coordinator;                 // control endpoint, e.g. tcp://10.0.0.5:5570
  std::string bind = "tcp://127.0.0.1:*";  // this worker's data endpoint (producers)
  std::string advertise;  // the endpoint consumers connect to, when not `bind` (NAT, DNS)
  // A dedup shard's member socket (deduper/member_exchange.h); empty: a
  // port of its own on the interface of `bind`.
  std::string member_bind;
  uint32_t credits = 4;     // input batches requested at a time
  uint32_t max_queued = 6;  // output batches buffered before input pauses
  std::chrono::milliseconds heartbeat{500};
  std::chrono::seconds coordinator_timeout{20};  // silence before giving up
  // CurveZMQ (docs/architecture.md#security): this worker's key pair and
  // the coordinator's public key (Z85); no keys: plaintext sockets.
  std::optional<CurveKeyPair> keys;
  std::string coordinator_key;
  bool insecure = false;  // plaintext allowed on a non-loopback --bind (warned at start)
  // A worker whose coordinator is gone (silent for coordinator_timeout, or a
  // new coordinator asked it to register: issue 15) starts afresh as the
  // same command and waits this long for a coordinator to register with
  // (`--rejoin-timeout`; 0: it exits instead). Local workers (their key pair
  // from the environment) exit: they die with their coordinator, and one that
  // is alive but silent starts them again.
  std::chrono::seconds rejoin_timeout{600};
  // Started afresh after losing its coordinator (`--rejoin`): registration
  // waits up to rejoin_timeout instead of coordinator_timeout.
  bool rejoining = false;
  // The worker's command line, to start afresh with (ParseWorkerFlags).
  std::vector<std::string> command_line;
  std::string identity() const { return role + "-" + std::to_string(ordinal); }
};

// What a worker learns when it registers.
struct WorkerContext {
  std::string run_id;
  Plan plan;
  uint32_t shard = 0;
  uint32_t shard_count = 1;
  std::string state_dir;
  TestFaults faults;  // test-only fault injection (none normally)
  std::string identity;
  v1::ReviewDecisions review_decisions;  // steward decisions of the plan (docs/review.md)
  // Dedup scale-out (docs/dedup.md#scale-out): the run's dedup shards, to
  // which transformers route records by key, and the virtual shard map.
  uint32_t dedup_shards = 1;
  std::vector<uint32_t> dedup_shard_map;
};

// Collects a stage's effects for the runtime to send.
class StageEmitter {
 public:
  // Queues a batch for downstream consumers of `shard`.
  void Emit(uint32_t shard, const RecordBatch& batch);
  void Commit(v1::Commit commit);
  void Send(v1::Envelope message);

  // For the runtime: what the stage emitted, in order.
  std::vector<std::pair<uint32_t, std::string>>& batches() { return batches_; }
  std::vector<v1::Envelope>& messages() { return messages_; }

 private:
  std::vector<std::pair<uint32_t, std::string>> batches_;
  std::vector<v1::Envelope> messages_;
};

// One stage's logic. Implementations live in the stage's library.
class StageLogic {
 public:
  virtual ~StageLogic() = default;
  virtual std::string stage() const = 0;
  virtual bool consumes() const { return true; }
  virtual bool produces() const { return true; }
  // Called once before registration: a stage that serves more than its
  // data socket binds it here and says where in `reg` (a dedup shard's
  // member socket).
  virtual Status Prepare(const WorkerOptions& options, v1::Register* reg) { return Status::Ok(); }
  // Called once after registration.
  virtual Status Start(const WorkerContext& ctx) = 0;
  // One input batch from upstream.
  virtual Status OnBatch(RecordBatch batch, StageEmitter& out);
  // The same with the wire form it was decoded from, for a stage that keeps
  // the batch as it arrived (a dedup shard's log); OnBatch by default.
  virtual Status OnWireBatch(const v1::RecordBatch& received, RecordBatch batch,
                             StageEmitter& out) {
    return OnBatch(std::move(batch), out);
  }
  // A lease or command from the coordinator.
  virtual Status OnLease(const v1::Lease& lease, StageEmitter& out);
  // Called while output has room; returns true while more remains to produce.
  virtual Result<bool> Produce(StageEmitter& out) { return false; }
  // A control message the runtime does not handle itself (e.g. a
  // ValidationRelease, ParentFates, ReconcileInput); Produce is called
  // afterwards.
  virtual Status OnControl(const v1::Envelope& message, StageEmitter& out) { return Status::Ok(); }
  // Called on every turn of the worker's loop (at least every 50 ms) until
  // the run halts: a stage that finishes batches in the background (the
  // loader's pipelined loads) emits what has finished. An error is reported
  // as fatal, without a batch.
  virtual Status OnTick(StageEmitter& out) { return Status::Ok(); }
  // The run halted: drop input, produce nothing more.
  virtual void OnHalt(const std::string& reason) {}
};

// Fills the counts, checksums and key lists of a commit from a stage's input
// batch, its passed-on records and its fates.
v1::Commit MakeCommit(const std::string& stage, const RecordBatch& in,
                      const std::vector<Record>& passed, const std::vector<v1::Fate>& fates);
// "source\x1fkey", the form of out_keys.
std::string JoinKey(const std::string& source, const std::string& key);

class ControlChannel;  // common/runtime/transport.h

// What the worker runtime takes from its surroundings, after LevelDB's Env:
// the defaults are the real clock and ZeroMQ control sockets; tests pass a
// ManualClock and in-memory channels. The data channels stay ZeroMQ.
struct WorkerEnv {
  // Opens a control channel to the coordinator for `identity`.
  using OpenControl =
      std::function<Result<std::unique_ptr<ControlChannel>>(const std::string& identity)>;

  // Every time the runtime reads or waits for (registration, heartbeats,
  // credit resync, coordinator silence). Not owned; outlives the worker.
  Clock* clock = &SystemClock();
  // Called once on the runtime's thread with the worker's identity, and
  // once on the heartbeat thread with "<identity>/hb" (a socket never
  // crosses threads). Empty: a ControlClient to WorkerOptions::coordinator.
  OpenControl open_control;
};

// Runs a worker in `env` until the coordinator shuts it down (Ok) or it
// cannot go on (why: no coordinator, coordinator silent, a broken channel);
// logs the reason, as the edge of the worker.
Status ServeWorker(const WorkerOptions& options, StageLogic& logic, const WorkerEnv& env);

// Seals the process as `options` say (seal.h), then ServeWorker with the
// real clock and sockets; returns the process exit code. When the
// coordinator is lost (silent, or it asked the worker to register again),
// the process executes its own command line again with --rejoin, so that it
// registers, with a clean state, with the coordinator that continues the run
// (issue 15).
int RunWorker(const WorkerOptions& options, StageLogic& logic);

// Whether ServeWorker ended because the coordinator was lost: silent for
// coordinator_timeout, or asking the worker to register again (Rejoin).
bool LostCoordinator(const Status& status);

// Parses the common worker flags (--coordinator, --ordinal, --bind,
// --log-level, --key, --coordinator-key, --insecure) for a stage main;
// exits with usage on error. A worker `sluice run --local` starts takes its
// key pair and the coordinator's key from the environment
// (SLUICE_CURVE_SECRET_KEY, removed once read, and SLUICE_COORDINATOR_KEY).
WorkerOptions ParseWorkerFlags(const std::string& role, int argc, char** argv);

}  // namespace sluice
