#include "coordinator/dedup_cmd.h"

#include <cstdio>
#include <vector>

#include "common/connectors/connector.h"
#include "common/plan/plan.h"
#include "deduper/fuzzy_matcher.h"
#include "transformer/transform.h"

namespace sluice {
namespace {

// Every mapped record of `entity`, as the transformer would pass it on.
Result<std::vector<Record>> ReadEntity(const Plan& plan, const std::string& entity) {
  std::vector<Record> records;
  for (const Mapping* m : plan.MappingsFor(entity)) {
    const SourceSpec* spec = plan.FindSource(m->source);
    if (spec == nullptr) continue;
    SLUICE_ASSIGN_OR_RETURN(auto source, OpenSource(*spec));
    SLUICE_ASSIGN_OR_RETURN(auto transformer,
                            EntityTransformer::Create(plan, entity, m->source, source->schema()));
    while (true) {
      RecordBatch raw, mapped;
      std::vector<v1::Fate> rejects;
      SLUICE_ASSIGN_OR_RETURN(bool more,
                              source->Next(static_cast<size_t>(plan.batch_size), &raw, &rejects));
      raw.id.set_entity(entity);
      raw.id.set_source(m->source);
      if (!raw.records.empty()) {
        transformer->Apply(raw, &mapped, &rejects);
        for (Record& r : mapped.records) records.push_back(std::move(r));
      }
      if (!more) break;
    }
  }
  return records;
}

}  // namespace

int CmdDedupEstimate(const std::string& plan_path, const std::string& env) {
  auto plan = LoadPlan(plan_path, env);
  if (!plan.ok()) {
    std::fprintf(stderr, "%s\n", plan.status().message().c_str());
    return 2;
  }
  bool any = false;
  for (const auto& [entity, spec] : plan->dedup) {
    if (!spec.fuzzy()) continue;
    any = true;
    const Entity* e = plan->model.Find(entity);
    if (e == nullptr) continue;
    auto records = ReadEntity(*plan, entity);
    if (!records.ok()) {
      std::fprintf(stderr, "dedup %s: %s\n", entity.c_str(), records.status().ToString().c_str());
      return 1;
    }
    auto estimate = EstimateBlocking(spec, e->ToSchema(), *records);
    if (!estimate.ok()) {
      std::fprintf(stderr, "dedup %s: %s\n", entity.c_str(), estimate.status().ToString().c_str());
      return 2;
    }
    std::printf("entity %s: %zu records, max_block_size %lld\n", entity.c_str(), records->size(),
                static_cast<long long>(spec.max_block_size));
    std::printf("  %-32s %10s %10s %14s %9s %14s\n", "blocking rule", "blocked", "blocks",
                "new pairs", "largest", "oversize");
    uint64_t total = 0;
    for (const BlockingEstimate& b : *estimate) {
      total += b.pairs;
      std::printf("  %-32s %10llu %10llu %14llu %9llu %6llu (%llu records)\n", b.rule.c_str(),
                  (unsigned long long)b.blocked, (unsigned long long)b.blocks,
                  (unsigned long long)b.pairs, (unsigned long long)b.largest_block,
                  (unsigned long long)b.oversize_blocks, (unsigned long long)b.oversize_records);
    }
    std::printf("  expected comparisons: %llu (each candidate pair compared once)\n",
                (unsigned long long)total);
  }
  if (!any) std::printf("no entity of the plan has fuzzy dedup (blocking rules)\n");
  return 0;
}

}  // namespace sluice
