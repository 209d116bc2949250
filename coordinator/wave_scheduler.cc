#include "coordinator/wave_scheduler.h"

#include "common/core/record.h"

namespace sluice::coordination {

WaveScheduler::WaveScheduler(const Plan& plan, std::string run_id, uint32_t dedup_shards)
    : plan_(plan), run_id_(std::move(run_id)), dedup_shards_(dedup_shards) {}

bool WaveScheduler::StartWave(int wave) {
  wave_ = wave;
  runs_.clear();
  started_.clear();
  finished_.clear();
  reconciling_ = false;
  return wave_ >= 0 && wave_ < static_cast<int>(plan_.waves.size());
}

std::vector<std::string> WaveScheduler::Ready() const {
  return ReadyEntities(spec(), started_, finished_);
}

EntityRun& WaveScheduler::Start(const std::string& entity) {
  started_.insert(entity);
  EntityRun& run = runs_[entity];
  run.entity = entity;
  for (const Mapping* m : plan_.MappingsFor(entity)) run.streams[m->source].source = m->source;
  return run;
}

void WaveScheduler::Finish(const std::string& entity) {
  finished_.insert(entity);
  runs_.erase(entity);
}

void WaveScheduler::MarkFinished(const std::string& entity) {
  started_.insert(entity);
  finished_.insert(entity);
}

bool WaveScheduler::StartReconcile() {
  if (!runs_.empty() || reconciling_ || finished_.size() < spec().entities.size()) return false;
  reconciling_ = true;
  return true;
}

EntityRun* WaveScheduler::RunOf(const v1::BatchId& id) {
  if (static_cast<int>(id.wave()) != wave_ || id.run_id() != run_id_) return nullptr;
  auto it = runs_.find(id.entity());
  return it == runs_.end() ? nullptr : &it->second;
}

void WaveScheduler::Resolved(EntityRun& run, const v1::Commit& resolution) {
  run.resolved = true;
  run.resolution_id = resolution.batch();
  run.phase = Phase::kOutput;
  const uint64_t size = static_cast<uint64_t>(plan_.batch_size);
  run.output_batches =
      run.shards ? run.shards->outputs().size() : (resolution.counts().out() + size - 1) / size;
  run.output_known = true;
}

v1::BatchId WaveScheduler::IngestId(const std::string& entity, const std::string& source,
                                    uint64_t seq) const {
  v1::BatchId id;
  id.set_run_id(run_id_);
  id.set_wave(static_cast<uint32_t>(wave_));
  id.set_entity(entity);
  id.set_source(source);
  id.set_sequence(seq);
  return id;
}

v1::BatchId WaveScheduler::OutputId(const EntityRun& run, uint64_t seq) const {
  if (run.shards && seq < run.shards->outputs().size()) return run.shards->outputs()[seq];
  return IngestId(run.entity, "dedup/0", seq);
}

std::vector<std::string> WaveScheduler::IngestBatches(const EntityRun& run) const {
  std::vector<std::string> names;
  for (const auto& [source, s] : run.streams) {
    for (uint64_t seq = 0; seq < s.batches; ++seq) {
      names.push_back(BatchName(IngestId(run.entity, source, seq)));
    }
  }
  return names;
}

std::vector<std::string> WaveScheduler::OutputBatches(const EntityRun& run) const {
  std::vector<std::string> names;
  for (uint64_t seq = 0; seq < run.output_batches; ++seq) {
    names.push_back(BatchName(OutputId(run, seq)));
  }
  return names;
}

bool WaveScheduler::Ingested(const EntityRun& run, const Ledger& ledger) const {
  for (const auto& [source, s] : run.streams) {
    if (!s.done) return false;
  }
  for (const std::string& name : IngestBatches(run)) {
    if (!ledger.Has(name, Stage::kDedupIngest)) return false;
  }
  return true;
}

bool WaveScheduler::OutputsAt(const EntityRun& run, Stage stage, const Ledger& ledger) const {
  for (const std::string& name : OutputBatches(run)) {
    if (!ledger.Has(name, stage)) return false;
  }
  return true;
}

std::string WaveScheduler::Waiting(const Ledger& ledger) const {
  std::string s;
  auto add = [&s](const std::string& what) { s += (s.empty() ? "" : "; ") + what; };
  for (const auto& [entity, run] : runs_) {
    switch (run.phase) {
      case Phase::kIngest: {
        std::string sources;
        for (const auto& [source, st] : run.streams) {
          sources +=
              (sources.empty() ? "" : ", ") + source + (st.done ? " extracted" : " extracting");
        }
        add("ingesting " + entity + " (" + sources + ")");
        break;
      }
      case Phase::kResolve:
        add("waiting for the deduper to resolve " + entity);
        break;
      case Phase::kOutput: {
        uint64_t loaded = 0;
        for (const std::string& name : OutputBatches(run)) {
          if (ledger.Has(name, Stage::kLoad)) ++loaded;
        }
        add("loading " + entity + " (" + std::to_string(loaded) + " of " +
            std::to_string(run.output_batches) + " batch(es) loaded)");
        break;
      }
    }
  }
  if (reconciling_) add("reconciling wave " + spec().name);
  if (s.empty()) s = "nothing in flight in wave " + spec().name;
  return s;
}

}  // namespace sluice::coordination
