// The roster: the workers a run needs (one per role and ordinal, identity
// "<role>-<ordinal>"), which of them are registered and alive, their
// processes, endpoints and generations. A worker is alive from its
// registration until it is written off: its process was reaped or replaced,
// or it stayed silent (no message on its control or heartbeat socket) for
// longer than the worker timeout. Time comes from the caller (a Clock), so
// liveness is tested without sleeping. Not thread-safe.
//
// What `sluice status` shows of the workers (issue 15) is read from here:
// role, ordinal, pid, alive, last heartbeat, liveness, restarts.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/runtime/clock.h"
#include "sluice/v1/control.pb.h"

namespace sluice::coordination {

// A worker of the run, as the coordinator knows it.
struct Worker {
  std::string identity;  // "<role>-<ordinal>"
  std::string role;
  uint32_t ordinal = 0;
  std::string endpoint;         // its data endpoint; a replacement serves there too
  std::string member_endpoint;  // a dedup shard's member socket (deduper/member_exchange.h)
  std::string key;              // its CURVE public key, as its handshake proved; "" in plaintext
  uint32_t pid = 0;             // its process, as launched or registered
  std::string host;             // its machine, as it registered (`sluice status`)
  bool alive = false;           // registered and not written off since
  bool replied = false;         // has its RegisterReply: it may be given leases
  int generation = 0;           // processes written off so far (test faults hit the 0th)
  Clock::TimePoint last_seen;   // its last message, on either socket
};

struct RosterOptions {
  // How often workers heartbeat (WorkerOptions::heartbeat): the unit of a
  // worker's liveness.
  std::chrono::milliseconds heartbeat{500};
  // Silence after which a live worker is written off.
  std::chrono::milliseconds worker_timeout{5000};
};

class Roster {
 public:
  // `replicas`: role -> workers of the role (default 1; the reconciler is
  // always one).
  Roster(const std::map<std::string, uint32_t>& replicas, RosterOptions options);

  // The worker `identity`, or null when the run has none.
  Worker* Find(const std::string& identity);
  const Worker* Find(const std::string& identity) const;
  // Every worker, by identity.
  const std::map<std::string, Worker>& workers() const { return workers_; }

  // ---- registration ----

  enum class Registration {
    kUnknown,       // no such worker in the run: refused
    kRetry,         // the registered process asked again after its reply
    kNew,           // the first process, or one after the last was written off
    kReplacesLive,  // another process while the registered one is alive
  };
  // What a Register from `identity` is; changes nothing.
  Registration Classify(const std::string& identity, const v1::Register& reg) const;
  // Takes the process of `reg` (classified kNew, or kReplacesLive once the
  // old one was written off) as the worker's: alive, seen at `now`, its
  // reply still to send, its endpoints as it announced them (a data
  // endpoint it left empty keeps the one before). Returns whether it counts
  // as a restart: a later generation, or a replacement.
  bool Admit(const std::string& identity, const v1::Register& reg, Registration how,
             Clock::TimePoint now, const std::string& key = "");
  // The worker's RegisterReply went out: it may be given leases.
  void MarkReplied(const std::string& identity);
  // A locally launched worker's process.
  void SetPid(const std::string& identity, uint32_t pid);
  // Every worker is alive.
  bool AllRegistered() const;
  // The identities not alive, "a, b".
  std::string Missing() const;

  // ---- liveness ----

  // A message from `identity` at `now` (a heartbeat or anything else).
  void Seen(const std::string& identity, Clock::TimePoint now);
  // Heartbeats the worker may still miss at `now` before it is written
  // off: the liveness counter of the zguide's Paranoid Pirate, derived from
  // the time since its last message. 0 or less: due for write-off.
  int Liveness(const Worker& worker, Clock::TimePoint now) const;
  // The live workers silent for longer than the worker timeout at `now`,
  // in identity order. Each is written off (WriteOff) by the caller.
  std::vector<std::string> Silent(Clock::TimePoint now) const;
  // The coordinator itself was busy for `deaf`, up to `now`, and read no
  // message meanwhile: that time does not count as the workers' silence.
  void Excuse(Clock::Duration deaf, Clock::TimePoint now);
  // The worker's process is gone or no longer believed: it is dead until a
  // process registers again. Returns whether it was alive.
  bool WriteOff(const std::string& identity);
  // Counts one more written-off process of `identity`; returns the count.
  int NextGeneration(const std::string& identity);

  // ---- who serves what ----

  // The workers leases may go to now for `to` (a role, or one identity):
  // alive and replied, in identity order.
  std::vector<const Worker*> Ready(const std::string& to) const;
  // The live workers of `role` ("" for every role), in identity order.
  std::vector<std::string> Alive(const std::string& role = "") const;
  // The data endpoints `role` pulls its input from: those of its upstream
  // role's workers that announced one (stage.h's topology).
  std::vector<std::string> UpstreamEndpoints(const std::string& role) const;
  // The workers behind UpstreamEndpoints, in the same order.
  std::vector<const Worker*> Upstream(const std::string& role) const;
  // The CURVE public keys of the workers that registered with one.
  v1::PeerKeys PeerKeys() const;
  // The dedup shards' member endpoints, by ordinal (`shards` entries).
  std::vector<std::string> MemberEndpoints(uint32_t shards) const;
  // Their CURVE public keys, by ordinal ("" for a shard with none).
  std::vector<std::string> MemberKeys(uint32_t shards) const;

 private:
  // `field` of each dedup shard, by ordinal.
  std::vector<std::string> DedupShardField(uint32_t shards, std::string Worker::*field) const;

  RosterOptions options_;
  std::map<std::string, Worker> workers_;
};

}  // namespace sluice::coordination
