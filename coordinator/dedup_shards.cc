#include "coordinator/dedup_shards.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "common/core/record.h"
#include "common/core/stage.h"
#include "coordinator/resolve_parts.h"
#include "deduper/shard_map.h"

namespace sluice::coordination {
namespace {

v1::Lease RoundLease(const v1::BatchId& id, uint64_t epoch, uint32_t round) {
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_RESOLVE);
  *lease.mutable_batch() = id;
  lease.set_epoch(epoch);
  lease.set_dedup_round(round);
  return lease;
}

}  // namespace

DedupShards::DedupShards(uint32_t count, uint64_t batch_size)
    : count_(count == 0 ? 1 : count), batch_size_(batch_size == 0 ? 1 : batch_size) {}

void DedupShards::FillRegisterReply(v1::RegisterReply* reply) const {
  reply->set_dedup_shards(count_);
  // The deduper's own map: one definition of which shard owns what.
  const ShardMap map(count_, 0);  // named: owners() refers into it
  const std::vector<uint32_t>& owners = map.owners();
  reply->mutable_dedup_shard_map()->Assign(owners.begin(), owners.end());
}

DedupShards::Leases DedupShards::StartResolve(const v1::BatchId& id, uint64_t epoch) {
  epoch_ = epoch;
  id_ = id;
  id_.set_source("");
  id_.set_sequence(0);
  blocks_.clear();
  patterns_.clear();
  edges_.clear();
  resolved_.clear();
  arriving_.clear();
  all_edges_.Clear();
  edges_sent_ = false;
  outputs_.clear();
  output_shards_.clear();
  Leases leases;
  for (uint32_t s = 0; s < count_; ++s) leases.emplace_back(Identity(s), RoundLease(id_, epoch, 1));
  return leases;
}

bool DedupShards::IsRoundCommit(const v1::Commit& c) const {
  const std::optional<Stage> stage = StageNamed(c.stage());
  return stage == Stage::kDedupBlocks || stage == Stage::kDedupPatterns ||
         stage == Stage::kDedupEdges || (multi() && stage == Stage::kDedupResolve);
}

v1::Lease DedupShards::Round2() const {
  v1::Lease lease = RoundLease(id_, epoch_, 2);
  for (const auto& [s, b] : blocks_) *lease.add_dedup_blocks() = b;
  return lease;
}

v1::Lease DedupShards::Round3() const {
  v1::Lease lease = RoundLease(id_, epoch_, 3);
  for (const auto& [s, b] : blocks_) *lease.add_dedup_blocks() = b;
  for (const auto& [s, p] : patterns_) *lease.add_dedup_patterns() = p;
  return lease;
}

v1::Lease DedupShards::Round4() const {
  v1::Lease lease = RoundLease(id_, epoch_, 4);
  // Every shard's round-1 counts: each shard derives every shard's output
  // batch count from them (the loader's self-references need them all).
  for (const auto& [s, b] : blocks_) *lease.add_dedup_blocks() = b;
  *lease.mutable_dedup_edges() = all_edges_;
  return lease;
}

DedupShards::Step DedupShards::OnCommit(const v1::Commit& c, Ledger* ledger) {
  Step step;
  const uint32_t shard = c.dedup_shard();
  const std::optional<Stage> stage = StageNamed(c.stage());
  if (c.epoch() != epoch_ || epoch_ == 0 || shard >= count_) return step;  // stale or stray
  auto to_all = [&](const v1::Lease& lease) {
    for (uint32_t s = 0; s < count_; ++s) step.leases.emplace_back(Identity(s), lease);
  };
  if (stage == Stage::kDedupBlocks) {
    if (blocks_.size() == count_) return step;  // round 2 already sent
    blocks_[shard] = c.dedup_blocks();
    if (blocks_.size() == count_) to_all(Round2());
    return step;
  }
  if (stage == Stage::kDedupPatterns) {
    if (blocks_.size() < count_ || patterns_.size() == count_) return step;
    patterns_[shard] = c.dedup_patterns();
    // Every shard's counts to every shard: each sums them and runs EM.
    if (patterns_.size() == count_) to_all(Round3());
    return step;
  }
  if (stage == Stage::kDedupEdges) {
    if (patterns_.size() < count_ || edges_sent_) return step;
    edges_[shard] = c.dedup_edges();
    if (edges_.size() < count_) return step;
    all_edges_.Clear();
    for (const auto& [s, e] : edges_) {
      for (const v1::DedupEdge& edge : e.edges()) *all_edges_.add_edges() = edge;
    }
    edges_.clear();
    edges_sent_ = true;
    to_all(Round4());
    return step;
  }
  if (stage != Stage::kDedupResolve || resolved_.size() == count_ || resolved_.count(shard)) {
    return step;
  }
  // A shard's resolution arrives in parts (resolve_parts.h), combined whole.
  Result<bool> whole = AppendResolvePart(c, &arriving_[shard]);
  if (!whole.ok() || !*whole) {
    step.status = whole.status();
    return step;
  }
  v1::Commit resolved = std::move(arriving_[shard]);
  arriving_.erase(shard);
  // Each shard accounts for the records it owns: in = out + fates.
  step.status = ledger->Apply(resolved);
  if (!step.status.ok()) return step;
  resolved_[shard] = std::move(resolved);
  if (resolved_.size() < count_) return step;
  std::vector<v1::Commit> all;
  outputs_.clear();
  output_shards_.clear();
  for (const auto& [s, commit] : resolved_) {
    all.push_back(commit);
    AddOutputIds(s, commit, &outputs_);
    output_shards_.resize(outputs_.size(), s);
  }
  step.resolution = Combine(all);
  step.resolution->mutable_batch()->set_source("dedup/resolve");
  step.resolution->set_epoch(epoch_);
  return step;
}

DedupShards::Leases DedupShards::Redrive(uint32_t shard, std::vector<v1::BatchId>* resend) const {
  Leases leases;
  if (epoch_ == 0 || shard >= count_) return leases;
  // A replacement redoes the earlier rounds from its log, then answers the
  // round it owes; a round it already answered is relayed to it with the
  // next one.
  if (blocks_.size() < count_) {
    if (!blocks_.count(shard)) leases.emplace_back(Identity(shard), RoundLease(id_, epoch_, 1));
    return leases;
  }
  if (patterns_.size() < count_) {
    if (!patterns_.count(shard)) leases.emplace_back(Identity(shard), Round2());
    return leases;
  }
  if (!edges_sent_) {
    if (!edges_.count(shard)) leases.emplace_back(Identity(shard), Round3());
    return leases;
  }
  auto done = resolved_.find(shard);
  if (done == resolved_.end()) {
    leases.emplace_back(Identity(shard), Round4());
    return leases;
  }
  // It resolved, and may have died before emitting all its batches.
  if (auto rebuild = RebuildLease(shard, epoch_)) leases.emplace_back(Identity(shard), *rebuild);
  if (resend != nullptr) AddOutputIds(shard, done->second, resend);
  return leases;
}

DedupShards::Leases DedupShards::MemberRoundAgain(uint32_t except) const {
  Leases leases;
  if (epoch_ == 0 || !edges_sent_) return leases;
  for (uint32_t s = 0; s < count_; ++s) {
    if (s != except && !resolved_.count(s)) leases.emplace_back(Identity(s), Round4());
  }
  return leases;
}

void DedupShards::FillPeers(const std::vector<std::string>& endpoints, v1::Lease* lease) {
  lease->clear_dedup_peers();
  for (const std::string& e : endpoints) lease->add_dedup_peers(e);
}

void DedupShards::AddOutputIds(uint32_t shard, const v1::Commit& resolved,
                               std::vector<v1::BatchId>* ids) const {
  const uint64_t batches = (resolved.counts().out() + batch_size_ - 1) / batch_size_;
  for (uint64_t seq = 0; seq < batches; ++seq) {
    v1::BatchId id = id_;
    id.set_source("dedup/" + std::to_string(shard));
    id.set_sequence(seq);
    ids->push_back(id);
  }
}

std::optional<v1::Lease> DedupShards::RebuildLease(uint32_t shard, uint64_t epoch) const {
  if (!edges_sent_ || shard >= count_) return std::nullopt;
  v1::Lease lease = Round4();
  lease.set_epoch(epoch);
  lease.set_dedup_rebuild(true);
  return lease;
}

v1::Commit DedupShards::Combine(const std::vector<v1::Commit>& shards) {
  v1::Commit out;
  if (shards.empty()) return out;
  out.set_stage(std::string(StageName(Stage::kDedupResolve)));
  *out.mutable_batch() = shards.front().batch();
  out.set_epoch(shards.front().epoch());
  v1::StageCounts& n = *out.mutable_counts();
  KeyChecksum in_sum, out_sum;
  std::vector<const v1::Fate*> fates;
  std::vector<const v1::MatchDecision*> decisions;
  std::vector<const v1::ReviewItem*> pairs, members;
  std::vector<const v1::GoldenRecord*> golden;
  v1::MatchSummary& summary = *out.mutable_match_summary();
  std::set<std::string> notes;
  std::map<int, uint64_t> bins;
  for (const v1::Commit& c : shards) {
    const v1::StageCounts& s = c.counts();
    n.set_in(n.in() + s.in());
    n.set_out(n.out() + s.out());
    n.set_merged(n.merged() + s.merged());
    n.set_rejected(n.rejected() + s.rejected());
    n.set_review(n.review() + s.review());
    in_sum.AddHash(s.in_checksum());
    out_sum.AddHash(s.out_checksum());
    for (const auto& f : c.fates()) fates.push_back(&f);
    for (const auto& d : c.match_decisions()) decisions.push_back(&d);
    for (const auto& g : c.golden_records()) golden.push_back(&g);
    for (const auto& item : c.review_items()) {
      (item.kind() == "pair" ? pairs : members).push_back(&item);
    }
    const v1::MatchSummary& m = c.match_summary();
    summary.set_comparisons(summary.comparisons() + m.comparisons());
    summary.set_merge_pairs(summary.merge_pairs() + m.merge_pairs());
    summary.set_review_pairs(summary.review_pairs() + m.review_pairs());
    summary.set_distinct_pairs(summary.distinct_pairs() + m.distinct_pairs());
    for (const v1::WeightBin& bin : m.weight_bins()) bins[bin.floor()] += bin.pairs();
    summary.set_merge_threshold(m.merge_threshold());
    summary.set_review_threshold(m.review_threshold());
    // Estimates are the same on every shard: each note once.
    for (const std::string& note : m.notes()) {
      if (notes.insert(note).second) summary.add_notes(note);
    }
  }
  for (const auto& [floor, pairs] : bins) {
    v1::WeightBin* bin = summary.add_weight_bins();
    bin->set_floor(floor);
    bin->set_pairs(pairs);
  }
  n.set_in_checksum(in_sum.value());
  n.set_out_checksum(out_sum.value());
  // The order one shard gives: fates by (source, key), a key's repeats
  // after it (they share a home shard, so keep their shard's order).
  std::stable_sort(fates.begin(), fates.end(), [](const v1::Fate* x, const v1::Fate* y) {
    return std::tie(x->source(), x->key()) < std::tie(y->source(), y->key());
  });
  for (const v1::Fate* f : fates) *out.add_fates() = *f;
  std::stable_sort(decisions.begin(), decisions.end(),
                   [](const v1::MatchDecision* x, const v1::MatchDecision* y) {
                     return std::tie(x->a_source(), x->a_key(), x->b_source(), x->b_key()) <
                            std::tie(y->a_source(), y->a_key(), y->b_source(), y->b_key());
                   });
  for (const v1::MatchDecision* d : decisions) *out.add_match_decisions() = *d;
  auto by_keys = [](const v1::ReviewItem* x, const v1::ReviewItem* y) {
    return std::tie(x->source(), x->key(), x->other_source(), x->other_key()) <
           std::tie(y->source(), y->key(), y->other_source(), y->other_key());
  };
  std::stable_sort(pairs.begin(), pairs.end(), by_keys);
  std::stable_sort(members.begin(), members.end(), by_keys);
  for (const v1::ReviewItem* item : pairs) *out.add_review_items() = *item;
  for (const v1::ReviewItem* item : members) *out.add_review_items() = *item;
  std::stable_sort(golden.begin(), golden.end(),
                   [](const v1::GoldenRecord* x, const v1::GoldenRecord* y) {
                     return std::tie(x->source(), x->key()) < std::tie(y->source(), y->key());
                   });
  for (const v1::GoldenRecord* g : golden) *out.add_golden_records() = *g;
  return out;
}

}  // namespace sluice::coordination
