#include "coordinator/progress.h"

#include <algorithm>
#include <cmath>

namespace sluice::coordination {
namespace {

uint64_t Sum(const std::map<std::string, uint64_t>& m) {
  uint64_t n = 0;
  for (const auto& [k, v] : m) n += v;
  return n;
}

// Stages where a record first meets the pipeline: their rejects are never
// ingested by the deduper.
bool EarlyStage(const std::string& stage) { return stage == "extract" || stage == "transform"; }

}  // namespace

void ProgressBook::AddEntity(int wave, const std::string& entity) {
  if (entities_.count(entity) == 0) order_.push_back(entity);
  entities_[entity].wave = wave;
}

ProgressBook::Entity* ProgressBook::Find(const std::string& entity) {
  auto it = entities_.find(entity);
  return it == entities_.end() ? nullptr : &it->second;
}

void ProgressBook::SetPhase(const std::string& entity, const std::string& phase) {
  if (Entity* e = Find(entity)) e->phase = phase;
}

void ProgressBook::SetSourceBytes(const std::string& entity, const std::string& source,
                                  uint64_t bytes) {
  if (Entity* e = Find(entity)) e->source_bytes[source] = bytes;
}

void ProgressBook::SourceDone(const std::string& entity, const std::string& source) {
  if (Entity* e = Find(entity)) e->source_done[source] = true;
}

void ProgressBook::SetOutputBatches(const std::string& entity, uint64_t batches) {
  if (Entity* e = Find(entity)) e->output_batches = batches;
}

void ProgressBook::SetFinished(const std::string& entity, uint64_t extracted, uint64_t loaded,
                               uint64_t merged, uint64_t rejected, uint64_t review) {
  Entity* e = Find(entity);
  if (e == nullptr) return;
  e->phase = "finished";
  e->finished_before = true;
  uint64_t v[5] = {extracted, loaded, merged, rejected, review};
  std::copy(v, v + 5, e->before);
}

void ProgressBook::OnCommit(const std::string& entity, const v1::Commit& c) {
  Entity* e = Find(entity);
  if (e == nullptr) return;
  const std::string batch = BatchLabel(c);
  const auto& n = c.counts();
  std::string stage = c.stage();
  if (stage == "dedup_resolve") {
    e->resolved = n.in();
    e->merged = n.merged();
    e->resolve_rejected = n.rejected();
    e->resolve_review = n.review();
    return;
  }
  if (stage == "dedup") return;  // the deduper emitting an output batch
  if (stage == "dedup_ingest") stage += "/" + std::to_string(c.dedup_shard());
  e->in[batch][stage] = n.in();
  e->failed[batch][stage] = n.rejected();
  e->held[batch][stage] = n.review();
  if (stage == "transform") e->transform_out[batch] = n.out();
  if (stage == "extract") e->extracted_to[batch] = {c.batch().source(), c.range().end_offset()};
  if (stage == "load") e->loaded[batch] = n.inserted() + n.updated() + n.unchanged();
}

std::string ProgressBook::BatchLabel(const v1::Commit& c) {
  const auto& b = c.batch();
  return b.source() + "/" + std::to_string(b.sequence());
}

void ProgressBook::FillEntity(const std::string& name, Entity& e, double now_s,
                              v1::EntityProgress* out) {
  out->set_wave(static_cast<uint32_t>(e.wave));
  out->set_entity(name);
  out->set_phase(e.phase);
  out->set_eta_seconds(-1);
  if (e.finished_before) {
    out->set_extracted(e.before[0]);
    out->set_loaded(e.before[1]);
    out->set_merged(e.before[2]);
    out->set_rejected(e.before[3]);
    out->set_review(e.before[4]);
    out->set_expected(e.before[0]);
    return;
  }
  uint64_t stage_in[5] = {0, 0, 0, 0, 0};  // extract, transform, ingest, validate, load
  uint64_t rejected = e.resolve_rejected, review = e.resolve_review, early = 0;
  std::map<std::string, uint64_t> rows_of;  // source -> rows extracted
  for (const auto& [batch, stages] : e.in) {
    uint64_t shards = 0, ingest_in = 0;
    for (const auto& [stage, count] : stages) {
      if (stage == "extract") {
        stage_in[0] += count;
        auto to = e.extracted_to.find(batch);
        if (to != e.extracted_to.end()) rows_of[to->second.first] += count;
      } else if (stage == "transform") {
        stage_in[1] += count;
      } else if (stage.rfind("dedup_ingest", 0) == 0) {
        ++shards;
        ingest_in += count;
      } else if (stage == "validate") {
        stage_in[3] += count;
      }
    }
    if (shards > 0) {
      // On N shards a batch is ingested once each took its share in.
      auto out = e.transform_out.find(batch);
      if (dedup_shards_ == 1) {
        stage_in[2] += ingest_in;
      } else if (shards >= dedup_shards_ && out != e.transform_out.end()) {
        stage_in[2] += out->second;
      }
    }
  }
  for (const auto& [batch, stages] : e.failed) {
    for (const auto& [stage, count] : stages) {
      rejected += count;
      if (EarlyStage(stage)) early += count;
    }
  }
  for (const auto& [batch, stages] : e.held) {
    for (const auto& [stage, count] : stages) {
      review += count;
      if (EarlyStage(stage)) early += count;
    }
  }
  const uint64_t loaded = Sum(e.loaded);
  out->set_extracted(stage_in[0]);
  out->set_transformed(stage_in[1]);
  out->set_ingested(stage_in[2]);
  out->set_resolved(e.resolved);
  out->set_validated(stage_in[3]);
  out->set_loaded(loaded);
  out->set_merged(e.merged);
  out->set_rejected(rejected);
  out->set_review(review);
  out->set_output_batches(e.output_batches);
  out->set_loaded_batches(e.loaded.size());

  // What the sources hold: exact for a source extracted, estimated from the
  // bytes read of a file source, unknown otherwise.
  uint64_t expected = 0;
  bool known = !e.source_done.empty() || !e.source_bytes.empty();
  std::map<std::string, uint64_t> bytes_read;
  for (const auto& [batch, to] : e.extracted_to) {
    bytes_read[to.first] = std::max(bytes_read[to.first], to.second);
  }
  std::set<std::string> sources;
  for (const auto& [s, done] : e.source_done) sources.insert(s);
  for (const auto& [s, b] : e.source_bytes) sources.insert(s);
  for (const auto& [s, r] : rows_of) sources.insert(s);
  for (const std::string& s : sources) {
    auto done = e.source_done.find(s);
    if (done != e.source_done.end() && done->second) {
      expected += rows_of[s];
      continue;
    }
    auto size = e.source_bytes.find(s);
    if (size == e.source_bytes.end() || size->second == 0 || bytes_read[s] == 0) {
      known = false;
      continue;
    }
    const double fraction =
        std::min(1.0, static_cast<double>(bytes_read[s]) / static_cast<double>(size->second));
    expected += static_cast<uint64_t>(std::llround(rows_of[s] / fraction));
  }
  if (known && expected > 0) out->set_expected(std::max(expected, stage_in[0]));

  // Each record is worked on twice: taken into the deduper (or rejected
  // before), then settled after the resolution (loaded, merged, rejected or
  // held). The rate and the ETA measure that work.
  const uint64_t settled = loaded + e.merged + (rejected + review - early);
  const uint64_t done = stage_in[2] + early + (e.resolved > 0 ? settled : 0);
  if (e.phase == "finished") return;
  e.samples.emplace_back(now_s, done);
  while (e.samples.size() > 2 && now_s - e.samples[1].first >= kRateWindow) e.samples.pop_front();
  const auto& [t0, d0] = e.samples.front();
  if (now_s - t0 >= 1.0 && done >= d0) {
    const double rate = static_cast<double>(done - d0) / (now_s - t0);
    // A record counts once in each half: the rate is in records per second
    // in whichever half the entity is.
    out->set_records_per_second(rate);
    if (rate > 0 && out->expected() > 0) {
      const double total = 2.0 * static_cast<double>(out->expected()) - static_cast<double>(early);
      const double left = std::max(0.0, total - static_cast<double>(done));
      out->set_eta_seconds(static_cast<int64_t>(std::llround(left / rate)));
    }
  }
}

void ProgressBook::Fill(double now_s, v1::RunProgress* out) {
  for (const std::string& name : order_)
    FillEntity(name, entities_[name], now_s, out->add_entities());
}

}  // namespace sluice::coordination
