// Internal to the deduper: the shard behind DedupShard::Create. It holds
// the records of its log (whole, or by name beside their guest rows), puts
// them in canonical order and runs the rounds of dedup.cc over them. How it
// reads, adopts, reloads and lets go of records is in logged_dedup_shard.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/core/record.h"
#include "common/runtime/codec.h"
#include "deduper/dedup.h"
#include "deduper/dedup_internal.h"
#include "deduper/guest_rows.h"
#include "deduper/packed_values.h"
#include "deduper/shard_log.h"
#include "deduper/survivorship.h"
#include "sluice/v1/dedup_preround.pb.h"

namespace sluice::dedup_internal {

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
  Status Open(const std::string& log_path);

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
  // The pre-round (deduper/shard_preround.h).
  Result<std::vector<v1::DedupKeyClaims>> ClaimBlocks(const ShardMap& shards);
  Result<v1::DedupGuestWants> WantGuests(const ShardMap& shards,
                                         const std::vector<v1::DedupKeyClaims>& claims);
  Result<std::map<uint32_t, std::vector<RecordBatch>>> GuestsFor(
      const ShardMap& shards, const std::vector<v1::DedupGuestWants>& wants);
  Status TakeGuests(std::vector<RecordBatch> guests);
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
                      std::vector<Record>* records);

  // Refuses a batch of another entity, with ragged values or another schema.
  Status Check(const RecordBatch& batch, const std::string& name) const;

  Status ReplayFrame(std::string_view payload);

  // Rounds 1-3 hold a home record given a home row by its name only (its
  // values stay in the log, docs/dedup.md#guest-rows); round 4 needs home
  // records whole and no guests: it reads them back from the log first,
  // keeping the stats of the rounds before.
  Status WholeHomes();

  // Reads the records back from the log after a Resolve handed them over.
  Status Reload();

  // `positions`: each record's position in the transformer's whole batch
  // (empty: 0..n-1), so that every shard names an occurrence alike.
  // `guest_rows`: the guests of the batch (guest_rows.h), checked by Check.
  void Adopt(const v1::BatchId& id, std::string name, const Schema& schema,
             std::vector<Record> records, const std::vector<uint32_t>& positions,
             std::string_view guest_rows);

  dedup_internal::ClusterInput ClusterInputFor(const ShardMap& shards) {
    dedup_internal::ClusterInput in{entity_,
                                    spec_ ? &*spec_ : nullptr,
                                    *schema_,
                                    records_,
                                    origins_,
                                    batches_,
                                    survivorship_.get(),
                                    golden_.get(),
                                    shards,
                                    nullptr,
                                    judge_.get(),
                                    Spill()};
    if (!packed_of_.empty()) {
      in.values = &values_;
      in.packed_of = &packed_of_;
    }
    return in;
  }

  // Whether every record's values are packed (held by name, folded at
  // ingest: one shard, fuzzy matching).
  bool AllPacked() const;
  // The keys and folded row of each of `records` (a batch that came with
  // no guest rows: one shard), as the router gives them on N shards, into
  // guests_ from index `first` of records_ on, and their values into
  // values_ (docs/dedup.md#one-shards-memory). False: not folded (not a
  // fuzzy spec, or one that does not compile: the matcher reports it).
  bool FoldHomeRows(const Schema& schema, std::vector<Record>& records);
  // packed_of_ as long as records_ (kNone for the records added without).
  void EvenPacked() {
    if (!packed_of_.empty()) packed_of_.resize(records_.size(), PackedValues::kNone);
  }

  // A new spill for a resolution's packed messages, in the log's folder
  // (null when the log has none).
  std::shared_ptr<PackedSpill> Spill() const {
    return spill_dir_.empty() ? nullptr : std::make_shared<PackedSpill>(spill_dir_);
  }

  // Reads the records back if a resolution took them, canonical order.
  Status Prepare();

  // Builds the matcher and the survivorship once the schema is known.
  Status PrepareRules();

  // Sorts the records by (source, key, origin): every later step then
  // depends only on the records, never on their arrival order.
  void Canonicalize();

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
  Status DropUnpairedGuests(const ShardMap& shards);

  // The pre-round's records: the log read again if a resolution or round 4
  // took them, in canonical order; fails when a home record has no home row.
  Status PrepareHomeRows(const ShardMap& shards);

  // Round 4's view of every edge (dedup_internal::RoundFour), computed by
  // MembersFor and taken again by ResolveWith when given the same edges.
  Result<std::shared_ptr<const dedup_internal::RoundFour>> RoundFourOf(const ShardMap& shards,
                                                                       const v1::DedupEdges& all);

  // Round 4 needs a shard's home records only: the members of the clusters
  // it owns that live elsewhere are served by their home shards
  // (MembersFor serves them all), so the copies the router sent here for
  // blocking (guests) are let go before round 4 gathers its universe. The
  // log keeps them: a later Resolve reloads.
  void DropGuests(const ShardMap& shards);

  std::string entity_;
  std::optional<DedupSpec> spec_;  // none: nothing merges
  std::unique_ptr<ShardLog> log_;
  std::string spill_dir_;         // the log's folder: where a resolution spills
  std::optional<Schema> schema_;  // of the first non-empty batch
  std::vector<Record> records_;
  std::vector<Origin> origins_;  // parallel to records_
  // One shard, fuzzy matching: records are held by name from ingest on,
  // their keys and folded rows in guests_ as home rows, their values packed
  // in values_ (packed_of_[i], parallel to records_ when not empty).
  PackedValues values_;
  std::vector<uint32_t> packed_of_;
  struct HomeFolder;  // the comparer that folds home rows (logged_dedup_shard.cc)
  std::shared_ptr<HomeFolder> folder_;
  bool keep_whole_ = false;  // reading back whole: no home rows folded
  // Values of the records past this many are spilled (FoldHomeRows).
  static constexpr size_t kHeldValues = 2'000'000;
  bool values_spilled_ = false;
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
  bool guests_taken_ = false;   // TakeGuests since the log was last read
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
  std::vector<uint8_t> Repeats() const;
  // The home records' count and key checksum: what the coordinator checks
  // against what the transformer routed here.
  std::pair<uint64_t, uint64_t> HomeFingerprint(const ShardMap& shards) const;

  ShardLogReplay replay_;
  bool compared_ = false;    // the matcher holds round 2 of these records
  uint64_t generation_ = 1;  // MatchInput::generation: bumped when records_ change
};

}  // namespace sluice::dedup_internal
