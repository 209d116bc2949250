#include "deduper/shard_route.h"

#include "deduper/compare_pass.h"
#include "deduper/dedup_internal.h"
#include "deduper/fuzzy_matcher.h"
#include "deduper/guest_rows.h"

namespace sluice {

// The matcher's spec and a comparer compiled from it, on the heap: the
// comparer points into both, and the router moves.
struct ShardRouter::Folder {
  DedupSpec spec;
  Schema schema;
  compare::PairComparer comparer;
};

Result<ShardRouter> ShardRouter::Create(const Plan& plan, const std::string& entity,
                                        const Schema& schema, const ShardMap& shards) {
  auto it = plan.dedup.find(entity);
  return ForSpec(it == plan.dedup.end() ? nullptr : &it->second, schema, shards);
}

Result<ShardRouter> ShardRouter::ForSpec(const DedupSpec* spec, const Schema& schema,
                                         const ShardMap& shards) {
  ShardRouter router;
  router.shards_ = shards;
  router.schema_ = schema;
  if (spec == nullptr) return router;
  router.spec_ = *spec;
  router.fuzzy_ = spec->fuzzy();
  // Checked even on one shard: a plan that cannot route fails the same way
  // whatever the shard count.
  const std::vector<Record> none;
  if (router.fuzzy_) {
    router.rules_ = dedup_internal::FuzzyBlockingRules(*spec);
    for (const BlockingRule& rule : router.rules_) {
      SLUICE_RETURN_IF_ERROR(BlockingKeys(rule, spec->placeholders, schema, none).status());
    }
  } else {
    SLUICE_RETURN_IF_ERROR(dedup_internal::ExactKeyHashes(*spec, schema, none).status());
  }
  router.blocked_ = !shards.single();
  if (router.fuzzy_ && router.blocked_) {
    auto folder = std::make_shared<Folder>();
    folder->spec = dedup_internal::FuzzyMatcherSpec(*spec);
    folder->schema = schema;
    SLUICE_RETURN_IF_ERROR(folder->comparer.Init(folder->spec, folder->schema));
    router.folder_ = std::move(folder);
  }
  return router;
}

std::vector<std::vector<uint32_t>> ShardRouter::Route(const std::vector<Record>& records) const {
  const uint32_t count = shards_.count();
  std::vector<std::vector<uint32_t>> out(count);
  if (shards_.single()) {
    out[0].resize(records.size());
    for (uint32_t i = 0; i < records.size(); ++i) out[0][i] = i;
    return out;
  }
  const std::vector<std::vector<uint64_t>> keys = Keys(records);
  std::vector<uint8_t> to(count);
  for (uint32_t i = 0; i < records.size(); ++i) {
    std::fill(to.begin(), to.end(), 0);
    to[shards_.HomeOf(records[i].source, records[i].key)] = 1;
    for (const std::vector<uint64_t>& k : keys) {
      if (k[i] != 0) to[shards_.OwnerOfBlock(k[i])] = 1;
    }
    for (uint32_t s = 0; s < count; ++s) {
      if (to[s]) out[s].push_back(i);
    }
  }
  return out;
}

}  // namespace sluice

namespace sluice {

std::vector<std::vector<uint64_t>> ShardRouter::Keys(const std::vector<Record>& records) const {
  std::vector<std::vector<uint64_t>> keys;
  if (!blocked_) return keys;
  if (fuzzy_) {
    for (const BlockingRule& rule : rules_) {
      auto k = BlockingKeys(rule, spec_.placeholders, schema_, records);
      if (k.ok()) keys.push_back(std::move(*k));  // checked in Create
    }
  } else if (auto k = dedup_internal::ExactKeyHashes(spec_, schema_, records); k.ok()) {
    keys.push_back(std::move(*k));
  }
  return keys;
}

std::vector<RecordBatch> ShardRouter::Split(const RecordBatch& batch) const {
  const uint32_t count = shards_.count();
  std::vector<RecordBatch> parts(count);
  for (RecordBatch& part : parts) {
    part.id = batch.id;
    part.epoch = batch.epoch;
    part.range = batch.range;
    part.schema = batch.schema;
  }
  auto whole = [&](uint32_t s, uint32_t i) {
    parts[s].records.push_back(batch.records[i]);
    parts[s].positions.push_back(i);
  };
  if (!folder_) {
    const std::vector<std::vector<uint32_t>> routes = Route(batch.records);
    for (uint32_t s = 0; s < count; ++s) {
      for (uint32_t i : routes[s]) whole(s, i);
    }
    return parts;
  }
  if (guests_by_request_) {
    // Each record to its home only, unfolded: the shard computes its home
    // rows itself as they arrive (LoggedDedupShard::FoldHomeRows, as one
    // shard does), so the folding runs on N shards at once instead of in
    // the one router before them, and the pre-round moves the guest rows.
    for (uint32_t i = 0; i < batch.records.size(); ++i) {
      whole(shards_.HomeOf(batch.records[i].source, batch.records[i].key), i);
    }
    return parts;
  }
  // Guest rows and home rows: keys computed and fields folded once per
  // record, here.
  const std::vector<std::vector<uint64_t>> keys = Keys(batch.records);
  const size_t rules = keys.size();
  std::vector<guest::Writer> writers;
  for (RecordBatch& part : parts) writers.emplace_back(&part.guest_rows, rules);
  std::vector<uint8_t> to(count);
  std::vector<uint64_t> row_keys(rules);
  std::string folded;
  for (uint32_t i = 0; i < batch.records.size(); ++i) {
    const Record& r = batch.records[i];
    const uint32_t home = shards_.HomeOf(r.source, r.key);
    std::fill(to.begin(), to.end(), 0);
    bool any = false;
    for (size_t k = 0; k < rules; ++k) {
      row_keys[k] = keys[k][i];
      if (keys[k][i] == 0) continue;
      const uint32_t owner = shards_.OwnerOfBlock(keys[k][i]);
      if (owner != home) to[owner] = any = true;
    }
    folded.clear();
    folder_->comparer.FoldRow(r, &folded);
    writers[home].AddHome(static_cast<uint32_t>(parts[home].records.size()), row_keys.data(),
                          folded);
    whole(home, i);
    if (!any) continue;
    for (uint32_t s = 0; s < count; ++s) {
      if (to[s]) writers[s].Add(r, i, row_keys.data(), folded);
    }
  }
  for (RecordBatch& part : parts) {
    if (part.guest_rows.size() <= 1) part.guest_rows.clear();  // the rule count only
  }
  return parts;
}

}  // namespace sluice
