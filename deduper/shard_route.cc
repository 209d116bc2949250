#include "deduper/shard_route.h"

#include "deduper/dedup_internal.h"
#include "deduper/fuzzy_matcher.h"

namespace sluice {

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
  std::vector<std::vector<uint64_t>> keys;
  if (blocked_) {
    if (fuzzy_) {
      for (const BlockingRule& rule : rules_) {
        auto k = BlockingKeys(rule, spec_.placeholders, schema_, records);
        if (k.ok()) keys.push_back(std::move(*k));  // checked in Create
      }
    } else if (auto k = dedup_internal::ExactKeyHashes(spec_, schema_, records); k.ok()) {
      keys.push_back(std::move(*k));
    }
  }
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
