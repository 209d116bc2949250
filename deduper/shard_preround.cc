// The pre-round of a multi-shard resolve (docs/dedup.md#guests-by-request):
// the router sends each shard its home records and their home rows only;
// before round 1 the shards find out which blocks hold two records or more
// and send a record's guest row only to the owners of those blocks.
#include "deduper/shard_preround.h"

#include <algorithm>
#include <unordered_map>

#include "common/runtime/codec.h"
#include "deduper/logged_dedup_shard.h"

namespace sluice::dedup_internal {

Status LoggedDedupShard::PrepareHomeRows(const ShardMap& shards) {
  if (homes_only_loaded_) handed_over_ = true;  // round 4 read the home rows out
  SLUICE_RETURN_IF_ERROR(Prepare());
  if (shards.single() || guest_rules_ == 0) {
    return Status::FailedPrecondition("dedup " + entity_ +
                                      ": the pre-round is for a fuzzy spec on several shards");
  }
  for (size_t i = 0; i < records_.size(); ++i) {
    const Record& r = records_[i];
    if (guest_of_[i] == guest::kHome) {
      return Status::FailedPrecondition("dedup " + entity_ + ": record " + r.source + "/" + r.key +
                                        " came without its home row: the pre-round needs the "
                                        "router's rows");
    }
    if (!guests_taken_ && shards.HomeOf(r.source, r.key) != shards.self()) {
      return Status::FailedPrecondition("dedup " + entity_ + ": guest " + r.source + "/" + r.key +
                                        " came with a batch: the router sent guests at ingest, "
                                        "no pre-round follows");
    }
  }
  return Status::Ok();
}

Result<std::vector<v1::DedupKeyClaims>> LoggedDedupShard::ClaimBlocks(const ShardMap& shards) {
  SLUICE_RETURN_IF_ERROR(PrepareHomeRows(shards));
  const uint32_t self = shards.self();
  std::vector<std::vector<std::vector<uint64_t>>> keys(
      shards.count(), std::vector<std::vector<uint64_t>>(guest_rules_));
  for (size_t i = 0; i < records_.size(); ++i) {
    const uint32_t g = guest_of_[i];
    if (shards.HomeOf(records_[i].source, records_[i].key) != self) continue;  // a guest
    for (size_t r = 0; r < guest_rules_; ++r) {
      const uint64_t k = guests_.Key(g, r);
      if (k == 0) continue;
      const uint32_t owner = shards.OwnerOfBlock(k);
      if (owner != self) keys[owner][r].push_back(k);
    }
  }
  std::vector<v1::DedupKeyClaims> out;
  for (uint32_t owner = 0; owner < shards.count(); ++owner) {
    if (owner == self) continue;
    v1::DedupKeyClaims& c = out.emplace_back();
    c.set_shard(self);
    c.set_owner(owner);
    for (std::vector<uint64_t>& k : keys[owner]) {
      std::sort(k.begin(), k.end());
      c.add_rules()->mutable_keys()->Assign(k.begin(), k.end());
      std::vector<uint64_t>().swap(k);
    }
  }
  return out;
}

Result<v1::DedupGuestWants> LoggedDedupShard::WantGuests(
    const ShardMap& shards, const std::vector<v1::DedupKeyClaims>& claims) {
  SLUICE_RETURN_IF_ERROR(PrepareHomeRows(shards));
  const uint32_t self = shards.self();
  for (const v1::DedupKeyClaims& c : claims) {
    if (c.owner() != self || c.shard() == self || c.shard() >= shards.count() ||
        static_cast<size_t>(c.rules_size()) != guest_rules_) {
      return Status::InvalidArgument(
          "dedup " + entity_ + ": key claims of shard " + std::to_string(c.shard()) +
          " for shard " + std::to_string(c.owner()) + " with " + std::to_string(c.rules_size()) +
          " rule(s) reached shard " + std::to_string(self));
    }
  }
  v1::DedupGuestWants out;
  out.set_owner(self);
  // Per rule: every key of the blocks owned here, with whether another
  // shard's record has it; a block of two or more with one of those wants
  // the others' rows (every occurrence counted, as GroupBlocks counts).
  std::vector<uint8_t> home(records_.size());
  for (size_t i = 0; i < records_.size(); ++i) {
    home[i] = guests_taken_ ? shards.HomeOf(records_[i].source, records_[i].key) == self : 1;
  }
  std::vector<std::pair<uint64_t, bool>> all;
  for (size_t r = 0; r < guest_rules_; ++r) {
    all.clear();
    for (size_t i = 0; i < records_.size(); ++i) {
      if (!home[i]) continue;
      const uint64_t k = guests_.Key(guest_of_[i], r);
      if (k != 0 && shards.OwnerOfBlock(k) == self) all.emplace_back(k, false);
    }
    for (const v1::DedupKeyClaims& c : claims) {
      for (uint64_t k : c.rules(static_cast<int>(r)).keys()) all.emplace_back(k, true);
    }
    std::sort(all.begin(), all.end());
    auto* wanted = out.add_rules()->mutable_keys();
    for (size_t i = 0; i < all.size();) {
      size_t j = i;
      bool foreign = false;
      for (; j < all.size() && all[j].first == all[i].first; ++j) foreign |= all[j].second;
      if (j - i >= 2 && foreign) wanted->Add(all[i].first);
      i = j;
    }
  }
  return out;
}

Result<std::map<uint32_t, std::vector<RecordBatch>>> LoggedDedupShard::GuestsFor(
    const ShardMap& shards, const std::vector<v1::DedupGuestWants>& wants) {
  SLUICE_RETURN_IF_ERROR(PrepareHomeRows(shards));
  const uint32_t self = shards.self();
  // Per owner, per rule: the keys it wants (ascending).
  std::vector<const v1::DedupGuestWants*> of(shards.count(), nullptr);
  for (const v1::DedupGuestWants& w : wants) {
    if (w.owner() >= shards.count() || static_cast<size_t>(w.rules_size()) != guest_rules_) {
      return Status::InvalidArgument("dedup " + entity_ + ": guest wants of shard " +
                                     std::to_string(w.owner()) + " with " +
                                     std::to_string(w.rules_size()) + " rule(s)");
    }
    if (w.owner() != self) of[w.owner()] = &w;
  }
  // (owner, batch index) -> the batch of rows, and its writer.
  std::map<std::pair<uint32_t, uint32_t>, RecordBatch> parts;
  std::map<std::pair<uint32_t, uint32_t>, guest::Writer> writers;
  std::vector<uint64_t> keys(guest_rules_);
  std::vector<uint8_t> to(shards.count());
  for (size_t i = 0; i < records_.size(); ++i) {
    const Record& rec = records_[i];
    if (shards.HomeOf(rec.source, rec.key) != self) continue;
    const uint32_t g = guest_of_[i];
    std::fill(to.begin(), to.end(), 0);
    bool any = false;
    for (size_t r = 0; r < guest_rules_; ++r) {
      keys[r] = guests_.Key(g, r);
      if (keys[r] == 0) continue;
      const uint32_t owner = shards.OwnerOfBlock(keys[r]);
      if (owner == self || of[owner] == nullptr || to[owner]) continue;
      const auto& wanted = of[owner]->rules(static_cast<int>(r)).keys();
      if (std::binary_search(wanted.begin(), wanted.end(), keys[r])) to[owner] = any = true;
    }
    if (!any) continue;
    const std::string_view folded(guests_.Folded(g), guests_.FoldedSize(g));
    const uint32_t b = origins_[i].batch;
    for (uint32_t owner = 0; owner < shards.count(); ++owner) {
      if (!to[owner]) continue;
      const std::pair<uint32_t, uint32_t> at{owner, b};
      auto w = writers.find(at);
      if (w == writers.end()) {
        RecordBatch& part = parts[at];
        part.id = batches_[b].id;
        part.schema = *schema_;
        w = writers.emplace(at, guest::Writer(&part.guest_rows, guest_rules_)).first;
      }
      w->second.Add(rec, origins_[i].position, keys.data(), folded);
    }
  }
  std::map<uint32_t, std::vector<RecordBatch>> out;
  for (auto& [at, part] : parts) out[at.first].push_back(std::move(part));
  return out;
}

Status LoggedDedupShard::TakeGuests(std::vector<RecordBatch> guests) {
  if (guests_taken_) handed_over_ = true;  // taken before: the log again, then these
  if (homes_only_loaded_) handed_over_ = true;
  SLUICE_RETURN_IF_ERROR(Prepare());
  for (const RecordBatch& batch : guests) {
    if (!batch.records.empty() || (!batch.id.entity().empty() && batch.id.entity() != entity_)) {
      return Status::InvalidArgument("dedup " + entity_ + ": guest batch " + BatchName(batch.id) +
                                     " holds records or another entity's rows");
    }
    SLUICE_RETURN_IF_ERROR(guest::ForEach(batch.guest_rows, guest_rules_, 0, [](const guest::Row&) {
                           }).WithContext("guest batch " + BatchName(batch.id)));
    if (!schema_ && !batch.guest_rows.empty()) schema_ = batch.schema;  // no home record here
  }
  ReleaseRounds();  // a comparer may point into the store
  std::unordered_map<std::string, uint32_t> index;
  for (uint32_t b = 0; b < batches_.size(); ++b) index.emplace(batches_[b].name, b);
  for (RecordBatch& batch : guests) {
    std::string name = BatchName(batch.id);
    auto it = index.find(name);
    if (it == index.end()) {
      // A batch none of whose records is at home here: named for the
      // canonical order only (not counted as ingested).
      it = index.emplace(name, static_cast<uint32_t>(batches_.size())).first;
      batches_.push_back({batch.id, std::move(name)});
    }
    const uint32_t b = it->second;
    (void)guest::ForEach(batch.guest_rows, guest_rules_, 0, [&](const guest::Row& row) {
      Record& r = records_.emplace_back();
      r.source.assign(row.source);
      r.key.assign(row.key);
      origins_.push_back({b, row.position});
      guest_of_.push_back(guests_.Add(row, guest_rules_));
    });
    std::string().swap(batch.guest_rows);  // in the store now
  }
  guests_taken_ = true;
  guests_pruned_ = true;  // every row taken is in a block of two or more
  canonical_ = false;
  compared_ = false;
  ++generation_;
  Canonicalize();
  return PrepareRules();
}

}  // namespace sluice::dedup_internal

namespace sluice::preround {
namespace {

Result<dedup_internal::LoggedDedupShard*> Logged(DedupShard& shard) {
  auto* logged = dynamic_cast<dedup_internal::LoggedDedupShard*>(&shard);
  if (logged == nullptr) {
    return Status::InvalidArgument("the pre-round needs a shard made by DedupShard::Create");
  }
  return logged;
}

}  // namespace

Result<std::vector<v1::DedupKeyClaims>> ClaimBlocks(DedupShard& shard, const ShardMap& shards) {
  SLUICE_ASSIGN_OR_RETURN(auto* logged, Logged(shard));
  return logged->ClaimBlocks(shards);
}

Result<v1::DedupGuestWants> WantGuests(DedupShard& shard, const ShardMap& shards,
                                       const std::vector<v1::DedupKeyClaims>& claims) {
  SLUICE_ASSIGN_OR_RETURN(auto* logged, Logged(shard));
  return logged->WantGuests(shards, claims);
}

Result<std::map<uint32_t, std::vector<RecordBatch>>> GuestsFor(
    DedupShard& shard, const ShardMap& shards, const std::vector<v1::DedupGuestWants>& wants) {
  SLUICE_ASSIGN_OR_RETURN(auto* logged, Logged(shard));
  return logged->GuestsFor(shards, wants);
}

Status TakeGuests(DedupShard& shard, std::vector<RecordBatch> guests) {
  SLUICE_ASSIGN_OR_RETURN(auto* logged, Logged(shard));
  return logged->TakeGuests(std::move(guests));
}

}  // namespace sluice::preround
