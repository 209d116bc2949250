// The source side of a wave's reconciliation, sent to the reconciler over
// its control socket (issue 22: no process reads another's files; the
// reconciler never opens audit.db), and the checks of what it answers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/audit/audit_store.h"
#include "common/core/status.h"
#include "sluice/v1/control.pb.h"

namespace sluice::coordination {

// Reads a wave's ledger rows, fates and decimal sums from the audit store,
// entity by entity in the plan's order, one chunk of at most `chunk_fates`
// fates at a time, as the reconciler grants credit: the coordinator holds
// one chunk, ZeroMQ at most the credit. Warnings are not sent (they are no
// fates of their own). Not thread-safe.
class ReconcileFeed {
 public:
  static constexpr size_t kChunkFates = 4096;
  // Credit the reconciler may hold at once; more is not granted.
  static constexpr uint32_t kMaxCredit = 16;

  // What the feed sent of one entity, which the reconciler's claims must
  // match (CheckReconcileClaims).
  struct Sent {
    uint64_t fates = 0;
    uint64_t checksum = 0;  // KeyChecksum of their (source, key)
    uint64_t loaded = 0;    // LOADED fates: rows the target must hold
  };

  // `audit` is not owned and outlives the feed.
  ReconcileFeed(AuditStore* audit, std::string run_id, int wave, std::vector<std::string> entities,
                uint64_t epoch, size_t chunk_fates = kChunkFates);

  uint64_t epoch() const { return epoch_; }
  void Grant(uint32_t credits);
  // Whether a chunk may be sent now: credit left and the wave not all sent.
  bool CanSend() const { return credit_ > 0 && !done_; }
  // The next chunk, spending one credit; fails when the audit store cannot
  // be read.
  Result<v1::ReconcileInput> Next();
  // Every chunk of the wave was sent.
  bool done() const { return done_; }
  const std::map<std::string, Sent>& sent() const { return sent_; }

 private:
  AuditStore* audit_;
  std::string run_id_;
  int wave_;
  std::vector<std::string> entities_;
  uint64_t epoch_;
  size_t chunk_fates_;
  uint32_t credit_ = 0;
  uint64_t sequence_ = 0;
  size_t entity_ = 0;  // the entity being sent
  bool entity_begun_ = false;
  int64_t after_ = 0;  // the last fate row sent of it
  bool done_ = false;
  std::map<std::string, Sent> sent_;
};

// Whether a reconciler's result adds up against what `feed` sent it: every
// chunk was sent; per entity, the fates it says it received (count and key
// checksum) and the rows it expected are those sent; a pass claims every
// expected row matched in the target and no difference. FailedPrecondition
// naming the first claim that does not, else Ok. A failure is believed as
// it is (it halts the run anyway).
Status CheckReconcileClaims(const ReconcileFeed& feed, const v1::ReconcileResult& result);

}  // namespace sluice::coordination
