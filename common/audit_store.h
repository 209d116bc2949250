// The audit store: the run history, the per-batch stage commits and every
// record's fate, in a SQLite file beside the plan (`<state_dir>/audit.db`).
// The coordinator is its only writer; the reconciler and the CLI read it.
// Nothing in it is capped: every fate of every run can be retrieved.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/sqlite_util.h"
#include "common/status.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

struct RunRecord {
  std::string run_id;
  std::string plan_name;
  std::string plan_path;
  std::string plan_hash;
  std::string model_hash;
  std::string environment;
  int64_t started_ms = 0;
  int64_t ended_ms = 0;
  std::string status;  // running | completed | halted
  std::string halt_reason;
  std::string summary_json;
};

// Per (run, wave, entity, source): the ledger's totals.
struct LedgerRow {
  std::string run_id;
  int wave = 0;
  std::string entity;
  std::string source;
  uint64_t extracted = 0;
  uint64_t merged = 0;
  uint64_t rejected = 0;
  uint64_t review = 0;
  uint64_t loaded = 0;
  uint64_t inserted = 0;
  uint64_t updated = 0;
  uint64_t unchanged = 0;
  uint64_t extracted_checksum = 0;
  uint64_t fate_checksum = 0;
};

struct FateRow {
  std::string run_id;
  int wave = 0;
  std::string entity;
  std::string batch;
  v1::Fate fate;
};

// The columns of a fate that reconciliation reads. The views are valid only
// during the callback that receives them.
struct FateSummary {
  std::string_view source;
  std::string_view key;
  std::string_view kind;  // "loaded", "merged", "rejected", "review" or "warning"
  int64_t target_id = 0;
  uint64_t content_hash = 0;
};

class AuditStore {
 public:
  // Opens (creating when writable) the store at `path`.
  static Result<std::unique_ptr<AuditStore>> Open(const std::string& path, bool readonly = false);

  Status BeginRun(const RunRecord& run);
  Status EndRun(const std::string& run_id, const std::string& status,
                const std::string& halt_reason, const std::string& summary_json, int64_t ended_ms);
  // Stores one accepted stage commit and its fates atomically.
  Status RecordCommit(const std::string& run_id, int wave, const v1::Commit& commit);
  // Forgets the fates and stage commits of a batch that is being leased
  // again: its next epoch records them afresh.
  Status DeleteBatchFates(const std::string& run_id, const std::string& batch);
  // Replaces the ledger rows of a wave (and, per entity, its decimal sums).
  Status WriteLedger(const std::vector<LedgerRow>& rows,
                     const std::map<std::string, std::map<std::string, int64_t>>& decimal_sums);

  Result<std::vector<RunRecord>> Runs();
  Result<RunRecord> Run(const std::string& run_id);
  Result<std::vector<LedgerRow>> Ledger(const std::string& run_id, int wave);
  // Expected decimal sums of loaded records: entity -> field -> units.
  Result<std::map<std::string, int64_t>> DecimalSums(const std::string& run_id, int wave,
                                                     const std::string& entity);
  // Calls `fn` for every fate of a run's entity in a wave.
  Status ForEachFate(const std::string& run_id, int wave, const std::string& entity,
                     const std::function<void(const FateRow&)>& fn);
  // Calls `fn` for every fate of a run's entity in a wave, like ForEachFate,
  // with only the columns of a FateSummary and without copying them: for
  // reading millions of fates.
  Status ForEachFateSummary(const std::string& run_id, int wave, const std::string& entity,
                            const std::function<void(const FateSummary&)>& fn);
  // Every fate ever recorded for (entity, source, key), oldest run first.
  Result<std::vector<FateRow>> FatesOf(const std::string& entity, const std::string& source,
                                       const std::string& key);
  // The extraction batch of a run that read source line/row `line` of
  // (entity, source): the one with the highest first line not after it.
  // Columns as in BatchCommits plus "batch"; empty when none is recorded.
  Result<std::map<std::string, std::string>> ExtractionBatchOf(const std::string& run_id,
                                                               const std::string& entity,
                                                               const std::string& source,
                                                               uint64_t line);
  // The extraction commit of a batch (its range and checksum), if recorded.
  Result<std::vector<std::map<std::string, std::string>>> BatchCommits(const std::string& run_id,
                                                                       const std::string& batch);

 private:
  explicit AuditStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  Status Init();

  std::unique_ptr<SqliteDb> db_;
  Statement insert_fate_;
  Statement insert_batch_;
};

}  // namespace sluice
