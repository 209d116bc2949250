#include "deduper/dedup_worker.h"

#include <signal.h>

#include <filesystem>

#include "common/plan/incremental_dedup.h"
#include "common/runtime/codec.h"
#include "common/runtime/endpoint.h"
#include "deduper/population_blocks.h"
#include "validator/validate.h"

namespace sluice {

Status DedupLogic::Start(const WorkerContext& ctx) {
  ctx_ = ctx;
  log_.run = ctx.run_id;
  log_.stage = stage();
  if (members_) {
    LogInfo(log_, "serving cluster members on " + members_->endpoint() + " as " + member_endpoint_);
  }
  shards_ = ShardMap(ctx.dedup_shard_map, ctx.dedup_shards, ctx.shard);
  if (ctx.shard >= shards_.count()) {
    return Status::InvalidArgument("deduper " + std::to_string(ctx.shard) + " is not one of the " +
                                   std::to_string(shards_.count()) + " dedup shards of the run");
  }
  return Status::Ok();
}

Result<DedupShard*> DedupLogic::ShardFor(const v1::BatchId& id) {
  std::string name = std::to_string(id.wave()) + "-" + id.entity();
  auto it = shards_by_name_.find(name);
  if (it != shards_by_name_.end()) return it->second.get();
  std::filesystem::path log = std::filesystem::path(ctx_.state_dir) / "shards" / ctx_.run_id /
                              (name + "-shard" + std::to_string(ctx_.shard) + ".log");
  // Steward decisions on pairs of this entity become forced links and
  // non-links (docs/review.md).
  DedupShardOptions options;
  for (const v1::PairDecision& d : ctx_.review_decisions.pairs()) {
    if (d.entity() != id.entity()) continue;
    options.forced.push_back({{d.source(), d.key()},
                              {d.other_source(), d.other_key()},
                              d.decision() == "match",
                              d.steward()});
  }
  // Survivors are judged as the validator judges them: same steward
  // decisions, same day.
  options.decisions = &ctx_.review_decisions;
  options.today = RunDay(ctx_.run_id);
  // Test-only fault (`--test-fault deduper:elect_invalid_survivors`).
  options.elect_invalid_survivors = ctx_.faults.elect_invalid_survivors;
  SLUICE_ASSIGN_OR_RETURN(
      auto shard, DedupShard::Create(ctx_.plan, id.entity(), log.string(), std::move(options)));
  DedupShard* raw = shard.get();
  shards_by_name_.emplace(name, std::move(shard));
  return raw;
}

Status DedupLogic::OnBatch(RecordBatch batch, StageEmitter& out) {
  v1::RecordBatch wire;
  EncodeBatch(batch, &wire);
  return OnWireBatch(wire, std::move(batch), out);
}

Status DedupLogic::OnWireBatch(const v1::RecordBatch& received, RecordBatch batch,
                               StageEmitter& out) {
  SLUICE_ASSIGN_OR_RETURN(DedupShard * shard, ShardFor(batch.id));
  // The commit first: the records move into the shard.
  // Each shard's ingest is checked on its own (the ledger keys it by shard).
  v1::Commit c = MakeCommit(std::string(StageName(Stage::kDedupIngest)), batch, batch.records, {});
  c.set_dedup_shard(ctx_.shard);
  // Incremental dedup (issue 18 item 3): the records' blocks, stored by the
  // coordinator as the population a later delta run reads residents from.
  auto spec = ctx_.plan.dedup.find(batch.id.entity());
  if (spec != ctx_.plan.dedup.end() && IncrementalDedupBlocker(ctx_.plan, spec->first).empty()) {
    SLUICE_RETURN_IF_ERROR(AddPopulationBlocks(spec->second, shards_, batch, &c));
  }
  // Acknowledged only once the shard log is synced: a replay keeps one copy.
  SLUICE_RETURN_IF_ERROR(shard->IngestReceived(std::move(batch), received).status());
  out.Commit(std::move(c));
  return Status::Ok();
}

void DedupLogic::Schedule(const std::string& name, uint64_t epoch,
                          std::optional<uint64_t> only_sequence) {
  const Resolution& res = resolved_.at(name);
  for (size_t i = 0; i < res.batches.size(); ++i) {
    if (only_sequence && res.batches.sequence(i) != *only_sequence) continue;
    to_emit_.push_back({name, i, epoch});
  }
}

Result<bool> DedupLogic::Produce(StageEmitter& out) {
  // A resolution's parts first, one per call: the coordinator records its
  // decisions before any of its output batches.
  if (!sending_.empty()) {
    // Test-only fault (`--test-fault deduper:sigkill_after_resolve_parts=N`):
    // kill -9 between two parts of a resolution, N sent.
    if (ctx_.faults.sigkill_after_resolve_parts &&
        parts_sent_ == *ctx_.faults.sigkill_after_resolve_parts) {
      raise(SIGKILL);
    }
    ++parts_sent_;
    out.Commit(sending_.front().Next());
    if (sending_.front().done()) sending_.pop_front();
    return true;
  }
  // One output batch per call: downstream starts while the rest waits.
  if (!to_emit_.empty()) {
    // Test-only fault (`--test-fault deduper-1:sigkill_before_output=N`):
    // kill -9 as it starts its N+1th output batch, whatever else it took.
    if (ctx_.faults.sigkill_before_output &&
        outputs_started_++ == *ctx_.faults.sigkill_before_output) {
      raise(SIGKILL);
    }
    Pending p = to_emit_.front();
    to_emit_.pop_front();
    // Held encoded (packed_batches.h): decoded for this send only.
    RecordBatch b = resolved_.at(p.resolution).batches[p.index];
    b.epoch = p.epoch;
    // The loader settles an entity's self-references once all are loaded.
    b.range.set_output_batches(resolved_.at(p.resolution).batches.size());
    b.range.set_output_streams(shards_.count());
    // And every stream's count, which a loader cannot see for itself.
    const std::vector<uint64_t>& streams = resolved_.at(p.resolution).stream_batches;
    b.range.mutable_stream_batches()->Assign(streams.begin(), streams.end());
    // The dedup commit of an output batch: `in` is what leaves the shard.
    v1::Commit c = MakeCommit(stage(), b, b.records, {});
    c.set_dedup_shard(ctx_.shard);
    out.Commit(std::move(c));
    out.Emit(0, b);
  }
  return !to_emit_.empty();
}

void DedupLogic::CommitResolution(const std::string& name, const v1::BatchId& id, uint64_t epoch,
                                  Resolution res) {
  // The resolve commit carries the decisions; in = the records it accounts
  // for (on N shards, those this shard owns).
  v1::Commit c;
  c.set_stage(std::string(StageName(Stage::kDedupResolve)));
  *c.mutable_batch() = id;
  c.mutable_batch()->set_source(id.source() + "/resolve");
  c.set_epoch(epoch);
  c.set_dedup_shard(ctx_.shard);
  KeyChecksum out_sum, fate_sum;
  uint64_t out_n = 0;
  for (size_t i = 0; i < res.batches.size(); ++i) {
    out_n += res.batches.records(i);
    out_sum.AddHash(res.batches.key_checksum(i));
  }
  auto* counts = c.mutable_counts();
  for (const auto& f : res.fates) {
    fate_sum.Add(f.source(), f.key());
    if (f.kind() == v1::FATE_MERGED) counts->set_merged(counts->merged() + 1);
    if (f.kind() == v1::FATE_REJECTED) counts->set_rejected(counts->rejected() + 1);
    if (f.kind() == v1::FATE_REVIEW) counts->set_review(counts->review() + 1);
  }
  v1::MatchSummary* summary = c.mutable_match_summary();
  summary->set_comparisons(res.stats.comparisons);
  summary->set_merge_pairs(res.stats.merge);
  summary->set_review_pairs(res.stats.review);
  summary->set_distinct_pairs(res.stats.distinct);
  for (const std::string& note : res.stats.notes) summary->add_notes(note);
  for (const auto& [floor, pairs] : res.stats.weight_bins) {
    v1::WeightBin* bin = summary->add_weight_bins();
    bin->set_floor(floor);
    bin->set_pairs(pairs);
  }
  summary->set_merge_threshold(res.stats.merge_threshold);
  summary->set_review_threshold(res.stats.review_threshold);
  counts->set_in(res.in);
  counts->set_out(out_n);
  counts->set_out_checksum(out_sum.value());
  KeyChecksum in_sum = out_sum;
  in_sum.Merge(fate_sum);
  counts->set_in_checksum(in_sum.value());
  // The fates, every merge and review decision, the items held for a
  // steward and the golden records go in parts (Produce), before any output
  // batch; an earlier resolve of the same entity still sending is stale.
  std::erase_if(sending_, [&](const ResolveWriter& w) {
    return w.head().batch().entity() == id.entity() && w.head().batch().wave() == id.wave();
  });
  const size_t part_bytes =
      ctx_.faults.resolve_part_bytes ? *ctx_.faults.resolve_part_bytes : ResolveWriter::kPartBytes;
  sending_.emplace_back(std::move(c), res, part_bytes);
  resolved_[name] = std::move(res);
  Schedule(name, epoch, std::nullopt);
}

Status DedupLogic::OnRound(const v1::Lease& lease, DedupShard* shard, StageEmitter& out) {
  const std::string name = std::to_string(lease.batch().wave()) + "-" + lease.batch().entity();
  v1::BatchId id = lease.batch();
  id.set_source("dedup/" + std::to_string(ctx_.shard));
  v1::Commit c;
  *c.mutable_batch() = id;
  c.set_epoch(lease.epoch());
  c.set_dedup_shard(ctx_.shard);
  const uint32_t round = lease.dedup_round();
  if (round > 4) return PreRound(lease, shard, out);
  if (round < 4 && AsksForGuests(lease.batch().entity()) &&
      (!rows_epoch_.count(name) || rows_epoch_[name] != lease.epoch())) {
    // Its pairs would miss the other shards' rows: never compare without.
    return Status::FailedPrecondition("dedup shard " + std::to_string(ctx_.shard) + ": round " +
                                      std::to_string(round) + " of " + name +
                                      " before the pre-round's guest rows");
  }
  switch (round) {
    case 1: {
      SLUICE_ASSIGN_OR_RETURN(*c.mutable_dedup_blocks(), shard->SummarizeBlocks(shards_));
      c.set_stage(std::string(StageName(Stage::kDedupBlocks)));
      c.mutable_batch()->set_source(id.source() + "/blocks");
      break;
    }
    case 2: {
      std::vector<v1::DedupBlocks> blocks(lease.dedup_blocks().begin(), lease.dedup_blocks().end());
      SLUICE_ASSIGN_OR_RETURN(*c.mutable_dedup_patterns(), shard->ComparePairs(shards_, blocks));
      c.set_stage(std::string(StageName(Stage::kDedupPatterns)));
      c.mutable_batch()->set_source(id.source() + "/patterns");
      break;
    }
    case 3: {
      std::vector<v1::DedupBlocks> blocks(lease.dedup_blocks().begin(), lease.dedup_blocks().end());
      std::vector<v1::DedupPatterns> all(lease.dedup_patterns().begin(),
                                         lease.dedup_patterns().end());
      SLUICE_ASSIGN_OR_RETURN(*c.mutable_dedup_edges(), shard->DecidePairs(shards_, blocks, all));
      c.set_stage(std::string(StageName(Stage::kDedupEdges)));
      c.mutable_batch()->set_source(id.source() + "/edges");
      break;
    }
    case 4:
      return MemberRound(lease, shard, out);
    default:
      return Status::InvalidArgument("dedup resolve round " + std::to_string(lease.dedup_round()) +
                                     " does not exist");
  }
  out.Commit(std::move(c));
  return Status::Ok();
}

Status DedupLogic::OnLease(const v1::Lease& lease, StageEmitter& out) {
  std::string name = std::to_string(lease.batch().wave()) + "-" + lease.batch().entity();
  if (lease.kind() == v1::Lease::KIND_RESOLVE) {
    SLUICE_ASSIGN_OR_RETURN(DedupShard * shard, ShardFor(lease.batch()));
    if (lease.dedup_round() != 0) return OnRound(lease, shard, out);
    if (!shards_.single()) {
      return Status::FailedPrecondition("a single-shard resolve sent to one of " +
                                        std::to_string(shards_.count()) + " dedup shards");
    }
    v1::BatchId id = lease.batch();
    id.set_source("dedup/" + std::to_string(ctx_.shard));
    SLUICE_ASSIGN_OR_RETURN(Resolution res,
                            shard->Resolve(id, static_cast<size_t>(ctx_.plan.batch_size)));
    CommitResolution(name, id, lease.epoch(), std::move(res));
    return Status::Ok();
  }
  if (lease.kind() == v1::Lease::KIND_RESEND) {
    auto it = resolved_.find(name);
    if (it == resolved_.end()) {
      if (!shards_.single()) {
        // Deciding needs every shard's edges: the coordinator sends them
        // (a round-4 rebuild lease) before any RESEND to a replacement.
        return Status::FailedPrecondition("dedup shard " + std::to_string(ctx_.shard) +
                                          " has no resolution of " + lease.batch().entity() +
                                          " to resend from");
      }
      // A replacement shard: decide again from the log (deterministic).
      SLUICE_ASSIGN_OR_RETURN(DedupShard * shard, ShardFor(lease.batch()));
      v1::BatchId id = lease.batch();
      id.set_source("dedup/" + std::to_string(ctx_.shard));
      id.set_sequence(0);
      SLUICE_ASSIGN_OR_RETURN(Resolution res,
                              shard->Resolve(id, static_cast<size_t>(ctx_.plan.batch_size)));
      it = resolved_.emplace(name, std::move(res)).first;
    }
    Schedule(name, lease.epoch(), lease.batch().sequence());
    return Status::Ok();
  }
  return Status::InvalidArgument("deduper cannot take this lease");
}

Status DedupLogic::Prepare(const WorkerOptions& options, v1::Register* reg) {
  SLUICE_ASSIGN_OR_RETURN(
      members_, MemberServer::Start(options.member_bind.empty() ? MemberBindFor(options.bind)
                                                                : options.member_bind));
  // Behind NAT or DNS: the host the data endpoint is advertised under.
  std::string advertise;
  const std::string& bound = members_->endpoint();
  if (options.advertise.rfind("tcp://", 0) == 0 && bound.rfind("tcp://", 0) == 0) {
    advertise =
        options.advertise.substr(0, options.advertise.rfind(':')) + bound.substr(bound.rfind(':'));
  }
  member_endpoint_ = AdvertisedEndpoint(bound, advertise, LocalHostName());
  reg->set_dedup_peer_endpoint(member_endpoint_);
  return Status::Ok();
}

Status DedupLogic::MemberRound(const v1::Lease& lease, DedupShard* shard, StageEmitter& out) {
  const std::string name = std::to_string(lease.batch().wave()) + "-" + lease.batch().entity();
  if (lease.dedup_rebuild()
          ? resolved_.count(name) > 0
          : resolved_epoch_.count(name) && resolved_epoch_[name] == lease.epoch()) {
    return Status::Ok();  // still here, or round 4 again after this shard answered it
  }
  // Round 4 needs no guest rows: every shard took its own.
  if (members_) members_->WithdrawGuests(name);
  // What the others need of this shard first: they may be asking already.
  SLUICE_ASSIGN_OR_RETURN(auto serve, shard->MembersFor(shards_, lease.dedup_edges()));
  if (members_) members_->Publish(name, lease.epoch(), serve);
  // Test-only fault (`--test-fault deduper-1:sigkill_in_round4`): dies
  // with its members published, maybe while a peer fetches them.
  if (ctx_.faults.sigkill_in_round4 && !lease.dedup_rebuild()) raise(SIGKILL);
  uint64_t fetched = 0, peers = 0;
  auto fetch = [&](uint32_t peer) -> Result<std::vector<Record>> {
    if (peer >= static_cast<uint32_t>(lease.dedup_peers_size()) ||
        lease.dedup_peers(peer).empty()) {
      return Status::Unavailable("no member endpoint for dedup shard " + std::to_string(peer));
    }
    v1::DedupMemberRequest request;
    request.set_resolution(name);
    request.set_epoch(lease.epoch());
    request.set_shard(ctx_.shard);
    const std::string key = peer < static_cast<uint32_t>(lease.dedup_peer_keys_size())
                                ? lease.dedup_peer_keys(peer)
                                : "";
    auto members = FetchMembers(lease.dedup_peers(peer), key, request, std::chrono::seconds(10));
    if (members.ok()) {
      fetched += members->size();
      ++peers;
    }
    return members;
  };
  v1::BatchId id = lease.batch();
  id.set_source("dedup/" + std::to_string(ctx_.shard));
  id.set_sequence(0);
  const std::vector<v1::DedupBlocks> blocks(lease.dedup_blocks().begin(),
                                            lease.dedup_blocks().end());
  auto res = shard->ResolveWith(shards_, blocks, lease.dedup_edges(), fetch, id,
                                static_cast<size_t>(ctx_.plan.batch_size));
  if (!res.ok() && res.status().code() == StatusCode::kUnavailable) {
    // A peer died: the coordinator sends round 4 again once its
    // replacement registered, with the replacement's endpoint.
    LogWarn(log_, "dedup " + name + ": " + res.status().message() + "; waiting for round 4 again");
    return Status::Ok();
  }
  SLUICE_RETURN_IF_ERROR(res.status());
  uint64_t served = 0;
  for (const auto& [to, batch] : serve) served += batch.records.size();
  LogInfo(log_, "dedup " + name + " round 4: fetched " + std::to_string(fetched) +
                    " cluster member(s) from " + std::to_string(peers) + " shard(s), serves " +
                    std::to_string(served) + " to others");
  resolved_epoch_[name] = lease.epoch();
  if (lease.dedup_rebuild()) {
    // A replacement shard during output: RESEND leases follow.
    resolved_[name] = std::move(*res);
    return Status::Ok();
  }
  CommitResolution(name, id, lease.epoch(), std::move(*res));
  return Status::Ok();
}

}  // namespace sluice
