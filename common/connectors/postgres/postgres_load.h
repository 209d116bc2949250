// The SQL side of the PostgreSQL target: the tables sluice keeps in the
// `sluice` schema, the shape of an entity's table, and the statements that
// apply a batch and roll a run back.
//
// A batch is applied in as few passes over its rows as the server allows:
// its keys are looked up in sluice.xref with one index range scan per
// source (or, for unsorted input, staged with COPY and probed); new rows
// then go straight into the entity table and sluice.xref with COPY (their
// ids drawn from the entity's sequence), and only known keys that change
// are staged, with their values, for set-based UPDATEs. Every statement
// reads a few thousand staged rows against big tables by their primary
// key. Used by postgres_target.cc only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/connectors/connector.h"
#include "common/connectors/postgres/pg_util.h"

namespace sluice {

// Action letter for a record the target refused (LoadOutcome::actions).
inline constexpr char kRejectedAction = '-';

// Temporary tables shared by every entity, created once per connection.
extern const char kSharedStagingDdl[];
// Starts a transaction for ApplyRecords and LookupTargetIds (planner
// settings that suit them; see the .cc).
extern const char kBeginLoad[];

// The column type created for a model field, as format_type() prints it
// (so that an existing table can be compared): text, bigint, numeric(p,s),
// date, timestamp with time zone, boolean.
std::string PgColumnType(const ModelField& field);

// An entity as the target sees it: names and the statements that load it.
struct PgEntity {
  Entity entity;
  Schema schema;
  std::string table;      // "schema"."entity"
  std::string db_schema;  // "schema", of this and every other entity's table
  // The entities prepared so far that refer to this one, as (entity, field),
  // itself included when it refers to itself (PostgresTarget::Prepare).
  std::vector<std::pair<std::string, std::string>> referrers;
  std::string sequence;  // sluice."entity_id_seq", the source of sluice_ids
  // pg_temp.sluice_changes_<n>: known keys that change (target_id, action,
  // source, key, hash, f_0..f_n: the values of rows to update).
  std::string changes;
  std::string create_table;    // CREATE TABLE IF NOT EXISTS for the entity
  std::string create_changes;  // CREATE TEMP TABLE of `changes`, once per connection
  std::string scan;            // the ScanRows query
  // ScanRowsWithoutEntry's: the rows no entry owns, with the same columns
  // (source and key empty).
  std::string stray_scan;

  // Builds the names and statements; `ordinal` makes the staging table's
  // name unique per entity within a connection.
  static PgEntity Build(const Entity& entity, const std::string& schema, int ordinal);
};

// Creates what is missing of the schema `sluice` and its tables, the entity's
// schema, table and id sequence. Does not check an existing table's shape.
Status CreateMissingTables(PgConn* conn, const PgEntity& e, const std::string& schema);

// Where one batch stands while it is applied: per input record, its target
// id (0 until loaded) and action (kRejectedAction until loaded).
struct AppliedBatch {
  std::vector<int64_t> target_ids;
  std::string actions;
  uint64_t inserted = 0, updated = 0, unchanged = 0;
  explicit AppliedBatch(size_t n) : target_ids(n, 0), actions(n, kRejectedAction) {}
};

// Applies the records at `indices` (ascending) of `batch` inside the
// caller's open transaction (begun with kBeginLoad): new keys get a new row and cross-reference
// entry, changed ones an update, merged keys point at their survivor, and sluice.rollback receives
// the inserted ids and before-images. With `fresh_stage` false the staging tables are emptied first
// (they may hold an earlier subset of the same transaction). Fills `applied` on success; a server
// error comes back classified (see pg_util.h), and the transaction must then be rolled back (or
// rolled back to a savepoint taken before the call).
Status ApplyRecords(PgConn* conn, const PgEntity& e, const std::string& run_id,
                    const RecordBatch& batch, const std::vector<size_t>& indices, bool fresh_stage,
                    AppliedBatch* applied);

// Target ids of the batch's keys from the cross-reference, in input order
// (0 for a key with no entry), staging the keys inside the open transaction.
Result<std::vector<int64_t>> LookupTargetIds(PgConn* conn, const PgEntity& e,
                                             const RecordBatch& batch);

// postgres_retire.cc (issue 23). Inside the caller's open transaction:
// the rows of keys staged in `merged` (source, key, survivor target_id) that
// earlier runs loaded as their own are deleted, their before-images kept
// (op 'delete'); call before the merged keys' entries are repointed.
Status RetireMergedRows(PgConn* conn, const PgEntity& e, const std::string& run_id,
                        const std::string& merged);
// Copies `keys` into pg_temp.sluice_keys (ord, source, key) inside the
// caller's open transaction (the table empties at commit).
Status StagePgKeys(PgConn* conn, const std::vector<SourceKey>& keys);
// Target::RetireRows inside the caller's open transaction: stages `keys` in
// pg_temp.sluice_keys, deletes their own rows and entries (before-images
// kept) and returns what it removed.
Result<std::vector<RetiredRow>> RetirePgRows(PgConn* conn, const PgEntity& e,
                                             const std::string& run_id,
                                             const std::vector<SourceKey>& keys);
Result<uint64_t> CountPgRows(PgConn* conn, const PgEntity& e);
// postgres_scan.cc. ScanRows (or, with `strays`, ScanRowsWithoutEntry):
// the entity's rows through one streamed COPY TO, in its own read-only
// transaction. Rows already handed to `fn` are not taken back on failure.
Status ScanPgRows(PgConn* conn, const PgEntity& e, bool strays,
                  const std::function<void(const TargetRow&)>& fn);
// postgres_soft_delete.cc (issue 18). Target::SoftDeleteRows inside the
// caller's open transaction: `field` set to `at` (its text form) on the own
// rows of `keys` where it is NULL, their entries' content hash cleared,
// both before-images kept; returns the rows marked.
Result<std::vector<RetiredRow>> SoftDeletePgRows(PgConn* conn, const PgEntity& e,
                                                 const std::string& run_id,
                                                 const std::string& field,
                                                 const std::vector<SourceKey>& keys,
                                                 const std::string& at);

// Restores the entity to its state before `run_id` from sluice.rollback and
// forgets the run's batches, inside the caller's open transaction.
Status RollbackRun(PgConn* conn, const PgEntity& e, const std::string& run_id);

}  // namespace sluice
