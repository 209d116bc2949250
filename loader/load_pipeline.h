// Pipelined loads (issue 20 item 2): while one batch's transaction runs on
// the server, the loader takes the next batch in and starts it on another
// connection, so that the server's work on consecutive batches overlaps
// with itself and with the loader's. Each batch is still one transaction of
// its own (rows, cross-reference entries, rollback data and its
// sluice.batches row together), and its commit is reported only after the
// database committed it.
#pragma once

#include <deque>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "common/connectors/connector.h"

namespace sluice {

// A batch whose load has ended, and how.
struct FinishedLoad {
  std::string entity;
  RecordBatch batch;
  Result<LoadOutcome> outcome = Status::Internal("not loaded");
};

// Up to `depth` batches loading at once, each on its own Target (its own
// connection). Used from one thread; each Target is used by one load at a
// time. Only for entities whose load reads nothing another batch of the
// same run writes (no references, no referrers: LoadLogic decides).
class LoadPipeline {
 public:
  // `targets`: one per slot (at least one), already open.
  explicit LoadPipeline(std::vector<std::unique_ptr<Target>> targets);
  // Waits for the loads in flight (their outcomes are dropped).
  ~LoadPipeline();
  LoadPipeline(const LoadPipeline&) = delete;
  LoadPipeline& operator=(const LoadPipeline&) = delete;

  // Starts loading `batch` of `entity` on a free slot. When every slot is
  // busy, first waits for the oldest load and appends it to `done`.
  // `entity` must outlive the load.
  void Start(const std::string& run_id, const Entity& entity, RecordBatch batch,
             std::vector<FinishedLoad>* done);
  // Appends the loads that have ended to `done`, in the order they were
  // started (a load that ended stays behind an older one still running);
  // with `wait`, waits for all of them.
  void Collect(bool wait, std::vector<FinishedLoad>* done);
  size_t in_flight() const { return running_.size(); }

 private:
  struct Running {
    size_t slot = 0;
    std::string entity;
    RecordBatch batch;  // read by the load's thread until it ends
    std::future<Result<LoadOutcome>> outcome;
  };
  void FinishOldest(std::vector<FinishedLoad>* done);

  std::vector<std::unique_ptr<Target>> targets_;
  std::vector<bool> busy_;  // per slot
  std::deque<Running> running_;
};

}  // namespace sluice
