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
#include "deduper/shard_log.h"
#include "deduper/shard_rounds.h"
#include "deduper/survivorship.h"

namespace sluice {
namespace {

using dedup_internal::IngestedBatch;
using dedup_internal::Origin;

class LoggedDedupShard : public DedupShard {
 public:
  LoggedDedupShard(std::string entity, std::optional<DedupSpec> spec,
                   std::vector<ForcedPair> forced, std::unique_ptr<EntityValidator> judge)
      : entity_(std::move(entity)),
        spec_(std::move(spec)),
        forced_(std::move(forced)),
        judge_(std::move(judge)) {
    if (spec_ && spec_->fuzzy()) guest_rules_ = dedup_internal::FuzzyBlockingRules(*spec_).size();
  }

  // Opens the log and replays its batches.
  Status Open(const std::string& log_path) {
    ShardLog::Recovery recovery;
    auto on_frame = [this](std::string_view payload) { return ReplayFrame(payload); };
    SLUICE_ASSIGN_OR_RETURN(log_, ShardLog::Open(log_path, on_frame, &recovery));
    replay_.batches = batches_.size();
    replay_.records = record_count_;
    replay_.truncated_bytes = recovery.truncated_bytes;
    return Status::Ok();
  }

  Result<bool> Ingest(const RecordBatch& batch) override {
    v1::RecordBatch wire;
    EncodeBatch(batch, &wire);
    return Append(batch, wire, /*records=*/nullptr);
  }

  Result<bool> IngestReceived(RecordBatch batch, const v1::RecordBatch& received) override {
    return Append(batch, received, &batch.records);
  }

  Result<Resolution> Resolve(const v1::BatchId& id_template, size_t batch_size) override;

  size_t record_count() const override { return record_count_; }
  Result<v1::DedupBlocks> SummarizeBlocks(const ShardMap& shards) override;
  Result<v1::DedupPatterns> ComparePairs(const ShardMap& shards,
                                         const std::vector<v1::DedupBlocks>& blocks) override;
  Result<v1::DedupEdges> DecidePairs(const ShardMap& shards,
                                     const std::vector<v1::DedupBlocks>& blocks,
                                     const std::vector<v1::DedupPatterns>& all) override;
  Result<std::map<uint32_t, RecordBatch>> MembersFor(const ShardMap& shards,
                                                     const v1::DedupEdges& all) override;
  Result<Resolution> ResolveWith(const ShardMap& shards, const std::vector<v1::DedupBlocks>& blocks,
                                 const v1::DedupEdges& all, const MemberFetch& fetch,
                                 const v1::BatchId& id_template, size_t batch_size) override;
  const ShardLogReplay& replay() const override { return replay_; }

 private:
  // Appends `wire` (the batch's wire form) to the log unless the batch id
  // was appended before, then adopts the records: moved from `records` when
  // given, else copied from `batch`.
  Result<bool> Append(const RecordBatch& batch, const v1::RecordBatch& wire,
                      std::vector<Record>* records) {
    std::string name = BatchName(batch.id);
    if (batch_names_.count(name) > 0) return false;
    SLUICE_RETURN_IF_ERROR(Check(batch, name));
    std::string payload;
    if (!wire.SerializeToString(&payload)) {
      return Status::Internal("batch " + name + ": cannot serialize for the shard log");
    }
    SLUICE_RETURN_IF_ERROR(log_->Append(payload).WithContext("batch " + name));
    // Guests dropped for want of a pair may pair with this batch's records.
    if (guests_pruned_) handed_over_ = true;
    if (handed_over_) {
      // The next Resolve re-reads the whole log, this batch included.
      batch_names_.insert(std::move(name));
      record_count_ += batch.records.size();
    } else {
      Adopt(batch.id, std::move(name), batch.schema,
            records != nullptr ? std::move(*records) : batch.records, batch.positions,
            batch.guest_rows);
    }
    compared_ = false;
    return true;
  }

  // Refuses a batch of another entity, with ragged values or another schema.
  Status Check(const RecordBatch& batch, const std::string& name) const {
    if (!batch.id.entity().empty() && batch.id.entity() != entity_) {
      return Status::InvalidArgument("batch " + name + " is of entity " + batch.id.entity() +
                                     ", this shard dedups " + entity_);
    }
    if (batch.records.empty() && batch.guest_rows.empty()) return Status::Ok();
    if (schema_ && !(batch.schema == *schema_)) {
      return Status::Corruption("batch " + name + ": schema differs from the one of entity " +
                                entity_ + " in earlier batches");
    }
    for (const Record& r : batch.records) {
      if (r.values.size() != batch.schema.fields.size()) {
        return Status::InvalidArgument("batch " + name + ": record " + r.source + "/" + r.key +
                                       " has " + std::to_string(r.values.size()) + " values for " +
                                       std::to_string(batch.schema.fields.size()) + " fields");
      }
    }
    if (record_count_ + guests_.size() + batch.records.size() > UINT32_MAX / 2) {
      return Status::InvalidArgument("batch " + name + ": shard is full");
    }
    if (!batch.guest_rows.empty() && guest_rules_ == 0) {
      return Status::InvalidArgument("batch " + name +
                                     ": guest rows for a shard that does not "
                                     "match fuzzily");
    }
    return guest::ForEach(batch.guest_rows, guest_rules_, batch.records.size(),
                          [](const guest::Row&) {})
        .WithContext("batch " + name);
  }

  Status ReplayFrame(std::string_view payload) {
    v1::RecordBatch wire;
    if (!wire.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      return Status::Corruption("not a record batch");
    }
    SLUICE_ASSIGN_OR_RETURN(RecordBatch batch, DecodeBatch(wire));
    std::string name = BatchName(batch.id);
    if (batch_names_.count(name) > 0) return Status::Ok();  // appended twice: keep one
    Status st = Check(batch, name);
    if (!st.ok()) return Status::Corruption(st.message());
    if (whole_homes_only_) batch.guest_rows.clear();  // round 4: home records whole, no guests
    Adopt(batch.id, std::move(name), batch.schema, std::move(batch.records), batch.positions,
          batch.guest_rows);
    return Status::Ok();
  }

  // Rounds 1-3 hold a home record given a home row by its name only (its
  // values stay in the log, docs/dedup.md#guest-rows); round 4 needs home
  // records whole and no guests: it reads them back from the log first,
  // keeping the stats of the rounds before.
  Status WholeHomes() {
    if (!values_dropped_ && !handed_over_) return Status::Ok();
    if (matcher_ && compared_) kept_stats_ = matcher_->stats();
    whole_homes_only_ = true;
    Status st = Reload();
    whole_homes_only_ = false;
    homes_only_loaded_ = st.ok();
    return st;
  }

  // Reads the records back from the log after a Resolve handed them over.
  Status Reload() {
    ReleaseRounds();  // its comparer may point into guests_
    values_dropped_ = false;
    homes_only_loaded_ = false;
    // Released, not cleared: round 4 reads back far fewer records (its
    // home records) than rounds 1-3 held (with the guests).
    std::vector<Record>().swap(records_);
    std::vector<Origin>().swap(origins_);
    std::vector<uint32_t>().swap(guest_of_);
    guests_.Clear();
    batches_.clear();
    batch_names_.clear();
    record_count_ = 0;
    canonical_ = true;
    SLUICE_RETURN_IF_ERROR(
        log_->ReadAll([this](std::string_view payload) { return ReplayFrame(payload); }));
    handed_over_ = false;
    compared_ = false;
    guests_pruned_ = false;
    return Status::Ok();
  }

  // `positions`: each record's position in the transformer's whole batch
  // (empty: 0..n-1), so that every shard names an occurrence alike.
  // `guest_rows`: the guests of the batch (guest_rows.h), checked by Check.
  void Adopt(const v1::BatchId& id, std::string name, const Schema& schema,
             std::vector<Record> records, const std::vector<uint32_t>& positions,
             std::string_view guest_rows) {
    const uint32_t b = static_cast<uint32_t>(batches_.size());
    batches_.push_back({id, name});
    batch_names_.insert(std::move(name));
    if (records.empty() && guest_rows.empty()) return;
    if (!schema_) schema_ = schema;
    record_count_ += records.size();
    const size_t first = records_.size();
    for (size_t i = 0; i < records.size(); ++i) {
      records_.push_back(std::move(records[i]));
      const bool routed = positions.size() == records.size();
      origins_.push_back({b, routed ? positions[i] : static_cast<uint32_t>(i)});
      guest_of_.push_back(guest::kHome);
    }
    // A guest is a record of its name only (no values) beside its row; a
    // home row gives a home record's keys and row.
    (void)guest::ForEach(guest_rows, guest_rules_, records.size(), [&](const guest::Row& row) {
      if (row.home) {
        guest_of_[first + row.index] = guests_.Add(row, guest_rules_);
        // Its row is all rounds 1-3 read. (Swapped, not `= {}`, which keeps
        // a vector's buffer: 480 bytes per record for this plan's ten fields.)
        std::vector<Value>().swap(records_[first + row.index].values);
        values_dropped_ = true;
        return;
      }
      Record& r = records_.emplace_back();
      r.source.assign(row.source);
      r.key.assign(row.key);
      origins_.push_back({b, row.position});
      guest_of_.push_back(guests_.Add(row, guest_rules_));
    });
    canonical_ = false;
    ++generation_;
  }

  dedup_internal::ClusterInput ClusterInputFor(const ShardMap& shards) {
    return {entity_,     spec_ ? &*spec_ : nullptr, *schema_,      records_, origins_,
            batches_,    survivorship_.get(),       golden_.get(), shards,   nullptr,
            judge_.get()};
  }

  // Reads the records back if a resolution took them, canonical order.
  Status Prepare() {
    if (handed_over_) SLUICE_RETURN_IF_ERROR(Reload());
    if (records_.empty()) return Status::Ok();
    SLUICE_RETURN_IF_ERROR(PrepareRules());
    Canonicalize();
    return Status::Ok();
  }

  // Builds the matcher and the survivorship once the schema is known.
  Status PrepareRules() {
    if (!spec_ || matcher_) return Status::Ok();
    const std::string path = spec_->yaml_path.empty() ? "dedup." + entity_ : spec_->yaml_path;
    if (spec_->key_fields.empty() && !spec_->fuzzy()) {
      return Status::InvalidArgument(path + ".key: empty");
    }
    for (const std::string& f : spec_->key_fields) {
      if (schema_->IndexOf(f) < 0) {
        return Status::InvalidArgument(path + ".key: no field " + f + " in entity " + entity_);
      }
    }
    if (!spec_->most_recent_field.empty() && schema_->IndexOf(spec_->most_recent_field) < 0) {
      return Status::InvalidArgument(path + ".most_recent_field: no field " +
                                     spec_->most_recent_field + " in entity " + entity_);
    }
    if (spec_->fuzzy()) {
      SLUICE_ASSIGN_OR_RETURN(matcher_, MakeFuzzyMatcher(*spec_, *schema_, forced_));
    } else {
      matcher_ = MakeExactKeyMatcher(*spec_, *schema_);
    }
    survivorship_ = MakePrioritySurvivorship(*spec_, *schema_);
    golden_ = std::make_unique<GoldenRecordBuilder>(*spec_, *schema_);
    return Status::Ok();
  }

  // Sorts the records by (source, key, origin): every later step then
  // depends only on the records, never on their arrival order.
  void Canonicalize() {
    if (canonical_) return;
    std::vector<uint32_t> perm = dedup_internal::CanonicalOrder(records_, origins_, batches_);
    // In place, cycle by cycle: a second vector of records would double the
    // shard's largest allocation at its peak.
    for (size_t i = 0; i < perm.size(); ++i) {
      if (perm[i] == i) continue;
      Record record = std::move(records_[i]);
      const Origin origin = origins_[i];
      const uint32_t guest = guest_of_[i];
      size_t j = i;
      while (perm[j] != i) {
        const size_t k = perm[j];
        records_[j] = std::move(records_[k]);
        origins_[j] = origins_[k];
        guest_of_[j] = guest_of_[k];
        perm[j] = static_cast<uint32_t>(j);
        j = k;
      }
      records_[j] = std::move(record);
      origins_[j] = origin;
      guest_of_[j] = guest;
      perm[j] = static_cast<uint32_t>(j);
    }
    canonical_ = true;
    ++generation_;
  }

  // What the matcher works on: the records (guests by name) and the guests.
  MatchInput Input(const std::vector<uint8_t>& skip, const ShardMap& shards) const {
    MatchInput in{*schema_, records_, skip, shards, generation_};
    if (guests_.size() > 0) {
      in.guest_of = &guest_of_;
      in.guests = &guests_;
    }
    return in;
  }

  // Frees what the matcher built for rounds 1-3 (blocking keys, blocks,
  // folded rows, pair codes); the next Prepare builds a new one.
  void ReleaseRounds() {
    matcher_.reset();
    compared_ = false;
  }

  // Once every batch is in (round 1, or round 2 of a replacement), lets go
  // of the guests that share no block this shard owns with another record
  // (guest::NeededForBlocks): most of them with blocks that hold one
  // record. A batch ingested after this reads the log again first.
  Status DropUnpairedGuests(const ShardMap& shards) {
    if (guests_pruned_ || guests_.size() == 0 || records_.empty()) return Status::Ok();
    guests_pruned_ = true;
    const std::vector<uint8_t> need = guest::NeededForBlocks(records_, guest_of_, guests_, shards);
    if (std::find(need.begin(), need.end(), 0) == need.end()) return Status::Ok();
    ReleaseRounds();  // a matcher built on the records before (its rows move)
    // The store first, in place (its rows are most of what goes), then the
    // records.
    std::vector<uint8_t> keep_row(guests_.size(), 0);
    for (size_t i = 0; i < records_.size(); ++i) {
      if (need[i] && guest_of_[i] != guest::kHome) keep_row[guest_of_[i]] = 1;
    }
    const std::vector<uint32_t> row_index = guests_.Keep(keep_row);
    size_t kept = 0;
    for (size_t i = 0; i < records_.size(); ++i) {
      if (!need[i]) continue;
      if (kept != i) {
        records_[kept] = std::move(records_[i]);
        origins_[kept] = origins_[i];
      }
      guest_of_[kept] = guest_of_[i] == guest::kHome ? guest::kHome : row_index[guest_of_[i]];
      ++kept;
    }
    records_.resize(kept);
    std::vector<Record>(std::make_move_iterator(records_.begin()),
                        std::make_move_iterator(records_.end()))
        .swap(records_);
    origins_.resize(kept);
    origins_.shrink_to_fit();
    guest_of_.resize(kept);
    guest_of_.shrink_to_fit();
    ++generation_;
    return PrepareRules();
  }

  // Round 4's view of every edge (dedup_internal::RoundFour), computed by
  // MembersFor and taken again by ResolveWith when given the same edges.
  Result<std::shared_ptr<const dedup_internal::RoundFour>> RoundFourOf(const ShardMap& shards,
                                                                       const v1::DedupEdges& all) {
    const uint64_t digest =
        Hash64(all.SerializeAsString()) ^ (uint64_t{shards.count()} << 32 | shards.self());
    if (round_four_ && round_four_digest_ == digest) return round_four_;
    round_four_.reset();
    SLUICE_ASSIGN_OR_RETURN(round_four_, dedup_internal::PrepareRoundFour(
                                             shards, all, spec_ && spec_->review_on_conflict));
    round_four_digest_ = digest;
    return round_four_;
  }

  // Round 4 needs a shard's home records only: the members of the clusters
  // it owns that live elsewhere are served by their home shards
  // (MembersFor serves them all), so the copies the router sent here for
  // blocking (guests) are let go before round 4 gathers its universe. The
  // log keeps them: a later Resolve reloads.
  void DropGuests(const ShardMap& shards) {
    if (shards.single() || records_.empty()) return;
    size_t kept = 0;
    for (size_t i = 0; i < records_.size(); ++i) {
      if (shards.HomeOf(records_[i].source, records_[i].key) != shards.self()) continue;
      if (kept != i) {
        records_[kept] = std::move(records_[i]);
        origins_[kept] = origins_[i];
      }
      ++kept;
    }
    records_.resize(kept);
    records_.shrink_to_fit();
    origins_.resize(kept);
    origins_.shrink_to_fit();
    guest_of_.assign(kept, guest::kHome);
    guest_of_.shrink_to_fit();
    guests_.Clear();
    ++generation_;
    handed_over_ = true;  // any later round reads the whole log again first
  }

  std::string entity_;
  std::optional<DedupSpec> spec_;  // none: nothing merges
  std::unique_ptr<ShardLog> log_;
  std::optional<Schema> schema_;  // of the first non-empty batch
  std::vector<Record> records_;
  std::vector<Origin> origins_;  // parallel to records_
  // Guests (guest_rows.h): per record its index in guests_, or kHome for a
  // record held whole; records_ holds a guest's name only.
  std::vector<uint32_t> guest_of_;
  guest::Store guests_;
  // The matcher's comparer uses the guests' rows in place until
  // ReleaseRounds: guests_ is cleared only after it (or before a Compare).
  size_t guest_rules_ = 0;                // blocking keys per guest (fuzzy specs)
  bool values_dropped_ = false;           // home records held by name (WholeHomes)
  bool whole_homes_only_ = false;         // reloading for round 4
  bool homes_only_loaded_ = false;        // no guests held: comparing again reloads
  std::optional<MatchStats> kept_stats_;  // of rounds 2-3, across WholeHomes
  std::shared_ptr<const dedup_internal::RoundFour> round_four_;  // RoundFourOf
  bool guests_pruned_ = false;  // DropUnpairedGuests ran since the last batch
  uint64_t round_four_digest_ = 0;
  std::vector<IngestedBatch> batches_;
  std::unordered_set<std::string> batch_names_;
  size_t record_count_ = 0;
  bool canonical_ = true;
  bool handed_over_ = false;  // records_ moved into the last Resolution
  std::unique_ptr<Matcher> matcher_;
  std::unique_ptr<SurvivorshipRule> survivorship_;
  std::unique_ptr<GoldenRecordBuilder> golden_;
  std::vector<ForcedPair> forced_;          // steward decisions on pairs
  std::unique_ptr<EntityValidator> judge_;  // record-level validation; null: none
  // Later occurrences of a repeated (source, key): 1 per record (empty: none).
  std::vector<uint8_t> Repeats() const {
    std::vector<uint8_t> skip(records_.size(), 0);
    for (size_t i = 1; i < records_.size(); ++i) {
      skip[i] =
          records_[i].key == records_[i - 1].key && records_[i].source == records_[i - 1].source;
    }
    return skip;
  }
  // The home records' count and key checksum: what the coordinator checks
  // against what the transformer routed here.
  std::pair<uint64_t, uint64_t> HomeFingerprint(const ShardMap& shards) const {
    KeyChecksum sum;
    uint64_t n = 0;
    for (const Record& r : records_) {
      if (shards.HomeOf(r.source, r.key) != shards.self()) continue;
      sum.Add(r.source, r.key);
      ++n;
    }
    return {n, sum.value()};
  }

  ShardLogReplay replay_;
  bool compared_ = false;    // the matcher holds round 2 of these records
  uint64_t generation_ = 1;  // MatchInput::generation: bumped when records_ change
};

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
    edges = matcher_->Match(*schema_, records_, Repeats());
    stats = matcher_->stats();
    if (spec_) SLUICE_RETURN_IF_ERROR(em::Verdict(*spec_, stats.estimate_problems));
  }
  ReleaseRounds();  // the blocks, rows and pair codes: clustering needs the edges only
  SLUICE_ASSIGN_OR_RETURN(
      out, dedup_internal::Cluster(ClusterInputFor(ShardMap()), edges, id_template, batch_size));
  if (spec_) out.stats = std::move(stats);
  out.stream_batches = {out.batches.size()};
  std::vector<Record>().swap(records_);
  std::vector<Origin>().swap(origins_);
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
        batches_, survivorship_.get(),       golden_.get(), shards,   judge_.get()};
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
  uint64_t produced = 0;
  for (const RecordBatch& b : out.batches) produced += b.records.size();
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

}  // namespace

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
  auto shard = std::make_unique<LoggedDedupShard>(entity, std::move(spec),
                                                  std::move(options.forced), std::move(judge));
  SLUICE_RETURN_IF_ERROR(shard->Open(log_path).WithContext("dedup " + entity));
  return std::unique_ptr<DedupShard>(std::move(shard));
}

}  // namespace sluice
