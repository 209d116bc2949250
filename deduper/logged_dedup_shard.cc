#include "deduper/logged_dedup_shard.h"

#include <algorithm>
#include <filesystem>

#include "deduper/compare_pass.h"
#include "deduper/fuzzy_matcher.h"
#include "deduper/guardrails.h"

namespace sluice::dedup_internal {

Status LoggedDedupShard::Open(const std::string& log_path) {
  ShardLog::Recovery recovery;
  auto on_frame = [this](std::string_view payload) { return ReplayFrame(payload); };
  SLUICE_ASSIGN_OR_RETURN(log_, ShardLog::Open(log_path, on_frame, &recovery));
  spill_dir_ = std::filesystem::path(log_path).parent_path().string();
  if (spill_dir_.empty()) spill_dir_ = ".";
  replay_.batches = batches_.size();
  replay_.records = record_count_;
  replay_.truncated_bytes = recovery.truncated_bytes;
  return Status::Ok();
}

Result<bool> LoggedDedupShard::Append(const RecordBatch& batch, const v1::RecordBatch& wire,
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

Status LoggedDedupShard::Check(const RecordBatch& batch, const std::string& name) const {
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

Status LoggedDedupShard::ReplayFrame(std::string_view payload) {
  v1::RecordBatch wire;
  if (!wire.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return Status::Corruption("not a record batch");
  }
  // Round 4: home records whole, no guests (their rows were checked when
  // the frame was first taken; the frame's checksum guards them since).
  if (whole_homes_only_) wire.clear_guest_rows();
  SLUICE_ASSIGN_OR_RETURN(RecordBatch batch, DecodeBatch(wire));
  std::string name = BatchName(batch.id);
  if (batch_names_.count(name) > 0) return Status::Ok();  // appended twice: keep one
  Status st = Check(batch, name);
  if (!st.ok()) return Status::Corruption(st.message());
  Adopt(batch.id, std::move(name), batch.schema, std::move(batch.records), batch.positions,
        batch.guest_rows);
  return Status::Ok();
}

Status LoggedDedupShard::WholeHomes() {
  if (!values_dropped_ && !handed_over_) return Status::Ok();
  if (matcher_ && compared_) kept_stats_ = matcher_->stats();
  whole_homes_only_ = true;
  Status st = Reload();
  whole_homes_only_ = false;
  homes_only_loaded_ = st.ok();
  return st;
}

Status LoggedDedupShard::Reload() {
  ReleaseRounds();  // its comparer may point into guests_
  values_dropped_ = false;
  homes_only_loaded_ = false;
  // Released, not cleared: round 4 reads back far fewer records (its
  // home records) than rounds 1-3 held (with the guests).
  // Reading everything back (not round 4's homes only), the count is
  // known: reserved, the vectors do not grow by doubling (the records
  // vector alone is 128 bytes a record, and a doubling holds both).
  const size_t expect = whole_homes_only_ ? 0 : std::max(records_.size(), record_count_);
  std::vector<Record>().swap(records_);
  std::vector<Origin>().swap(origins_);
  std::vector<uint32_t>().swap(guest_of_);
  records_.reserve(expect);
  origins_.reserve(expect);
  guest_of_.reserve(expect);
  guests_.Clear();
  values_.Clear();
  values_spilled_ = false;
  std::vector<uint32_t>().swap(packed_of_);
  batches_.clear();
  batch_names_.clear();
  record_count_ = 0;
  canonical_ = true;
  SLUICE_RETURN_IF_ERROR(
      log_->ReadAll([this](std::string_view payload) { return ReplayFrame(payload); }));
  handed_over_ = false;
  compared_ = false;
  guests_pruned_ = false;
  guests_taken_ = false;
  return Status::Ok();
}

void LoggedDedupShard::Adopt(const v1::BatchId& id, std::string name, const Schema& schema,
                             std::vector<Record> records, const std::vector<uint32_t>& positions,
                             std::string_view guest_rows) {
  const uint32_t b = static_cast<uint32_t>(batches_.size());
  batches_.push_back({id, name});
  batch_names_.insert(std::move(name));
  if (records.empty() && guest_rows.empty()) return;
  if (!schema_) schema_ = schema;
  record_count_ += records.size();
  const size_t first = records_.size();
  // No guest rows with the batch (one shard): folded here, held by name.
  if (guest_rows.empty() && FoldHomeRows(schema, records)) {
    for (size_t i = 0; i < records.size(); ++i) {
      records_.push_back(std::move(records[i]));
      const bool routed = positions.size() == records.size();
      origins_.push_back({b, routed ? positions[i] : static_cast<uint32_t>(i)});
    }
    canonical_ = false;
    ++generation_;
    return;
  }
  EvenPacked();
  for (size_t i = 0; i < records.size(); ++i) {
    records_.push_back(std::move(records[i]));
    const bool routed = positions.size() == records.size();
    origins_.push_back({b, routed ? positions[i] : static_cast<uint32_t>(i)});
    guest_of_.push_back(guest::kHome);
    if (!packed_of_.empty()) packed_of_.push_back(PackedValues::kNone);
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
    if (!packed_of_.empty()) packed_of_.push_back(PackedValues::kNone);
  });
  canonical_ = false;
  ++generation_;
}

struct LoggedDedupShard::HomeFolder {
  DedupSpec spec;  // the matcher's (FuzzyMatcherSpec)
  Schema schema;
  std::vector<BlockingRule> rules;
  compare::PairComparer comparer;  // points into spec and schema
};

bool LoggedDedupShard::FoldHomeRows(const Schema& schema, std::vector<Record>& records) {
  if (keep_whole_ || whole_homes_only_ || guest_rules_ == 0 || !spec_ || records.empty()) {
    return false;
  }
  if (!folder_ || !(folder_->schema == schema)) {
    auto folder = std::make_shared<HomeFolder>();
    folder->spec = FuzzyMatcherSpec(*spec_);
    folder->schema = schema;
    folder->rules = FuzzyBlockingRules(*spec_);
    if (folder->rules.size() != guest_rules_ ||
        !folder->comparer.Init(folder->spec, folder->schema).ok()) {
      return false;
    }
    folder_ = std::move(folder);
  }
  std::vector<std::vector<uint64_t>> keys;
  for (const BlockingRule& rule : folder_->rules) {
    auto k = BlockingKeys(rule, folder_->spec.placeholders, schema, records);
    if (!k.ok()) return false;
    keys.push_back(std::move(*k));
  }
  // Every record already held gets kNone if it was held whole.
  if (packed_of_.empty()) packed_of_.assign(records_.size(), PackedValues::kNone);
  std::string row_keys(guest_rules_ * 8, '\0');
  std::string folded;
  for (size_t i = 0; i < records.size(); ++i) {
    for (size_t r = 0; r < guest_rules_; ++r) {
      for (int byte = 0; byte < 8; ++byte) {
        row_keys[r * 8 + byte] = static_cast<char>((keys[r][i] >> (8 * byte)) & 0xff);
      }
    }
    folded.clear();
    folder_->comparer.FoldRow(records[i], &folded);
    guest::Row row;
    row.home = true;
    row.index = static_cast<uint32_t>(i);
    row.keys = row_keys.data();
    row.folded = folded;
    guest_of_.push_back(guests_.Add(row, guest_rules_));
    packed_of_.push_back(values_.Add(schema, records[i].values));
  }
  // Past kHeldValues records, the values go to a spill in the log's folder:
  // at 8M records they would be 1.2 GB (docs/dedup.md#one-shards-memory).
  if (values_.size() >= kHeldValues && !values_spilled_ && !spill_dir_.empty()) {
    values_.SpillTo(std::make_shared<PackedSpill>(spill_dir_));
    values_spilled_ = true;
  }
  // The values wait in values_ (and the log) until clustering. (Swapped,
  // not `= {}`, which keeps a vector's buffer.)
  for (Record& r : records) std::vector<Value>().swap(r.values);
  values_dropped_ = true;
  return true;
}

bool LoggedDedupShard::AllPacked() const {
  return !records_.empty() && packed_of_.size() == records_.size() &&
         std::find(packed_of_.begin(), packed_of_.end(), PackedValues::kNone) == packed_of_.end();
}

Status LoggedDedupShard::Prepare() {
  if (handed_over_) SLUICE_RETURN_IF_ERROR(Reload());
  if (records_.empty()) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(PrepareRules());
  Canonicalize();
  return Status::Ok();
}

Status LoggedDedupShard::PrepareRules() {
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

void LoggedDedupShard::Canonicalize() {
  if (canonical_) return;
  std::vector<uint32_t> perm = dedup_internal::CanonicalOrder(records_, origins_, batches_);
  EvenPacked();
  const bool packed = !packed_of_.empty();
  // In place, cycle by cycle: a second vector of records would double the
  // shard's largest allocation at its peak.
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] == i) continue;
    Record record = std::move(records_[i]);
    const Origin origin = origins_[i];
    const uint32_t guest = guest_of_[i];
    const uint32_t values = packed ? packed_of_[i] : PackedValues::kNone;
    size_t j = i;
    while (perm[j] != i) {
      const size_t k = perm[j];
      records_[j] = std::move(records_[k]);
      origins_[j] = origins_[k];
      guest_of_[j] = guest_of_[k];
      if (packed) packed_of_[j] = packed_of_[k];
      perm[j] = static_cast<uint32_t>(j);
      j = k;
    }
    records_[j] = std::move(record);
    origins_[j] = origin;
    guest_of_[j] = guest;
    if (packed) packed_of_[j] = values;
    perm[j] = static_cast<uint32_t>(j);
  }
  canonical_ = true;
  ++generation_;
}

Status LoggedDedupShard::DropUnpairedGuests(const ShardMap& shards) {
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
  EvenPacked();
  size_t kept = 0;
  for (size_t i = 0; i < records_.size(); ++i) {
    if (!need[i]) continue;
    if (kept != i) {
      records_[kept] = std::move(records_[i]);
      origins_[kept] = origins_[i];
      if (!packed_of_.empty()) packed_of_[kept] = packed_of_[i];
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
  if (!packed_of_.empty()) packed_of_.resize(kept);
  ++generation_;
  return PrepareRules();
}

Result<std::shared_ptr<const dedup_internal::RoundFour>> LoggedDedupShard::RoundFourOf(
    const ShardMap& shards, const v1::DedupEdges& all) {
  const uint64_t digest =
      Hash64(all.SerializeAsString()) ^ (uint64_t{shards.count()} << 32 | shards.self());
  if (round_four_ && round_four_digest_ == digest) return round_four_;
  round_four_.reset();
  SLUICE_ASSIGN_OR_RETURN(round_four_, dedup_internal::PrepareRoundFour(
                                           shards, all, spec_ && spec_->review_on_conflict));
  round_four_digest_ = digest;
  return round_four_;
}

void LoggedDedupShard::DropGuests(const ShardMap& shards) {
  if (shards.single() || records_.empty()) return;
  EvenPacked();
  size_t kept = 0;
  for (size_t i = 0; i < records_.size(); ++i) {
    if (shards.HomeOf(records_[i].source, records_[i].key) != shards.self()) continue;
    if (kept != i) {
      records_[kept] = std::move(records_[i]);
      origins_[kept] = origins_[i];
      if (!packed_of_.empty()) packed_of_[kept] = packed_of_[i];
    }
    ++kept;
  }
  records_.resize(kept);
  records_.shrink_to_fit();
  origins_.resize(kept);
  origins_.shrink_to_fit();
  if (!packed_of_.empty()) packed_of_.resize(kept);
  guest_of_.assign(kept, guest::kHome);
  guest_of_.shrink_to_fit();
  guests_.Clear();
  ++generation_;
  handed_over_ = true;  // any later round reads the whole log again first
}

std::vector<uint8_t> LoggedDedupShard::Repeats() const {
  std::vector<uint8_t> skip(records_.size(), 0);
  for (size_t i = 1; i < records_.size(); ++i) {
    skip[i] =
        records_[i].key == records_[i - 1].key && records_[i].source == records_[i - 1].source;
  }
  return skip;
}

std::pair<uint64_t, uint64_t> LoggedDedupShard::HomeFingerprint(const ShardMap& shards) const {
  KeyChecksum sum;
  uint64_t n = 0;
  for (const Record& r : records_) {
    if (shards.HomeOf(r.source, r.key) != shards.self()) continue;
    sum.Add(r.source, r.key);
    ++n;
  }
  return {n, sum.value()};
}

}  // namespace sluice::dedup_internal
