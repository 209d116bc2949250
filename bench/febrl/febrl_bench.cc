// bench/febrl: pairwise precision, recall and F1 of the deduper on the Febrl
// data, through the same code a run uses: the plan's sources are read by the
// connectors, mapped by the transformer and resolved by a dedup shard.
//
//   sluice-bench-febrl PLAN [--sweep]
//
// Truth: records rec-N-... with the same N are the same person. Predicted
// pairs: every pair inside a merged cluster (survivor plus merged keys).
// Records held for review count as not merged. --sweep re-resolves with
// merge thresholds from -4 to 24 and prints each one's figures. The last
// stdout line is one JSON object.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/connectors/connector.h"
#include "common/plan/plan.h"
#include "deduper/dedup.h"
#include "transformer/transform.h"

namespace sluice {
namespace {

// "rec-123-dup-0" -> 123; -1 when the key has no number.
long TruthId(const std::string& key) {
  if (key.rfind("rec-", 0) != 0) return -1;
  return std::strtol(key.c_str() + 4, nullptr, 10);
}

struct Scores {
  uint64_t predicted = 0, true_pairs = 0, correct = 0;
  double precision() const { return predicted ? double(correct) / predicted : 1.0; }
  double recall() const { return true_pairs ? double(correct) / true_pairs : 1.0; }
  double f1() const {
    const double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
  }
};

Scores Score(const Resolution& res, const std::map<long, uint64_t>& truth_sizes) {
  Scores s;
  for (const auto& [id, n] : truth_sizes) s.true_pairs += n * (n - 1) / 2;
  for (const RecordBatch& b : res.batches) {
    for (const Record& r : b.records) {
      if (r.merged.empty()) continue;
      std::vector<long> ids{TruthId(r.key)};
      for (const SourceKey& m : r.merged) ids.push_back(TruthId(m.key));
      const uint64_t n = ids.size();
      s.predicted += n * (n - 1) / 2;
      std::map<long, uint64_t> count;
      for (long id : ids) ++count[id];
      for (const auto& [id, c] : count) s.correct += c * (c - 1) / 2;
    }
  }
  return s;
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: sluice-bench-febrl PLAN [--sweep]\n");
    return 2;
  }
  const bool sweep = argc > 2 && std::string(argv[2]) == "--sweep";
  auto loaded = LoadPlan(argv[1]);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.status().ToString().c_str());
    return 2;
  }
  Plan plan = std::move(loaded).value();
  const std::string entity = plan.mappings.front().entity;

  // Read and map every source, as the extractor and transformer would.
  std::vector<RecordBatch> batches;
  std::map<long, uint64_t> truth_sizes;
  uint64_t records = 0;
  for (const Mapping* m : plan.MappingsFor(entity)) {
    const SourceSpec* spec = plan.FindSource(m->source);
    auto source = OpenSource(*spec);
    if (!source.ok()) {
      std::fprintf(stderr, "%s\n", source.status().ToString().c_str());
      return 1;
    }
    auto transformer = EntityTransformer::Create(plan, entity, m->source, (*source)->schema());
    if (!transformer.ok()) {
      std::fprintf(stderr, "%s\n", transformer.status().ToString().c_str());
      return 1;
    }
    for (uint64_t seq = 0;; ++seq) {
      RecordBatch raw, mapped;
      std::vector<v1::Fate> rejects;
      auto more = (*source)->Next(static_cast<size_t>(plan.batch_size), &raw, &rejects);
      if (!more.ok()) {
        std::fprintf(stderr, "%s\n", more.status().ToString().c_str());
        return 1;
      }
      if (!raw.records.empty()) {
        raw.id.set_run_id("febrl");
        raw.id.set_entity(entity);
        raw.id.set_source(m->source);
        raw.id.set_sequence(seq);
        (*transformer)->Apply(raw, &mapped, &rejects);
        mapped.id = raw.id;
        for (const Record& r : mapped.records) ++truth_sizes[TruthId(r.key)];
        records += mapped.records.size();
        batches.push_back(std::move(mapped));
      }
      if (!rejects.empty()) {
        std::fprintf(stderr, "%zu record(s) rejected while reading %s, e.g. %s\n", rejects.size(),
                     m->source.c_str(), rejects[0].reason().c_str());
      }
      if (!*more) break;
    }
  }

  const std::string log = (std::filesystem::temp_directory_path() /
                           ("sluice-febrl-" + std::to_string(getpid()) + ".log"))
                              .string();
  auto resolve = [&](const Plan& p, double* seconds) -> Result<Resolution> {
    std::filesystem::remove(log);
    SLUICE_ASSIGN_OR_RETURN(auto shard, DedupShard::Create(p, entity, log));
    for (const RecordBatch& b : batches) SLUICE_RETURN_IF_ERROR(shard->Ingest(b).status());
    v1::BatchId id;
    id.set_run_id("febrl");
    id.set_entity(entity);
    id.set_source("dedup/0");
    const auto start = std::chrono::steady_clock::now();
    auto res = shard->Resolve(id, 4096);
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return res;
  };

  if (sweep) {
    for (double t = -4; t <= 24; t += 1) {
      Plan p = plan;
      p.dedup[entity].merge_threshold = t;
      p.dedup[entity].review_threshold = t;
      p.dedup[entity].weak_link_threshold = t;
      double secs = 0;
      auto res = resolve(p, &secs);
      if (!res.ok()) return 1;
      const Scores s = Score(*res, truth_sizes);
      std::printf("merge >= %5.1f: precision %.4f recall %.4f F1 %.4f\n", t, s.precision(),
                  s.recall(), s.f1());
    }
  }
  double secs = 0;
  auto res = resolve(plan, &secs);
  std::filesystem::remove(log);
  if (!res.ok()) {
    std::fprintf(stderr, "%s\n", res.status().ToString().c_str());
    return 1;
  }
  const Scores s = Score(*res, truth_sizes);
  uint64_t review = 0;
  for (const auto& f : res->fates) review += f.kind() == v1::FATE_REVIEW;
  for (const std::string& note : res->stats.notes) std::printf("%s\n", note.c_str());
  std::printf(
      "records %llu, candidate pairs compared %llu, true pairs %llu, predicted %llu, "
      "correct %llu, held for review %llu records\n",
      (unsigned long long)records, (unsigned long long)res->stats.comparisons,
      (unsigned long long)s.true_pairs, (unsigned long long)s.predicted,
      (unsigned long long)s.correct, (unsigned long long)review);
  std::printf("precision %.4f recall %.4f F1 %.4f in %.3f s\n", s.precision(), s.recall(), s.f1(),
              secs);
  std::printf(
      "{\"plan\": \"%s\", \"records\": %llu, \"comparisons\": %llu, \"true_pairs\": %llu, "
      "\"predicted_pairs\": %llu, \"correct_pairs\": %llu, \"review_records\": %llu, "
      "\"precision\": %.4f, \"recall\": %.4f, \"f1\": %.4f, \"resolve_s\": %.3f}\n",
      plan.name.c_str(), (unsigned long long)records, (unsigned long long)res->stats.comparisons,
      (unsigned long long)s.true_pairs, (unsigned long long)s.predicted,
      (unsigned long long)s.correct, (unsigned long long)review, s.precision(), s.recall(), s.f1(),
      secs);
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) { return sluice::Main(argc, argv); }
