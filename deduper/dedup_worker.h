// The deduper stage, one shard: ingests batches into a durable shard log,
// then, on the coordinator's RESOLVE lease, decides and emits survivors. On
// N > 1 shards a resolve is four rounds (docs/dedup.md#scale-out), the last
// one fetching cluster members from other shards (member_exchange.h).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/core/log.h"
#include "common/core/stage.h"
#include "common/runtime/worker.h"
#include "deduper/dedup.h"
#include "deduper/member_exchange.h"
#include "deduper/resolve_writer.h"
#include "deduper/shard_map.h"

namespace sluice {

class DedupLogic : public StageLogic {
 public:
  std::string stage() const override { return std::string(StageName(Stage::kDedupOutput)); }
  // Starts the member server and puts its endpoint in the registration.
  Status Prepare(const WorkerOptions& options, v1::Register* reg) override;
  Status Start(const WorkerContext& ctx) override;
  Status OnBatch(RecordBatch batch, StageEmitter& out) override;
  // The shard log keeps the batch as it arrived (not encoded again).
  Status OnWireBatch(const v1::RecordBatch& received, RecordBatch batch,
                     StageEmitter& out) override;
  Status OnLease(const v1::Lease& lease, StageEmitter& out) override;
  Result<bool> Produce(StageEmitter& out) override;

 private:
  Result<DedupShard*> ShardFor(const v1::BatchId& id);
  // RESOLVE rounds 1-4 of a multi-shard resolve.
  Status OnRound(const v1::Lease& lease, DedupShard* shard, StageEmitter& out);
  // The pre-round before round 1 (shard_preround_worker.cc): claims, wants,
  // rows (docs/dedup.md#guests-by-request).
  Status PreRound(const v1::Lease& lease, DedupShard* shard, StageEmitter& out);
  // The rows step: publish this shard's rows, fetch and take the others'.
  // False when a peer did not answer (the coordinator leases it again).
  Result<bool> TakeRows(const v1::Lease& lease, DedupShard* shard);
  // Whether `entity` resolves with a pre-round: a fuzzy spec on N > 1 shards.
  bool AsksForGuests(const std::string& entity) const;
  // Round 4: publish what other shards need of this one, fetch what this
  // one needs of them, cluster and commit (or, `rebuild`, only rebuild).
  Status MemberRound(const v1::Lease& lease, DedupShard* shard, StageEmitter& out);
  // The dedup_resolve commit of a resolution queued in parts, then its
  // output.
  void CommitResolution(const std::string& name, const v1::BatchId& id, uint64_t epoch,
                        Resolution res);
  // Queues output batches of a resolution for Produce.
  void Schedule(const std::string& name, uint64_t epoch, std::optional<uint64_t> only_sequence);
  struct Pending {
    std::string resolution;
    size_t index;
    uint64_t epoch;
  };
  std::deque<Pending> to_emit_;
  uint64_t outputs_started_ = 0;       // output batches emitted (a test fault counts them)
  std::deque<ResolveWriter> sending_;  // resolutions whose parts are being sent
  uint64_t parts_sent_ = 0;            // resolve parts sent (a test fault counts them)

  WorkerContext ctx_;
  ShardMap shards_;
  std::map<std::string, std::unique_ptr<DedupShard>> shards_by_name_;  // by wave/entity
  std::map<std::string, Resolution> resolved_;                         // kept for RESEND
  std::map<std::string, uint64_t> resolved_epoch_;  // the epoch each resolution answered
  // The resolve epoch whose guest rows this process took, by resolution.
  std::map<std::string, uint64_t> rows_epoch_;
  std::unique_ptr<MemberServer> members_;
  std::string member_endpoint_;  // as announced to the coordinator
  LogContext log_;
};

}  // namespace sluice
