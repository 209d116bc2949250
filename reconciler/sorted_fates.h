// The fates of one entity put in (source, key) order for the reconciler's
// streaming merge with the target (issue 20 item 3): held in memory up to a
// budget, beyond it written out as sorted runs and read back merged, so that
// the reconciler's memory does not grow with the records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "common/core/status.h"

namespace sluice {

// One LOADED, REJECTED or REVIEW fate as reconciliation reads it (merged
// fates are links, kept apart: MergedLink).
struct KeyedFate {
  std::string source, key;
  std::string kind;  // "loaded", "rejected" or "review"
  std::string rule;  // of a rejection or hold
  uint64_t content_hash = 0;
  int64_t target_id = 0;
  // LOADED: the loaded values' canonical encoding (issue 17); "" when not
  // sent.
  std::string loaded_values;
  bool loaded() const { return kind == "loaded"; }
};

// Orders fates as the target's ORDER BY source, key: bytewise.
int CompareFateKeys(const KeyedFate& a, std::string_view source, std::string_view key);

// Collects fates in any order, then hands them back once, sorted by
// (source, key) and, within a key, in the order they were added. Memory:
// the budget plus a read buffer per run written. Not thread-safe.
class SortedFates {
 public:
  struct Options {
    // Where runs are written; "" means the system's temporary directory.
    // Each run file is unlinked as soon as it is created, so that nothing
    // is left behind whatever happens to the process.
    std::string spill_dir;
    // Bytes of fates held before the held ones are sorted and written out.
    size_t memory_budget = size_t{64} << 20;
  };

  explicit SortedFates(Options options);
  ~SortedFates();
  SortedFates(const SortedFates&) = delete;
  SortedFates& operator=(const SortedFates&) = delete;

  // Adds one fate; fails (IoError) when a run cannot be written.
  Status Add(KeyedFate fate);
  // Ends the adding: what is still held is sorted and the runs are opened
  // for reading.
  Status Finish();
  // After Finish: the next fate in order into `out`; false once all were
  // read. Corruption when a run reads back short.
  Result<bool> Next(KeyedFate* out);

  uint64_t size() const { return added_; }              // fates added
  size_t runs_written() const { return runs_.size(); }  // runs spilled to disk

 private:
  struct Run;
  Status Spill();
  Status SortHeld();
  // Reads the next fate of run `i` into its head; false at its end.
  Result<bool> Advance(size_t i);

  Options options_;
  std::vector<KeyedFate> held_;
  size_t held_bytes_ = 0;
  size_t next_held_ = 0;  // after Finish: the next held fate to hand over
  uint64_t added_ = 0;
  bool finished_ = false;
  std::vector<std::unique_ptr<Run>> runs_;
  // After Finish: the runs (and, as index runs_.size(), the held fates)
  // whose head is the smallest, ties to the earlier run.
  struct Later {
    const SortedFates* self;
    bool operator()(size_t a, size_t b) const;
  };
  std::priority_queue<size_t, std::vector<size_t>, Later> heads_{Later{this}};
  const KeyedFate& Head(size_t i) const;
};

}  // namespace sluice
