// The progress of a run as `sluice status` and `sluice run` show it (issue
// 15; docs/operations.md): per entity, how many records each stage has taken
// in, its phase, a rate over the last seconds and an ETA. The coordinator
// feeds it every commit it accepts; a batch replayed under a new epoch
// replaces its earlier count instead of adding to it, so the counts only
// ever describe records, not attempts. It reads no clock: the coordinator
// passes the time. Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sluice/v1/control.pb.h"

namespace sluice::coordination {

class ProgressBook {
 public:
  // `dedup_shards`: a batch is ingested once every shard took it in.
  explicit ProgressBook(uint32_t dedup_shards = 1)
      : dedup_shards_(dedup_shards ? dedup_shards : 1) {}

  // Declares an entity of the plan in `wave`, "waiting" until SetPhase.
  void AddEntity(int wave, const std::string& entity);
  // ingest | resolve | output | finished.
  void SetPhase(const std::string& entity, const std::string& phase);
  // The size in bytes of a file source of `entity`, when the coordinator can
  // see it: the entity's total is estimated from the bytes extracted until
  // the source is done.
  void SetSourceBytes(const std::string& entity, const std::string& source, uint64_t bytes);
  // The source is extracted: its row count is exact now.
  void SourceDone(const std::string& entity, const std::string& source);
  // The deduper's output of the entity is this many batches.
  void SetOutputBatches(const std::string& entity, uint64_t batches);
  // An accepted commit of the entity (any stage, any batch).
  void OnCommit(const std::string& entity, const v1::Commit& commit);
  // An entity that finished before this coordinator (a run continued after
  // its coordinator died): its totals from the ledger rows.
  void SetFinished(const std::string& entity, uint64_t extracted, uint64_t loaded, uint64_t merged,
                   uint64_t rejected, uint64_t review);

  // Adds every entity's progress to `out` at `now_s` (seconds on any steady
  // clock; the rate is measured over the last kRateWindow of them).
  void Fill(double now_s, v1::RunProgress* out);

  static constexpr double kRateWindow = 10.0;

 private:
  struct Entity {
    int wave = 0;
    std::string phase = "waiting";
    // Per batch: the input count of each stage (and on N dedup shards, each
    // shard's ingest), the transform's output, rejects and reviews.
    std::map<std::string, std::map<std::string, uint64_t>> in;             // batch -> stage -> in
    std::map<std::string, std::map<std::string, uint64_t>> failed;         // batch -> stage -> n
    std::map<std::string, std::map<std::string, uint64_t>> held;           // batch -> stage -> n
    std::map<std::string, uint64_t> transform_out;                         // batch -> out
    std::map<std::string, uint64_t> loaded;                                // batch -> loaded
    std::map<std::string, std::pair<std::string, uint64_t>> extracted_to;  // batch -> (source, end)
    std::map<std::string, uint64_t> source_bytes;
    std::map<std::string, bool> source_done;
    uint64_t resolved = 0, merged = 0, resolve_rejected = 0, resolve_review = 0;
    uint64_t output_batches = 0;
    bool finished_before = false;  // SetFinished
    uint64_t before[5] = {0, 0, 0, 0, 0};
    std::deque<std::pair<double, uint64_t>> samples;  // (time, work done)
  };
  // A batch of the entity by its source and sequence (ingest and output
  // batches differ by source).
  static std::string BatchLabel(const v1::Commit& commit);
  Entity* Find(const std::string& entity);
  void FillEntity(const std::string& name, Entity& e, double now_s, v1::EntityProgress* out);

  uint32_t dedup_shards_;
  std::vector<std::string> order_;  // entities in plan order
  std::map<std::string, Entity> entities_;
};

}  // namespace sluice::coordination
