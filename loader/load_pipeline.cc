#include "loader/load_pipeline.h"

#include <chrono>
#include <utility>

namespace sluice {

LoadPipeline::LoadPipeline(std::vector<std::unique_ptr<Target>> targets)
    : targets_(std::move(targets)), busy_(targets_.size(), false) {}

LoadPipeline::~LoadPipeline() {
  for (Running& r : running_) r.outcome.wait();
}

void LoadPipeline::Start(const std::string& run_id, const Entity& entity, RecordBatch batch,
                         std::vector<FinishedLoad>* done) {
  if (running_.size() >= targets_.size()) FinishOldest(done);
  size_t slot = 0;
  while (busy_[slot]) ++slot;
  busy_[slot] = true;
  Running& r = running_.emplace_back();
  r.slot = slot;
  r.entity = entity.name;
  r.batch = std::move(batch);
  // The batch lives in running_ (a deque: it does not move while the load
  // reads it) until FinishOldest takes it after the load ended.
  Target* target = targets_[slot].get();
  const RecordBatch* input = &r.batch;
  r.outcome = std::async(std::launch::async, [target, run_id, &entity, input] {
    return target->Load(run_id, entity, *input);
  });
}

void LoadPipeline::FinishOldest(std::vector<FinishedLoad>* done) {
  Running& r = running_.front();
  FinishedLoad& f = done->emplace_back();
  f.outcome = r.outcome.get();
  f.entity = std::move(r.entity);
  f.batch = std::move(r.batch);
  busy_[r.slot] = false;
  running_.pop_front();
}

void LoadPipeline::Collect(bool wait, std::vector<FinishedLoad>* done) {
  while (!running_.empty()) {
    if (!wait &&
        running_.front().outcome.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      return;
    }
    FinishOldest(done);
  }
}

}  // namespace sluice
