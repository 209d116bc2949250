#include "deduper/dedup.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_set>

#include "common/core/hash.h"
#include "common/runtime/codec.h"
#include "deduper/dedup_internal.h"
#include "deduper/em_estimate.h"
#include "deduper/guardrails.h"
#include "deduper/guest_rows.h"
#include "deduper/logged_dedup_shard.h"
#include "deduper/shard_log.h"
#include "deduper/shard_rounds.h"
#include "deduper/survivorship.h"

namespace sluice {
namespace dedup_internal {

Result<Resolution> LoggedDedupShard::Resolve(const v1::BatchId& id_template, size_t batch_size) {
  if (batch_size == 0) return Status::InvalidArgument("dedup: batch size must be positive");
  Resolution out;
  SLUICE_RETURN_IF_ERROR(Prepare());
  if (records_.empty()) return out;
  compared_ = false;
  std::vector<MatchEdge> edges;
  // Repeats take no part in matching, as on N shards.
  MatchStats stats;
  if (matcher_) {
    // Held by name from ingest on (one shard, fuzzy matching): the keys and
    // rows are the home rows folded at ingest and the values are packed
    // (docs/dedup.md#one-shards-memory). Otherwise, once the matcher has
    // its blocking keys and folded rows, the records' values wait in the
    // log: the comparison pass holds the records by name, and clustering
    // reads them back.
    const bool packed = AllPacked();
    bool dropped = false;
    auto drop = [this, &dropped] {
      for (Record& r : records_) std::vector<Value>().swap(r.values);
      dropped = true;
    };
    const std::vector<uint8_t> skip = Repeats();
    const ShardMap one;
    MatchInput in = Input(skip, one);
    in.generation = 0;  // nothing kept from a round 1
    if (!packed) in.values_read = drop;
    SLUICE_RETURN_IF_ERROR(matcher_->Compare(in, {}));
    PatternCounts patterns = matcher_->Patterns();
    KeepNeededTermValues(matcher_->TermValues(), &patterns);
    edges = matcher_->Decide(patterns, matcher_->UCounts());
    stats = matcher_->stats();
    if (spec_) SLUICE_RETURN_IF_ERROR(em::Verdict(*spec_, stats.estimate_problems));
    ReleaseRounds();  // the blocks, rows and pair codes: clustering needs the edges only
    if (packed) {
      guests_.Clear();  // the home rows
      std::fill(guest_of_.begin(), guest_of_.end(), guest::kHome);
    }
    if (dropped) {
      // The same records in the same canonical order: the edges' indexes
      // still name them.
      const size_t held = records_.size();
      handed_over_ = true;
      keep_whole_ = true;
      const Status st = Prepare();
      keep_whole_ = false;
      SLUICE_RETURN_IF_ERROR(st);
      if (records_.size() != held) {
        return Status::Internal("dedup " + entity_ + ": read back " +
                                std::to_string(records_.size()) + " records from the log, " +
                                std::to_string(held) + " were matched");
      }
    }
  }
  ReleaseRounds();
  SLUICE_ASSIGN_OR_RETURN(
      out, dedup_internal::Cluster(ClusterInputFor(ShardMap()), edges, id_template, batch_size));
  if (spec_) out.stats = std::move(stats);
  out.stream_batches = {out.batches.size()};
  std::vector<Record>().swap(records_);
  std::vector<Origin>().swap(origins_);
  values_.Clear();
  values_spilled_ = false;
  std::vector<uint32_t>().swap(packed_of_);
  handed_over_ = true;
  return out;
}

Result<v1::DedupBlocks> LoggedDedupShard::SummarizeBlocks(const ShardMap& shards) {
  if (homes_only_loaded_) handed_over_ = true;  // the guests are in the log
  SLUICE_RETURN_IF_ERROR(Prepare());
  SLUICE_RETURN_IF_ERROR(DropUnpairedGuests(shards));
  v1::DedupBlocks out;
  out.set_shard(shards.self());
  const auto [n, checksum] = HomeFingerprint(shards);
  out.set_records(n);
  out.set_records_checksum(checksum);
  if (records_.empty()) return out;
  const std::vector<uint8_t> repeats = Repeats();
  uint64_t home_repeats = 0;
  for (size_t i = 0; i < records_.size(); ++i) {
    home_repeats +=
        repeats[i] && shards.HomeOf(records_[i].source, records_[i].key) == shards.self();
  }
  out.set_repeats(home_repeats);
  // All occurrences of a home key are here: the first of each repeated one.
  for (size_t i = 0; i + 1 < records_.size(); ++i) {
    const Record& r = records_[i];
    if (records_[i + 1].key != r.key || records_[i + 1].source != r.source) continue;
    if (shards.HomeOf(r.source, r.key) != shards.self()) continue;
    v1::DedupFirstOccurrence* f = out.add_repeated_keys();
    f->set_source(r.source);
    f->set_key(r.key);
    f->set_batch(batches_[origins_[i].batch].name);
    f->set_position(origins_[i].position);
    while (i + 1 < records_.size() && records_[i + 1].key == r.key &&
           records_[i + 1].source == r.source) {
      ++i;
    }
  }
  if (matcher_) {
    const std::vector<uint8_t> none;
    for (std::vector<uint64_t>& keys : matcher_->Oversize(Input(none, shards))) {
      out.add_oversize()->mutable_keys()->Assign(keys.begin(), keys.end());
    }
  }
  return out;
}

Result<v1::DedupPatterns> LoggedDedupShard::ComparePairs(
    const ShardMap& shards, const std::vector<v1::DedupBlocks>& blocks) {
  if (homes_only_loaded_) handed_over_ = true;  // the guests are in the log
  SLUICE_RETURN_IF_ERROR(Prepare());
  SLUICE_RETURN_IF_ERROR(DropUnpairedGuests(shards));
  v1::DedupPatterns out;
  out.set_shard(shards.self());
  const auto [n, checksum] = HomeFingerprint(shards);
  out.set_records(n);
  out.set_records_checksum(checksum);
  if (records_.empty() || !matcher_) return out;
  // Every shard's oversize blocks and first occurrences of repeated keys.
  BlockKeys oversize;
  std::map<std::pair<std::string, std::string>, std::pair<std::string, uint32_t>> first;
  for (const v1::DedupBlocks& b : blocks) {
    if (oversize.size() < static_cast<size_t>(b.oversize_size()))
      oversize.resize(b.oversize_size());
    for (int r = 0; r < b.oversize_size(); ++r) {
      oversize[r].insert(oversize[r].end(), b.oversize(r).keys().begin(),
                         b.oversize(r).keys().end());
    }
    for (const v1::DedupFirstOccurrence& f : b.repeated_keys()) {
      first[{f.source(), f.key()}] = {f.batch(), f.position()};
    }
  }
  for (std::vector<uint64_t>& keys : oversize) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  }
  std::vector<uint8_t> skip(records_.size(), 0);
  if (!first.empty()) {
    for (size_t i = 0; i < records_.size(); ++i) {
      auto it = first.find({records_[i].source, records_[i].key});
      if (it == first.end()) continue;
      const Origin& o = origins_[i];
      skip[i] = batches_[o.batch].name != it->second.first || o.position != it->second.second;
    }
  }
  SLUICE_RETURN_IF_ERROR(matcher_->Compare(Input(skip, shards), oversize));
  compared_ = true;
  PatternsToProto(matcher_->Patterns(), &out);
  LevelCountsToProto(matcher_->UCounts(), &out);
  return out;
}

Result<v1::DedupEdges> LoggedDedupShard::DecidePairs(const ShardMap& shards,
                                                     const std::vector<v1::DedupBlocks>& blocks,
                                                     const std::vector<v1::DedupPatterns>& all) {
  if (!compared_ || handed_over_) SLUICE_RETURN_IF_ERROR(ComparePairs(shards, blocks).status());
  v1::DedupEdges out;
  out.set_shard(shards.self());
  if (records_.empty() || !matcher_) return out;
  // Only the term-frequency counts of values this shard's pairs look up.
  EdgesToProto(matcher_->Decide(SumPatterns(all, matcher_->TermValues()), SumLevelCounts(all)),
               records_, &out);
  if (spec_) SLUICE_RETURN_IF_ERROR(em::Verdict(*spec_, matcher_->stats().estimate_problems));
  return out;
}

Result<std::map<uint32_t, RecordBatch>> LoggedDedupShard::MembersFor(const ShardMap& shards,
                                                                     const v1::DedupEdges& all) {
  SLUICE_RETURN_IF_ERROR(WholeHomes());
  SLUICE_RETURN_IF_ERROR(Prepare());
  if (records_.empty()) return std::map<uint32_t, RecordBatch>{};
  SLUICE_ASSIGN_OR_RETURN(auto four, RoundFourOf(shards, all));
  return dedup_internal::MembersToServe(records_, *schema_, shards, *four);
}

Result<Resolution> LoggedDedupShard::ResolveWith(
    const ShardMap& shards, const std::vector<v1::DedupBlocks>& blocks, const v1::DedupEdges& all,
    const MemberFetch& fetch, const v1::BatchId& id_template, size_t batch_size) {
  if (batch_size == 0) return Status::InvalidArgument("dedup: batch size must be positive");
  SLUICE_RETURN_IF_ERROR(WholeHomes());
  SLUICE_RETURN_IF_ERROR(Prepare());
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<const dedup_internal::RoundFour> four,
                          RoundFourOf(shards, all));
  round_four_.reset();  // `four` is the only reference: ResolveRouted lets it go
  // Every shard's output, counted before resolving (even with no records
  // here: the others' counts are still needed).
  std::vector<uint64_t> outputs;
  if (!blocks.empty()) {
    SLUICE_ASSIGN_OR_RETURN(
        outputs, dedup_internal::StreamOutputs(shards, spec_ ? &*spec_ : nullptr, blocks, *four));
  }
  Resolution out;
  // What rounds 2 and 3 built is not needed any more: its stats are kept,
  // the rest released before the records of round 4 are gathered.
  std::optional<MatchStats> stats = std::move(kept_stats_);
  kept_stats_.reset();
  if (matcher_ && compared_) stats = matcher_->stats();
  ReleaseRounds();
  DropGuests(shards);
  if (!records_.empty()) {
    const dedup_internal::RoutedInput in{
        entity_,  spec_ ? &*spec_ : nullptr, *schema_,      records_, origins_,
        batches_, survivorship_.get(),       golden_.get(), shards,   judge_.get(),
        Spill()};
    SLUICE_ASSIGN_OR_RETURN(
        out, dedup_internal::ResolveRouted(in, std::move(four), fetch, id_template, batch_size));
    // A shard rebuilding its resolution after a restart compared nothing.
    if (stats) out.stats = std::move(*stats);
    compared_ = false;
    std::vector<Record>().swap(records_);
    std::vector<Origin>().swap(origins_);
    handed_over_ = true;
  }
  if (outputs.empty()) return out;
  // A wrong count would make a loader decide orphans too soon (or never):
  // the shard's own count must be what it outputs.
  const uint64_t produced = out.batches.total_records();
  if (outputs[shards.self()] != produced) {
    return Status::Internal("dedup shard " + std::to_string(shards.self()) + " of " + entity_ +
                            ": counted " + std::to_string(outputs[shards.self()]) +
                            " output records from the round-1 summaries and the edges, but its "
                            "resolution outputs " +
                            std::to_string(produced));
  }
  for (uint64_t n : outputs) out.stream_batches.push_back((n + batch_size - 1) / batch_size);
  return out;
}

}  // namespace dedup_internal

Result<std::unique_ptr<DedupShard>> DedupShard::Create(const Plan& plan, const std::string& entity,
                                                       const std::string& log_path,
                                                       DedupShardOptions options) {
  std::optional<DedupSpec> spec;
  if (auto it = plan.dedup.find(entity); it != plan.dedup.end()) spec = it->second;
  // Only a cluster elects a survivor: no dedup, no judge.
  std::unique_ptr<EntityValidator> judge;
  auto rules = plan.rules.find(entity);
  if (spec && !options.elect_invalid_survivors && rules != plan.rules.end() &&
      !rules->second.empty()) {
    ValidatorOptions v;
    v.today = options.today;
    v.decisions = options.decisions;
    SLUICE_ASSIGN_OR_RETURN(judge, EntityValidator::Create(plan, entity, v));
  }
  auto shard = std::make_unique<dedup_internal::LoggedDedupShard>(
      entity, std::move(spec), std::move(options.forced), std::move(judge));
  SLUICE_RETURN_IF_ERROR(shard->Open(log_path).WithContext("dedup " + entity));
  return std::unique_ptr<DedupShard>(std::move(shard));
}

}  // namespace sluice
