// The audit store: the run history, the per-batch stage commits and every
// record's fate, in a SQLite file beside the plan (`<state_dir>/audit.db`).
// The coordinator is its only writer; the reconciler and the CLI read it.
// Nothing in it is capped: every fate of every run can be retrieved.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/audit/lineage.h"
#include "common/audit/sqlite_util.h"
#include "common/core/status.h"
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

// The coordinator of a run as it records itself (issue 15,
// common/audit/audit_coordinators.cc): where it runs, how to reach it and when
// it was last alive, with its last progress snapshot. `sluice runs`, `status`
// and `resume` tell a running run from an interrupted one by it (liveness.h).
struct CoordinatorRecord {
  std::string run_id;
  int generation = 1;  // 1; +1 for each coordinator that continued the run after one died
  std::string host;    // LocalHostName() of the coordinator's machine
  uint32_t pid = 0;
  // The process's start time on its host (/proc/<pid>/stat), so that a pid
  // reused by another process is not taken for the coordinator; "" unknown.
  std::string pid_start;
  std::string control_endpoint;  // as bound (tcp://0.0.0.0:5570, tcp://127.0.0.1:41234)
  int64_t started_ms = 0;
  int64_t heartbeat_ms = 0;  // last sign of life, wall clock
  std::string progress;      // the last v1::RunProgress, serialized; "" none yet
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
  std::string_view rule;
  std::string_view survivor_source;  // merged: the survivor
  std::string_view survivor_key;
  // loaded: the values in their canonical encoding (issue 17); "" when the
  // loader did not send them.
  std::string_view loaded_values;
};

// One difference a wave's reconciliation found (issue 17,
// docs/reconciliation.md).
struct DifferenceRow {
  int wave = 0;
  std::string entity, source, key;
  std::string failure;  // MISSING_TARGET, UNEXPECTED_TARGET, RECORD_DIFF, ...
  std::string field, expected, actual;
};

// One `sluice compare` of the live sources with the target (issue 18,
// common/audit/audit_comparisons.cc); its differences are stored like a
// run's, under its id.
struct ComparisonRecord {
  std::string compare_id;  // "compare-20261207T050500.123Z"
  std::string plan_name;
  int64_t started_ms = 0;
  int64_t ended_ms = 0;
  std::string verdict;       // equal | different
  std::string summary_json;  // counts per entity, source and kind
};

// A stored review item with the run it was held in.
struct ReviewItemRow {
  std::string run_id;
  int wave = 0;
  v1::ReviewItem item;
};

// A stored match decision with the run it was taken in.
struct MatchDecisionRow {
  std::string run_id;
  int wave = 0;
  v1::MatchDecision decision;
};

// What dedup did for one entity in one wave (the run report's figures).
struct DedupFigures {
  std::string entity;
  v1::MatchSummary summary;                       // pairs per band, weight bins, thresholds
  std::map<uint64_t, uint64_t> clusters_by_size;  // size (records) -> clusters
  uint64_t held_for_review = 0;                   // records dedup held for a steward
};

// A stored golden record's provenance with the run it was built in.
struct GoldenRecordRow {
  std::string run_id;
  int wave = 0;
  v1::GoldenRecord record;
};

// How often a rule failed in a run.
struct ErrorCount {
  std::string entity;
  std::string rule;
  std::string kind;  // rejected | review | warning
  uint64_t count = 0;
};

// The failures of one rule in a wave, with a few examples.
struct RuleFailures {
  ErrorCount count;
  std::vector<v1::Fate> examples;
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
  // Calls `fn` for every REJECTED and REVIEW fate of a run's entity in a
  // wave whose key the run did not also load or merge: the records that have
  // no row of their own (issue 14: their children follow them; issue 23:
  // their rows from earlier runs are retired). Also every DELETED_AT_SOURCE
  // fate whose row is removed (rule "propagate", issue 18).
  Status ForEachUnloadedFate(const std::string& run_id, int wave, const std::string& entity,
                             const std::function<void(const FateRow&)>& fn);
  // Calls `fn` for every fate of a run's entity in a wave, like ForEachFate,
  // with only the columns of a FateSummary and without copying them: for
  // reading millions of fates.
  Status ForEachFateSummary(const std::string& run_id, int wave, const std::string& entity,
                            const std::function<void(const FateSummary&)>& fn);
  // One page of the same: the fates after position `after` (0: from the
  // first), the entity's fate rows in row order and then its packed LOADED
  // fates in the order they were recorded (issue 20); returns the last
  // fate's position, to pass as `after` for the next page (`after` itself
  // when the page is empty). For sending them in bounded chunks (issue 22):
  // a page holds `limit` fates, or fewer when it is the last, or up to one
  // loader commit's fates more (a pack is not split).
  Result<int64_t> ForEachFateSummaryAfter(const std::string& run_id, int wave,
                                          const std::string& entity, int64_t after, size_t limit,
                                          const std::function<void(const FateSummary&)>& fn);
  // As ForEachFateSummaryAfter, but each loader commit's packed LOADED fates
  // come whole to `pack` (the bytes LoadedPackReader reads, valid during
  // the call) instead of one by one to `fn`: the reconciler's feed sends
  // them on as they are (issue 20). Pages are counted in fates alike.
  using PackFn = std::function<Status(std::string_view pack)>;
  Result<int64_t> ForEachFateOrPackAfter(const std::string& run_id, int wave,
                                         const std::string& entity, int64_t after, size_t limit,
                                         const std::function<void(const FateSummary&)>& fn,
                                         const PackFn& pack);
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

  // ---- waves and resumes (issue 3, common/audit/audit_waves.cc; docs/consolidation.md) ----
  // What `sluice resume` needs: each wave's outcome per run, and which run a
  // resumed run continues.

  // Records (replaces) the outcome of a wave: "completed" (reconciled, here
  // or in the run this one resumed), "halted" or "paused".
  Status RecordWave(const std::string& run_id, int wave, const std::string& name,
                    const std::string& status, const std::string& note = "");
  // The run's waves by index: (name, status).
  Result<std::map<int, std::pair<std::string, std::string>>> Waves(const std::string& run_id);
  // Records that `run_id` continues `resumed_from` from wave `start_wave`.
  Status RecordResume(const std::string& run_id, const std::string& resumed_from, int start_wave);

  // ---- the coordinator's liveness record (issue 15, common/audit/audit_coordinators.cc) ----

  // Records (replaces) the coordinator of `record.run_id`: a coordinator
  // that continues the run records a higher generation.
  Status RecordCoordinator(const CoordinatorRecord& record);
  // A sign of life of the coordinator of `generation`, with its progress
  // snapshot. False when the run has a coordinator of another generation
  // (one that continued the run, believing this one dead): this one must stop.
  Result<bool> BeatCoordinator(const std::string& run_id, int generation, int64_t heartbeat_ms,
                               const std::string& progress);
  // The run's coordinator record; nullopt when it has none (a run of an
  // earlier version, or a store without the table, opened read-only).
  Result<std::optional<CoordinatorRecord>> CoordinatorOf(const std::string& run_id);
  // Marks `run_id` running again under a new coordinator (`sluice resume`
  // of an interrupted run continues it in place): status running, no end.
  Status ReopenRun(const std::string& run_id);
  // Forgets what a run recorded for an entity of a wave that did not finish
  // (its stage commits, fates, review items and match decisions), so that a
  // coordinator continuing the run accounts for the entity afresh.
  Status ForgetEntity(const std::string& run_id, int wave, const std::string& entity);
  // Forgets what the parts of a dedup resolution recorded (its fates under
  // the resolve batch `batch`, its stage commit, the entity's match
  // decisions, golden records, dedup review items and match figures): a
  // resolution that did not arrive whole, or that starts again
  // (audit_resolution.cc).
  Status ForgetResolution(const std::string& run_id, int wave, const std::string& entity,
                          const std::string& batch);
  // The highest lease epoch any of the run's recorded commits carries.
  Result<uint64_t> MaxEpoch(const std::string& run_id);

  // ---- the review store (issue 6, common/audit/audit_review.cc; docs/review.md) ----
  // Items held for a steward are stored per run; steward decisions per plan
  // name, so that they apply to every later run of the plan.

  // Stores a commit's review items (called by RecordCommit, in its
  // transaction). An item replayed under a later epoch replaces the earlier.
  Status RecordReviewItems(const std::string& run_id, int wave, const v1::Commit& commit);
  // Calls `fn` for every review item of a run, in (entity, kind, source, key,
  // other_source, other_key) order.
  Status ForEachReviewItem(const std::string& run_id,
                           const std::function<void(const ReviewItemRow&)>& fn);
  // Stores (replaces) a steward's decision for plan `plan`.
  Status SaveRecordDecision(const std::string& plan, const v1::RecordDecision& decision);
  Status SavePairDecision(const std::string& plan, const v1::PairDecision& decision);
  // Every decision of a plan, for shipping to the workers.
  Result<v1::ReviewDecisions> ReviewDecisionsOf(const std::string& plan);

  // ---- the error log (issue 6, common/audit/audit_errors.cc; docs/validation.md) ----

  // Calls `fn` for every failure (rejected, review and warning fates) of a
  // run, optionally only of `rule` and/or `entity` (empty: all), in
  // (entity, source, key) order. Nothing is capped.
  Status ForEachError(const std::string& run_id, const std::string& rule, const std::string& entity,
                      const std::function<void(const FateRow&)>& fn);
  // Failure counts of a run per (entity, rule, kind).
  Result<std::vector<ErrorCount>> ErrorCounts(const std::string& run_id);
  // The failures of one wave grouped by (entity, rule, kind), with up to
  // `examples` of each, for the run report.
  Result<std::vector<RuleFailures>> FailuresByRule(const std::string& run_id, int wave,
                                                   size_t examples);

  // ---- lineage (issue 4, common/audit/audit_lineage.cc; docs/transformations.md) ----

  // Stores the transformer commit's packed lineage blob, one row per batch
  // (called by RecordCommit, in its transaction); a replay replaces it.
  Status RecordLineage(const std::string& run_id, const v1::Commit& commit);
  // The value changes recorded for `key` in batch `batch` of a run, in the
  // order they were made; empty when none.
  Result<std::vector<LineageChange>> LineageOf(const std::string& run_id, const std::string& batch,
                                               const std::string& key);

  // ---- match decisions (issue 5, common/audit/audit_matches.cc; docs/dedup.md) ----

  // Stores a dedup_resolve commit's match decisions and summary (called by
  // RecordCommit, in its transaction); a resolution recorded again for the
  // same run, wave and entity replaces the earlier one.
  Status RecordMatchDecisions(const std::string& run_id, int wave, const v1::Commit& commit);
  // Every match decision naming (entity, source, key), oldest first.
  Result<std::vector<MatchDecisionRow>> MatchDecisionsOf(const std::string& entity,
                                                         const std::string& source,
                                                         const std::string& key);
  // The provenance of the golden records whose survivor is (entity, source,
  // key), oldest first (stored with the dedup_resolve commit's decisions).
  Result<std::vector<GoldenRecordRow>> GoldenRecordsOf(const std::string& entity,
                                                       const std::string& source,
                                                       const std::string& key);

  // ---- dedup figures for the run report (issue 17, common/audit/audit_dedup_figures.cc) ----

  // Stores a dedup_resolve commit's match summary (called by
  // RecordMatchDecisions); recorded again, it replaces the earlier one.
  Status RecordMatchFigures(const std::string& run_id, int wave, const v1::Commit& commit);
  // Per entity resolved in the wave, by name: the matcher's summary, the
  // clusters by size and the records dedup held for review. Empty for a
  // store written before the figures were kept.
  Result<std::vector<DedupFigures>> DedupFiguresOf(const std::string& run_id, int wave);

  // ---- rows retired (issue 23, common/audit/audit_retired.cc; docs/review.md) ----

  // Stores a loader's `retire` commit: each fate names a row an earlier run
  // loaded that this run removed, the record now rejected or held.
  Status RecordRetiredRows(const std::string& run_id, int wave, const v1::Commit& commit);
  // The rows of (entity, source, key) retired by any run, oldest first: the
  // run, the wave, the row's target id and why.
  struct RetiredRowRecord {
    std::string run_id;
    int wave = 0;
    int64_t target_id = 0;
    std::string reason;
  };
  Result<std::vector<RetiredRowRecord>> RetiredRowsOf(const std::string& entity,
                                                      const std::string& source,
                                                      const std::string& key);

  // ---- source pins (issue 23, common/audit/audit_pins.cc; docs/limits.md) ----

  // The pin a run took of a source when it first read it in `wave`; the
  // first recorded stays.
  Status RecordSourcePin(const std::string& run_id, int wave, const std::string& source,
                         const v1::SourcePin& pin);
  struct SourcePinRecord {
    int wave = 0;
    std::string source;
    v1::SourcePin pin;
  };
  // The pins of `run_id`, by source.
  Result<std::vector<SourcePinRecord>> SourcePinsOf(const std::string& run_id);
  // The extraction streams of a run's wave as recorded: per (entity,
  // source), how many batches were extracted and where the last one ended.
  struct ExtractedStream {
    std::string entity;
    std::string source;
    uint64_t batches = 0;
    uint64_t end_offset = 0;
  };
  Result<std::vector<ExtractedStream>> ExtractedStreams(const std::string& run_id, int wave);

  // ---- reconciliation differences (issue 17, common/audit/audit_differences.cc) ----

  // Forgets the differences recorded for a run's wave (a reconciliation
  // leased again records them afresh).
  Status ClearDifferences(const std::string& run_id, int wave);
  // Stores every difference of one chunk the reconciler sent; nothing is capped.
  Status RecordDifferences(const std::string& run_id, const v1::ReconcileDifferences& chunk);
  // How many differences a run's wave has recorded.
  Result<uint64_t> CountDifferences(const std::string& run_id, int wave);
  // Calls `fn` for every difference of a run, optionally of `entity` only
  // (empty: all), in (wave, entity, source, key, failure, field) order. A
  // store without the table has none.
  Status ForEachDifference(const std::string& run_id, const std::string& entity,
                           const std::function<void(const DifferenceRow&)>& fn);

  // ---- live comparisons (issue 18, common/audit/audit_comparisons.cc) ----

  // Records (replaces) a comparison; its differences go through
  // RecordDifferences under its id, wave 0.
  Status RecordComparison(const ComparisonRecord& comparison);
  // NotFound for an unknown id.
  Result<ComparisonRecord> Comparison(const std::string& compare_id);

  // ---- delta runs (issue 18, common/audit/audit_watermarks.cc and
  // audit_deletions.cc; docs/delta.md) ----

  // High-water marks by (entity, source).
  using Marks = std::map<std::pair<std::string, std::string>, std::string>;
  // The marks of plan `plan`: where the next delta run of each (entity,
  // incremental source) starts; the raises of a rolled-back run do not count.
  Result<Marks> MarksOf(const std::string& plan);
  // Raises the mark of (entity, source) of `plan` to `mark`, reached by
  // `run_id` (a lower or equal mark changes nothing). Every raise is kept.
  Status RaiseMark(const std::string& plan, const std::string& entity, const std::string& source,
                   const std::string& mark, const std::string& run_id);
  // The marks a run reads above, recorded once when it starts (`full`: none,
  // `sluice run --full`), so that a coordinator continuing it, or a run
  // resuming it, reads above the same. nullopt when the run recorded none.
  Status RecordRunMarks(const std::string& run_id, const Marks& marks, bool full);
  struct RunMarks {
    Marks marks;
    bool full = false;
  };
  Result<std::optional<RunMarks>> RunMarksOf(const std::string& run_id);
  // Records what an extract commit of an incremental source says of its
  // batch (range.watermark_high and range.skipped); a batch extracted again
  // replaces it.
  Status RecordDeltaBatch(const std::string& run_id, int wave, const v1::Commit& commit);
  // Over the batches of (entity, source) a run's wave extracted: the highest
  // watermark_high ("" none) and the rows skipped.
  struct DeltaExtraction {
    std::string high;
    uint64_t skipped = 0;
    uint64_t batches = 0;
  };
  Result<DeltaExtraction> DeltaExtractionOf(const std::string& run_id, int wave,
                                            const std::string& entity, const std::string& source);
  // Forgets the batches of an entity whose wave a continuing coordinator
  // accounts for afresh (with ForgetEntity).
  Status ForgetDeltaBatches(const std::string& run_id, int wave, const std::string& entity);

  // The keys of (entity, source) the target holds rows or cross-reference
  // entries for, as the runs other than `run_id` left them: those whose
  // latest fate (runs not rolled back, in start order) is loaded or merged,
  // or deleted_at_source only reported. What a run's deletion scan compares
  // the source's key set with.
  Result<std::vector<std::string>> KnownKeys(const std::string& entity, const std::string& source,
                                             const std::string& run_id);
  // Of `keys` of (entity, source), those with a fate in `run_id`.
  Result<std::vector<std::string>> KeysWithFate(const std::string& run_id,
                                                const std::string& entity,
                                                const std::string& source,
                                                const std::vector<std::string>& keys);
  // Of `keys` of (entity, source), those some record is merged into now (its
  // latest fate, over the runs not rolled back, this one included):
  // survivors, whose rows hold golden records. A survivor whose members
  // were decided again without it (issue 18: handed over) is not one.
  Result<std::vector<std::string>> SurvivorsAmong(const std::string& entity,
                                                  const std::string& source,
                                                  const std::vector<std::string>& keys);
  // Calls `fn` for every deleted_at_source fate of a run (of `entity`; empty:
  // all), in (entity, source, key) order.
  Status ForEachDeletion(const std::string& run_id, const std::string& entity,
                         const std::function<void(const FateRow&)>& fn);

 private:
  Status InitComparisons();  // audit_comparisons.cc
  Status InitDelta();        // audit_watermarks.cc
  Status InitDifferences();  // audit_differences.cc
  Status InitPins();         // audit_pins.cc
  Status InitRetired();      // audit_retired.cc
  Status InitLineage();      // creates the lineage table
  explicit AuditStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  Status Init();
  Status InitWaves();         // audit_waves.cc
  Status InitReview();        // creates the review and error-log tables
  Status InitMatches();       // audit_matches.cc
  Status InitDedupFigures();  // audit_dedup_figures.cc
  // The fates of `table` (fates, or the view all_fates) of a run's entity in
  // a wave, with `also` (" AND ...", " ORDER BY ...") added to the query.
  Status ForEachFateWhere(std::string_view table, std::string_view also, const std::string& run_id,
                          int wave, const std::string& entity,
                          const std::function<void(const FateRow&)>& fn);
  Status InitCoordinators();  // audit_coordinators.cc
  // ---- packed LOADED fates (issue 20, common/audit/audit_loaded.cc) ----
  Status InitLoaded();
  // Read-only: a store written before packs gets a temporary `all_fates`
  // view over `fates` alone, and `packed_` false.
  Status InitLoadedReadOnly();
  // Stores the commit's LOADED fates that IsPackedLoad() takes as one pack
  // and a loaded_keys row each (in RecordCommit's transaction, after its
  // fate rows).
  Status RecordLoadedPack(const std::string& run_id, int wave, const v1::Commit& commit,
                          const std::string& batch);
  // Forgets the packs `where` selects (a condition on loaded_packs whose
  // parameters `bind` binds) with their loaded_keys rows.
  Status ForgetLoadedPacks(std::string_view where, const std::function<Status(Statement&)>& bind);
  // The packed fates of a run's entity from the pack after `after` (0: the
  // first), whole packs until `*rows` reaches `limit`, counted into `*rows`;
  // returns the last pack read (`after` when none).
  // With `pack` set, each pack's bytes go to it whole instead (its fates
  // counted into `*rows` all the same).
  Result<int64_t> ForEachLoadedSummaryAfter(const std::string& run_id, int wave,
                                            const std::string& entity, int64_t after, size_t limit,
                                            size_t* rows,
                                            const std::function<void(const FateSummary&)>& fn,
                                            const PackFn* pack = nullptr);

  std::unique_ptr<SqliteDb> db_;
  Statement insert_fate_;
  Statement insert_batch_;
  Statement insert_pack_;
  Statement insert_loaded_key_;
  bool packed_ = true;  // the store has loaded_packs (InitLoadedReadOnly)
};

}  // namespace sluice
