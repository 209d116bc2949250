// The lease book: every lease the coordinator gives out, under which epoch,
// and to whom. Each lease carries a fresh epoch, greater than every earlier
// one of the run; a batch leased again (its worker died) gets a new epoch,
// and commits at the old one are refused from then on (DESIGN.md §5.4).
//
// Leases wait in the book until a worker that may take them is ready
// (Assign); the book remembers which worker holds each epoch, so that a
// commit answering a lease is accepted only from its holder (Admit).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/core/stage.h"
#include "common/core/status.h"
#include "coordinator/roster.h"
#include "sluice/v1/control.pb.h"

namespace sluice::coordination {

class LeaseBook {
 public:
  // Epochs start after `last_epoch`: a coordinator that continues a run
  // (issue 15) passes the highest epoch the run used, so that nothing the
  // dead coordinator leased can commit under the new one.
  explicit LeaseBook(uint64_t last_epoch = 0) : last_epoch_(last_epoch) {}

  // ---- epochs ----

  // A new epoch, greater than every earlier one.
  uint64_t NextEpoch() { return ++last_epoch_; }
  uint64_t last_epoch() const { return last_epoch_; }

  // An extraction lease (KIND_EXTRACT_SOURCE) of the source of `first`
  // (its run, wave, entity and source) from `from`, numbering its batches
  // from `first.sequence()` on, under a new epoch, queued for an extractor.
  // Batches from that sequence on carry this epoch from now on.
  uint64_t LeaseStream(const v1::BatchId& first, const v1::BatchRange& from);
  // The epoch of the latest extraction lease of the stream of `id` (only it
  // may end the stream); 0 when none.
  uint64_t StreamEpoch(const v1::BatchId& id) const;
  // A new epoch for the resolve of the entity of `id`; its earlier
  // resolve's epoch is stale from now on.
  uint64_t OpenResolve(const v1::BatchId& id);
  // The epoch of the current resolve of the entity of `id`; 0 when none.
  uint64_t ResolveEpoch(const v1::BatchId& id) const;
  // Batch `id` leased again under a new epoch: a lease of `kind` for it
  // (not queued; its range and recipient are the caller's).
  v1::Lease Reissue(const v1::BatchId& id, v1::Lease::Kind kind);
  // The epoch a commit at `stage` about batch `id` must carry: the current
  // resolve's for the resolve and its rounds; else the batch's latest
  // re-lease's, its stream's, or (a deduper output batch) its entity's
  // resolve's. 0 when nothing of it was leased.
  uint64_t ExpectedEpoch(Stage stage, const v1::BatchId& id) const;
  // Forgets the streams and resolve of the entity of `id` (it finished).
  void ForgetEntity(const v1::BatchId& id);

  // ---- pending leases ----

  // Queues `lease` for a worker of role `to`, or for the worker `to`
  // ("deduper-1").
  void Queue(std::string to, v1::Lease lease);
  size_t pending() const { return pending_.size(); }
  // Hands every queued lease that can go to a worker now: each to one of
  // roster.Ready(to), in rotation, who holds its epoch from then on. The
  // others stay queued, in order. Returns (identity, lease) to send.
  std::vector<std::pair<std::string, v1::Lease>> Assign(const Roster& roster);
  // Whether `identity` was handed a lease under `epoch`.
  bool Holds(const std::string& identity, uint64_t epoch) const;

  // ---- admission ----

  // Whether `sender` may commit at `stage` under `epoch`, for dedup shard
  // `dedup_shard`: a worker of the run, of the stage's role (a dedup shard
  // commits only as itself), and, for a stage that answers a lease
  // (stage.h), the holder of that epoch's lease. The epoch's freshness is
  // ExpectedEpoch's. FailedPrecondition, saying why, otherwise.
  //
  // A worker written off for silence may still be running: what it held
  // was leased again under new epochs, so its late commits of that are
  // stale, but what it took in since at a current epoch (a dedup shard
  // ingesting a batch extracted again) is real and is accepted; nothing
  // would lease it again when the process is replaced. Issue 22 refuses
  // such a worker (and extends this check to every control message) once
  // the replacement's recovery covers what it took in after its write-off.
  Status Admit(const Worker* sender, Stage stage, uint64_t epoch, uint32_t dedup_shard) const;

 private:
  using EntityKey = std::tuple<std::string, uint32_t, std::string>;  // run, wave, entity
  using StreamKey = std::tuple<std::string, uint32_t, std::string, std::string>;  // + source
  static EntityKey EntityOf(const v1::BatchId& id);
  static StreamKey StreamOf(const v1::BatchId& id);

  uint64_t last_epoch_;
  // Per stream, the epoch of each extraction lease and the first sequence
  // it produced: (first_sequence, epoch), in lease order.
  std::map<StreamKey, std::vector<std::pair<uint64_t, uint64_t>>> streams_;
  std::map<EntityKey, uint64_t> resolves_;
  std::map<std::string, uint64_t> reissued_;  // BatchName -> epoch of its latest re-lease
  std::deque<std::pair<std::string, v1::Lease>> pending_;  // (role or identity, lease)
  size_t rotation_ = 0;
  std::map<uint64_t, std::set<std::string>> holders_;  // epoch -> identities handed it
};

}  // namespace sluice::coordination
