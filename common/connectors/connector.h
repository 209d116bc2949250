// Connectors are plug-ins: sources read legacy exports into raw record
// batches, targets load canonical batches. Each kind (csv, sqlite, ...) lives
// in its own folder, common/connectors/<kind>/, whose <kind>_connector.cc
// registers a ConnectorPlugin: what a plan may say about the kind (its keys,
// its checks, file or server) and how to open it. The kinds of the build are
// the one list SLUICE_CONNECTOR_KINDS in common/connectors/CMakeLists.txt;
// registry.cc serves them (docs/architecture.md, "Adding a connector").
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/core/record.h"
#include "common/core/status.h"
#include "common/plan/connector_catalog.h"
#include "common/plan/plan.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// Reads one source. Not thread-safe; one reader per thread.
//
// A source cuts its rows into batches whose `range` is enough to read the
// same batch again byte-identically after Seek(range). A malformed row is
// not an error: it becomes a REJECTED fate with its line and reason, keyed
// by its key column when readable and "line:<n>" otherwise.
class Source {
 public:
  virtual ~Source() = default;
  // The raw schema: one string field per source column, in source order.
  virtual const Schema& schema() const = 0;
  // Reads up to `max_rows` rows (records plus rejects) from the current
  // position into `out` (records, schema, range) and `rejects`. Returns false
  // when the source is exhausted and nothing was read.
  virtual Result<bool> Next(size_t max_rows, RecordBatch* out, std::vector<v1::Fate>* rejects) = 0;
  // Positions the reader at the start of `range` (as returned in a batch).
  virtual Status Seek(const v1::BatchRange& range) = 0;
};

// What a target did with one batch.
struct LoadOutcome {
  uint64_t inserted = 0;
  uint64_t updated = 0;
  uint64_t unchanged = 0;
  std::vector<int64_t> target_ids;  // per input record; 0 for a rejected one
  // Per input record, what the load did: kInserted, kUpdated or kUnchanged
  // (kept with the batch so that a replay reports the same).
  static constexpr char kInserted = 'i', kUpdated = 'u', kUnchanged = '=';
  std::string actions;
  std::vector<v1::Fate> rejects;  // rows the target refused, with its message
  bool replayed = false;          // the batch was already applied in this run
};

// A row read back from the target, for reconciliation.
struct TargetRow {
  std::string source;
  std::string key;
  int64_t target_id = 0;
  uint64_t recorded_hash = 0;  // content hash stored in the cross-reference
  std::vector<Value> values;   // the row's values, in model field order
  bool merged = false;         // cross-reference entry of a merged key
};

// A cross-reference entry as Target::LookupEntries finds it.
struct TargetEntry {
  std::string source;
  std::string key;
  int64_t target_id = 0;
  bool merged = false;  // the entry of a merged key (target_id is its survivor's row)
  bool row = false;     // the row target_id names exists
};

// The stage of a loader's commit naming the rows it retired (loader/
// retirement.h): not a ledger stage, it moves no record.
inline constexpr char kRetireStage[] = "retire";

// A row an earlier run loaded whose record this run rejected or held, as
// Target::RetireRows removed it.
struct RetiredRow {
  std::string source;
  std::string key;
  int64_t target_id = 0;  // the row removed
};

// Loads canonical batches into one target. Thread-compatible.
class Target {
 public:
  virtual ~Target() = default;
  // Creates the entity's table, the cross-reference and bookkeeping tables
  // when missing. Idempotent.
  virtual Status Prepare(const Entity& entity) = 0;
  // Upserts the batch on (source, key) through the cross-reference, in one
  // transaction together with the cross-reference rows (including the
  // survivor mapping of every merged key) and a record that this batch was
  // applied in `run_id`. Replaying a batch already applied changes nothing.
  virtual Result<LoadOutcome> Load(const std::string& run_id, const Entity& entity,
                                   const RecordBatch& batch) = 0;
  // Whether several Targets opened on the same spec may each Load a batch of
  // the same run at once (each its own transaction), for the loader's
  // pipelined loads (loader/load_pipeline.h). False by default.
  virtual bool ConcurrentLoads() const { return false; }
  // The target id of each of `keys` of (entity, source) in the
  // cross-reference: the record's own row, or its survivor's when it was
  // merged; 0 for a key the cross-reference does not hold. Used to rewrite
  // a child's references to its parents' target ids.
  virtual Result<std::vector<int64_t>> ResolveKeys(const std::string& entity,
                                                   const std::string& source,
                                                   const std::vector<std::string>& keys) {
    return Status::FailedPrecondition("this target cannot resolve references");
  }
  // How many batches of `run_id` whose name starts with `prefix` the target
  // has applied (committed), whichever loader applied them. The loader asks
  // it to know when every batch of an entity is in (self-references).
  virtual Result<uint64_t> CountAppliedBatches(const std::string& run_id,
                                               const std::string& prefix) {
    return Status::FailedPrecondition("this target does not count applied batches");
  }
  // Calls `fn` for every cross-reference entry of the entity with the row it
  // points to (for merged keys, the survivor's row).
  virtual Status ScanRows(const Entity& entity,
                          const std::function<void(const TargetRow&)>& fn) = 0;
  // The cross-reference entries of `keys` (those the cross-reference holds;
  // order unspecified), each with whether the row it points to exists: what
  // the reconciler's survivor check reads, a few keys of a large table. The
  // default filters ScanRows; targets with an index on the cross-reference
  // look the keys up instead.
  virtual Result<std::vector<TargetEntry>> LookupEntries(const Entity& entity,
                                                         const std::vector<SourceKey>& keys) {
    std::set<SourceKey> wanted(keys.begin(), keys.end());
    std::vector<TargetEntry> out;
    Status st = ScanRows(entity, [&](const TargetRow& row) {
      if (wanted.count(SourceKey{row.source, row.key}) == 0) return;
      out.push_back({row.source, row.key, row.target_id, row.merged, !row.values.empty()});
    });
    if (!st.ok()) return st;
    return out;
  }
  // How many rows the entity's table holds, whatever points at them: the
  // reconciler checks that each has a cross-reference entry of its own
  // (issue 23). Targets that cannot count return FailedPrecondition.
  virtual Result<uint64_t> CountRows(const Entity& entity) {
    return Status::FailedPrecondition("this target does not count its rows");
  }
  // Calls `fn` for every row of the entity's table that no cross-reference
  // entry calls its own (issue 17: UNEXPECTED_TARGET), with its target id
  // and values; source and key are empty. Targets that cannot tell return
  // FailedPrecondition.
  virtual Status ScanRowsWithoutEntry(const Entity& entity,
                                      const std::function<void(const TargetRow&)>& fn) {
    return Status::FailedPrecondition("this target cannot list rows without an entry");
  }
  // Removes, in one transaction, the rows that earlier runs loaded for
  // `keys`, records of `entity` whose fate in `run_id` is rejected or held
  // (issue 23, docs/review.md): each own row is deleted and its
  // cross-reference entry dropped, both before-images kept as rollback data
  // of `run_id`. Keys without an own row are skipped. Idempotent. Returns
  // the rows removed. Targets that cannot retire return FailedPrecondition.
  virtual Result<std::vector<RetiredRow>> RetireRows(const std::string& run_id,
                                                     const Entity& entity,
                                                     const std::vector<SourceKey>& keys) {
    return Status::FailedPrecondition("this target cannot retire rows");
  }
  // Marks the rows of `keys` deleted instead of removing them (issue 18,
  // `deletions: {mode: propagate, soft_delete: FIELD}`, docs/delta.md): sets
  // `field` (a timestamp or date of the entity) to `at_micros`
  // (microseconds since the epoch; a date takes its day) on each key's own
  // row where it is NULL, and clears the cross-reference entry's content
  // hash so that a record that comes back at its source is written again
  // (the field with it). Row and entry before-images are kept as rollback
  // data of `run_id`, all in one transaction. Keys without an own row, and
  // rows already marked, are skipped. Returns the rows marked. Targets
  // that cannot return FailedPrecondition.
  virtual Result<std::vector<RetiredRow>> SoftDeleteRows(const std::string& run_id,
                                                         const Entity& entity,
                                                         const std::string& field,
                                                         const std::vector<SourceKey>& keys,
                                                         int64_t at_micros) {
    return Status::FailedPrecondition("this target cannot mark rows deleted");
  }
  // Restores the entity's rows and cross-reference entries to their state
  // before `run_id`, from the rollback data Load recorded in the same
  // transaction as each batch: rows the run inserted are deleted, rows it
  // updated get their before-image back. Idempotent; works for halted runs.
  // Targets that keep no rollback data return FailedPrecondition.
  virtual Status Rollback(const std::string& run_id, const Entity& entity) {
    return Status::FailedPrecondition("this target keeps no rollback data");
  }
};

using SourceFactory = std::function<Result<std::unique_ptr<Source>>(const SourceSpec&)>;
using TargetFactory = std::function<Result<std::unique_ptr<Target>>(const TargetSpec&)>;
// The CREATE TABLE statement a target of `spec` runs for `entity`, without
// the closing ';' (`spec.options` as the plan gives them; only `kind` and
// the options are looked at).
using EntityDdl = std::function<std::string(const Entity& entity, const TargetSpec& spec)>;

// One connector kind as registered by its folder (<kind>_connector.h
// declares `sluice::<kind>_connector::Plugin()`).
struct ConnectorPlugin {
  ConnectorKind kind;         // what a plan may say about it (connector_catalog.h)
  SourceFactory open_source;  // set exactly when kind.source is
  TargetFactory open_target;  // set exactly when kind.target is
  EntityDdl ddl;              // a target with tables: their DDL (`sluice model ddl`)
};

// The kinds of this build, as the plan parser sees them (declared in
// common/plan/connector_catalog.h, defined in registry.cc).
const ConnectorCatalog& BuiltinConnectors();

// Opens a source (target) by its kind; an unknown kind fails at
// "<yaml_path>.kind", listing the known kinds.
Result<std::unique_ptr<Source>> OpenSource(const SourceSpec& spec);
Result<std::unique_ptr<Target>> OpenTarget(const TargetSpec& spec);
// Kinds known to this build, sorted.
std::vector<std::string> SourceKinds();
std::vector<std::string> TargetKinds();
// The target kinds that print their DDL, sorted.
std::vector<std::string> DdlTargetKinds();

// The DDL of every entity of `model` for a target of `spec.kind` (the
// statements that target runs; `spec.options` may set e.g. the postgres
// `schema`), in model order, each ending with ";\n", headed by a comment
// naming the model's content hash. InvalidArgument for a kind without DDL.
Result<std::string> TargetDdl(const Model& model, const TargetSpec& spec);

}  // namespace sluice
