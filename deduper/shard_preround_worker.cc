// The pre-round of a multi-shard resolve in the deduper stage
// (docs/dedup.md#guests-by-request): the coordinator relays the claims and
// the wants; the guest rows go shard to shard over the member socket.
#include <signal.h>

#include "deduper/dedup_worker.h"
#include "deduper/guest_rows.h"
#include "deduper/shard_preround.h"

namespace sluice {

bool DedupLogic::AsksForGuests(const std::string& entity) const {
  if (shards_.single()) return false;
  auto it = ctx_.plan.dedup.find(entity);
  return it != ctx_.plan.dedup.end() && it->second.fuzzy();
}

Status DedupLogic::PreRound(const v1::Lease& lease, DedupShard* shard, StageEmitter& out) {
  v1::Commit c;
  *c.mutable_batch() = lease.batch();
  const std::string source = "dedup/" + std::to_string(ctx_.shard);
  c.set_epoch(lease.epoch());
  c.set_dedup_shard(ctx_.shard);
  switch (lease.dedup_round()) {
    case preround::kClaimRound: {
      SLUICE_ASSIGN_OR_RETURN(auto claims, preround::ClaimBlocks(*shard, shards_));
      for (v1::DedupKeyClaims& claim : claims) *c.add_dedup_key_claims() = std::move(claim);
      c.set_stage(std::string(StageName(Stage::kDedupClaims)));
      c.mutable_batch()->set_source(source + "/claims");
      break;
    }
    case preround::kWantRound: {
      const std::vector<v1::DedupKeyClaims> claims(lease.dedup_key_claims().begin(),
                                                   lease.dedup_key_claims().end());
      SLUICE_ASSIGN_OR_RETURN(*c.mutable_dedup_guest_wants(),
                              preround::WantGuests(*shard, shards_, claims));
      c.set_stage(std::string(StageName(Stage::kDedupWants)));
      c.mutable_batch()->set_source(source + "/wants");
      break;
    }
    case preround::kRowRound: {
      SLUICE_ASSIGN_OR_RETURN(bool taken, TakeRows(lease, shard));
      if (!taken) return Status::Ok();  // leased again with the peer's replacement
      c.set_stage(std::string(StageName(Stage::kDedupGuests)));
      c.mutable_batch()->set_source(source + "/guests");
      break;
    }
    default:
      return Status::InvalidArgument("dedup resolve round " + std::to_string(lease.dedup_round()) +
                                     " does not exist");
  }
  out.Commit(std::move(c));
  return Status::Ok();
}

Result<bool> DedupLogic::TakeRows(const v1::Lease& lease, DedupShard* shard) {
  const std::string name = std::to_string(lease.batch().wave()) + "-" + lease.batch().entity();
  auto done = rows_epoch_.find(name);
  if (done != rows_epoch_.end() && done->second == lease.epoch()) return true;  // leased again
  // What the owners want of this shard first: they may be asking already.
  const std::vector<v1::DedupGuestWants> wants(lease.dedup_guest_wants().begin(),
                                               lease.dedup_guest_wants().end());
  SLUICE_ASSIGN_OR_RETURN(auto serve, preround::GuestsFor(*shard, shards_, wants));
  uint64_t served = 0;
  for (const auto& [owner, batches] : serve) {
    for (const RecordBatch& b : batches) served += guest::Count(b.guest_rows);
  }
  if (members_) members_->PublishGuests(name, lease.epoch(), std::move(serve));
  // Test-only fault (`--test-fault deduper-1:sigkill_in_preround`): dies
  // with its rows published, maybe while a peer fetches them.
  if (ctx_.faults.sigkill_in_preround) raise(SIGKILL);
  std::vector<RecordBatch> rows;
  for (uint32_t peer = 0; peer < shards_.count(); ++peer) {
    if (peer == ctx_.shard) continue;
    Result<std::vector<RecordBatch>> got =
        Status::Unavailable("no member endpoint for dedup shard " + std::to_string(peer));
    if (peer < static_cast<uint32_t>(lease.dedup_peers_size()) &&
        !lease.dedup_peers(peer).empty()) {
      v1::DedupMemberRequest request;
      request.set_resolution(name + "/guests");
      request.set_epoch(lease.epoch());
      request.set_shard(ctx_.shard);
      const std::string key = peer < static_cast<uint32_t>(lease.dedup_peer_keys_size())
                                  ? lease.dedup_peer_keys(peer)
                                  : "";
      got = FetchGuests(lease.dedup_peers(peer), key, request, std::chrono::seconds(10));
    }
    if (!got.ok() && got.status().code() == StatusCode::kUnavailable) {
      // A peer died: the coordinator sends the rows again once its
      // replacement registered, with the replacement's endpoint.
      LogWarn(log_, "dedup " + name + " pre-round: " + got.status().message() +
                        "; waiting for the rows again");
      return false;
    }
    SLUICE_RETURN_IF_ERROR(got.status());
    for (RecordBatch& b : *got) rows.push_back(std::move(b));
  }
  uint64_t taken = 0;
  for (const RecordBatch& b : rows) taken += guest::Count(b.guest_rows);
  SLUICE_RETURN_IF_ERROR(preround::TakeGuests(*shard, std::move(rows)));
  rows_epoch_[name] = lease.epoch();
  LogInfo(log_, "dedup " + name + " pre-round: took " + std::to_string(taken) +
                    " guest row(s) from " + std::to_string(shards_.count() - 1) +
                    " shard(s), serves " + std::to_string(served) + " to others");
  return true;
}

}  // namespace sluice
