#include "deduper/population_blocks.h"

#include "deduper/dedup_internal.h"
#include "deduper/fuzzy_matcher.h"

namespace sluice {
namespace {

void Add(const std::string& rule, uint64_t block, const Record& r, v1::Commit* commit) {
  v1::PopulationBlock* b = commit->add_population_blocks();
  b->set_rule(rule);
  b->set_block(block);
  b->set_source(r.source);
  b->set_key(r.key);
}

}  // namespace

Status AddPopulationBlocks(const DedupSpec& spec, const ShardMap& shards, const RecordBatch& batch,
                           v1::Commit* commit) {
  std::vector<std::pair<std::string, std::vector<uint64_t>>> rules;
  if (spec.fuzzy()) {
    for (const BlockingRule& rule : dedup_internal::FuzzyBlockingRules(spec)) {
      SLUICE_ASSIGN_OR_RETURN(auto keys,
                              BlockingKeys(rule, spec.placeholders, batch.schema, batch.records));
      rules.emplace_back(rule.name, std::move(keys));
    }
  } else {
    SLUICE_ASSIGN_OR_RETURN(auto keys,
                            dedup_internal::ExactKeyHashes(spec, batch.schema, batch.records));
    rules.emplace_back("exact", std::move(keys));
  }
  for (size_t i = 0; i < batch.records.size(); ++i) {
    const Record& r = batch.records[i];
    if (r.values.empty() || (!shards.single() && shards.HomeOf(r.source, r.key) != shards.self())) {
      continue;
    }
    bool blocked = false;
    for (const auto& [rule, keys] : rules) {
      if (keys[i] == 0) continue;
      blocked = true;
      Add(rule, keys[i], r, commit);
    }
    if (!blocked) Add("", 0, r, commit);  // taken in all the same
  }
  return Status::Ok();
}

}  // namespace sluice
