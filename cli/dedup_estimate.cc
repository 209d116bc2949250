// `sluice dedup estimate PLAN`: before a run, how many candidate pairs each
// blocking rule of each fuzzy dedup entity will give, the m/u estimate and
// whether it can be trusted (docs/dedup.md).
#include <algorithm>
#include <vector>

#include "cli/command.h"
#include "common/connectors/connector.h"
#include "common/plan/plan.h"
#include "deduper/dedup.h"
#include "deduper/fuzzy_matcher.h"
#include "transformer/transform.h"

namespace sluice::cli {
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

struct DedupEstimateArgs {
  std::string plan_path;
  std::string env;  // the environment whose overrides apply
};

// Reads and maps every source of the plan (as the extractor and transformer
// do), then counts per blocking rule the records blocked, the blocks, the new
// candidate pairs (pairs an earlier rule gives count once) and the blocks
// above max_block_size; then, with comparisons, matches the records as a run
// would and prints the m/u estimate and its diagnosis. Exit 1 when an
// estimate cannot be trusted.
int DedupEstimate(const DedupEstimateArgs& args, CommandContext& ctx) {
  if (Status st = ctx.LoadPlan(args.plan_path, args.env); !st.ok()) {
    ctx.err() << st.message() << "\n";
    return kExitInvalidPlan;
  }
  const Plan& plan = ctx.plan();
  bool any = false, degenerate = false;
  for (const auto& [entity, spec] : plan.dedup) {
    if (!spec.fuzzy()) continue;
    any = true;
    const Entity* e = plan.model.Find(entity);
    if (e == nullptr) continue;
    auto records = ReadEntity(plan, entity);
    if (!records.ok()) {
      ctx.err() << "dedup " << entity << ": " << records.status().ToString() << "\n";
      return kExitError;
    }
    auto estimate = EstimateBlocking(spec, e->ToSchema(), *records);
    if (!estimate.ok()) {
      ctx.err() << "dedup " << entity << ": " << estimate.status().ToString() << "\n";
      return kExitInvalidPlan;
    }
    ctx.Printf("entity %s: %zu records, max_block_size %lld\n", entity.c_str(), records->size(),
               static_cast<long long>(spec.max_block_size));
    ctx.Printf("  %-32s %10s %10s %14s %9s %14s\n", "blocking rule", "blocked", "blocks",
               "new pairs", "largest", "oversize");
    uint64_t total = 0;
    for (const BlockingEstimate& b : *estimate) {
      total += b.pairs;
      ctx.Printf("  %-32s %10llu %10llu %14llu %9llu %6llu (%llu records)\n", b.rule.c_str(),
                 (unsigned long long)b.blocked, (unsigned long long)b.blocks,
                 (unsigned long long)b.pairs, (unsigned long long)b.largest_block,
                 (unsigned long long)b.oversize_blocks, (unsigned long long)b.oversize_records);
    }
    ctx.Printf("  expected comparisons: %llu (each candidate pair compared once)\n",
               (unsigned long long)total);
    if (spec.comparisons.empty()) continue;
    // The m/u estimate as the run would make it (on one shard: the same
    // figures on any number), with its diagnosis.
    auto matcher = MakeFuzzyMatcher(spec, e->ToSchema());
    if (!matcher.ok()) {
      ctx.err() << "dedup " << entity << ": " << matcher.status().ToString() << "\n";
      return kExitInvalidPlan;
    }
    std::stable_sort(records->begin(), records->end(), [](const Record& a, const Record& b) {
      return a.source != b.source ? a.source < b.source : a.key < b.key;
    });
    (void)(*matcher)->Match(e->ToSchema(), *records);
    const MatchStats& stats = (*matcher)->stats();
    ctx.Printf("  estimate of m (EM) and u (random pairs):\n");
    for (const std::string& note : stats.notes) {
      if (note.rfind("EM over", 0) == 0 || note.rfind("comparison ", 0) == 0 ||
          (note.rfind("EM estimate", 0) == 0 && note.rfind("EM estimate not trusted", 0) != 0)) {
        ctx.Printf("    %s\n", note.c_str());
      }
    }
    ctx.Printf("  bands: merge %llu, review %llu, distinct %llu pairs\n",
               (unsigned long long)stats.merge, (unsigned long long)stats.review,
               (unsigned long long)stats.distinct);
    if (stats.estimate_problems.empty()) {
      ctx.Printf("  estimate: usable\n");
    } else {
      degenerate = true;
      const std::string then = spec.halt_on_degenerate_estimate
                                   ? "a run halts before loading " + entity
                                   : "estimation.on_degenerate: warn, a run goes on";
      ctx.Printf("  estimate: NOT TRUSTED (%s)\n", then.c_str());
      for (const std::string& p : stats.estimate_problems) ctx.Printf("    %s\n", p.c_str());
    }
  }
  if (!any) ctx.out() << "no entity of the plan has fuzzy dedup (blocking rules)\n";
  return degenerate ? kExitError : kExitOk;
}

}  // namespace

void AddDedupEstimateCommand(CommandSet& commands) {
  auto [estimate, args] =
      commands.Add(commands.Group("dedup", "fuzzy deduplication tools"), "estimate",
                   "candidate pairs per blocking rule, before a run", DedupEstimate);
  estimate->add_option("plan", args->plan_path, "the plan YAML")->required();
  estimate->add_option("--env", args->env, "the environment whose overrides apply");
}

}  // namespace sluice::cli
