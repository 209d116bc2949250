// The SQLite target's implementation, shared by its source files:
// sqlite_target.cc (setup, Prepare, Load), sqlite_target_write.cc (the
// multi-row write and lookup paths, rollback data) and sqlite_target_read.cc
// (Rollback and the read-back for reconciliation). Internal: include only
// from those files.
#pragma once

#include <algorithm>
#include <bit>
#include <filesystem>
#include <map>
#include <set>
#include <string_view>

#include "common/audit/sqlite_util.h"
#include "common/connectors/keyed_rows.h"
#include "common/connectors/sqlite/sqlite_target.h"

namespace sluice::sqlite_target {

inline const char* SqlType(FieldType type) {
  return type == FieldType::kInt || type == FieldType::kBool ? "INTEGER" : "TEXT";
}

inline std::string ColumnList(const std::vector<std::pair<std::string, std::string>>& cols) {
  std::string out;
  for (const auto& [name, type] : cols) {
    if (!out.empty()) out += ", ";
    out += name + " " + type;
  }
  return "(" + out + ")";
}

// Rows or cross-reference entries written by one multi-row statement, and
// keys read by one lookup (fewer when SQLite allows fewer parameters).
constexpr size_t kRowsPerStatement = 64;
constexpr size_t kKeysPerLookup = 64;

// Prepared statements of one entity, reused across batches.
struct EntityStatements {
  Schema schema;
  std::string insert_rows_sql;  // INSERT INTO table(columns..., sluice_id) VALUES
  Statement lookup;             // xref entry of (entity, source, key)
  Statement lookup_keys;        // xref entries of (entity, source) and up to kKeysPerLookup keys
  Statement any_in_range;       // whether (entity, source) has an xref key in [?3, ?4]
  Statement update_row;         // overwrite the row by sluice_id
  Statement max_id;             // highest sluice_id in use
  Statement save_row;           // records the before-image of row ?3 (run ?1, entity ?2)
  Statement restore_row;        // restores row ?2 from the before-image ?1
  // A row retired because its record is now merged into another (issue 23):
  // its before-image (op 'delete'), its deletion, and its return on rollback.
  Statement save_deleted;  // records the before-image of row ?3 (run ?1, entity ?2)
  Statement delete_row;    // deletes row ?1
  Statement reinsert_row;  // inserts row ?2 from the before-image ?1
  // [n - 1] inserts n rows / upserts n xref entries; prepared on first use.
  std::vector<Statement> insert_rows;
  std::vector<Statement> upsert_xref;
  size_t rows_per_insert = 1;     // rows per statement within SQLite's parameter limit
  size_t entries_per_upsert = 1;  // xref entries per statement, likewise
  int64_t next_id = 1;            // the next sluice_id, valid inside a Load transaction
  // The entity's reference fields, as (field, the entity it refers to).
  std::vector<std::pair<std::string, std::string>> references;
};

struct XrefEntry {
  bool found = false;
  int64_t target_id = 0;
  uint64_t hash = 0;
  bool merged = false;
};

// A cross-reference entry waiting for the next multi-row upsert.
struct XrefWrite {
  std::string_view source;
  std::string_view key;
  int64_t target_id = 0;
  uint64_t hash = 0;
  const char* kind = "loaded";
  // Whether the entry may exist and change: its before-image is recorded
  // for rollback. New keys of inserted rows need none (rollback deletes the
  // entries of the run pointing at the rows it inserted).
  bool save = false;
};

// Flags the records whose key the same batch writes before them (as a
// record's key or a merged key): they must read their cross-reference entry
// after those writes. Empty when no key repeats, the usual case, which a
// sort of key hashes shows without building a set of strings.
inline std::vector<bool> KeysWrittenBefore(const RecordBatch& batch) {
  std::vector<uint64_t> hashes;
  hashes.reserve(batch.records.size());
  for (const Record& r : batch.records) {
    hashes.push_back(KeyHash(r.source, r.key));
    for (const SourceKey& m : r.merged) hashes.push_back(KeyHash(m.source, m.key));
  }
  std::sort(hashes.begin(), hashes.end());
  if (std::adjacent_find(hashes.begin(), hashes.end()) == hashes.end()) return {};
  std::vector<bool> repeated(batch.records.size(), false);
  std::set<std::pair<std::string_view, std::string_view>> written;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    const Record& r = batch.records[i];
    repeated[i] = !written.emplace(r.source, r.key).second;
    for (const SourceKey& m : r.merged) written.emplace(m.source, m.key);
  }
  return repeated;
}

inline std::string RecordName(const Record& r) { return r.source + "/" + r.key; }

// The text of a column value read with sqlite3_column_value, which costs
// less per column than sqlite3_column_text and _bytes on a statement used
// by one thread; "" for NULL.
inline std::string_view CellText(sqlite3_value* cell) {
  const unsigned char* data = sqlite3_value_text(cell);
  if (data == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(data),
                          static_cast<size_t>(sqlite3_value_bytes(cell)));
}

// `st` naming the resource fault it is, when it is one: "target not
// writable: PATH: ..." (read-only file or folder, no permission) or "no space
// left on device in the target PATH: ..."; any other status unchanged.
Status TargetFault(const Status& st, const std::string& path);

class SqliteTarget : public Target, public KeyedRowReader {
 public:
  SqliteTarget(TargetSpec spec, std::unique_ptr<SqliteDb> db)
      : spec_(std::move(spec)), db_(std::move(db)) {}

  Status Init();

  Status Prepare(const Entity& entity) override;

  Result<LoadOutcome> Load(const std::string& run_id, const Entity& entity,
                           const RecordBatch& batch) override;

  Status Rollback(const std::string& run_id, const Entity& entity) override;

  Result<std::vector<int64_t>> ResolveKeys(const std::string& entity, const std::string& source,
                                           const std::vector<std::string>& keys) override;

  Result<uint64_t> CountAppliedBatches(const std::string& run_id,
                                       const std::string& prefix) override;

  Status ScanRows(const Entity& entity, const std::function<void(const TargetRow&)>& fn) override;

  Result<std::vector<TargetEntry>> LookupEntries(const Entity& entity,
                                                 const std::vector<SourceKey>& keys) override;
  Result<uint64_t> CountRows(const Entity& entity) override;
  Status ScanRowsWithoutEntry(const Entity& entity,
                              const std::function<void(const TargetRow&)>& fn) override;
  // KeyedRowReader (sqlite_target_read.cc): a probe of the cross-reference's
  // primary key and of the row per key.
  Status ScanRowsOfKeys(const Entity& entity, const std::vector<SourceKey>& keys,
                        const std::function<void(const TargetRow&)>& fn) override;
  Result<uint64_t> RowsAtMost(const Entity& entity) override;

  // sqlite_target_retire.cc
  Result<std::vector<RetiredRow>> RetireRows(const std::string& run_id, const Entity& entity,
                                             const std::vector<SourceKey>& keys) override;
  // sqlite_target_soft_delete.cc
  Result<std::vector<RetiredRow>> SoftDeleteRows(const std::string& run_id, const Entity& entity,
                                                 const std::string& field,
                                                 const std::vector<SourceKey>& keys,
                                                 int64_t at_micros) override;

 private:
  Result<std::vector<RetiredRow>> RetireRowsOf(const std::string& run_id, const Entity& entity,
                                               const std::vector<SourceKey>& keys);
  Status PrepareEntity(const Entity& entity);
  Status NameFault(const Status& st) const;
  // A record merged into the survivor at `survivor_id` that had a row of its
  // own from an earlier run: that row is retired (deleted, its before-image
  // kept for rollback) in the load's transaction, and the references to it
  // move to the survivor's row (MoveReferences). Returns whether it had one.
  Result<bool> RetireMergedRow(EntityStatements* st, const std::string& run_id,
                               const Entity& entity, const SourceKey& merged, int64_t survivor_id);
  // sqlite_target_retire.cc: the rows of the entities prepared so far that
  // refer to `entity` (its own rows included) and name row `from` name row
  // `to` instead, each before-image kept as rollback data of `run_id` under
  // the referring entity. The loader prepares the entities that refer to an
  // entity before it loads it (loader/load_worker.cc).
  Status MoveReferences(const std::string& run_id, const std::string& entity, int64_t from,
                        int64_t to);

  // `text` as an SQL string literal.
  static std::string SqlString(const std::string& text);

  static std::string Difference(const std::vector<std::pair<std::string, std::string>>& want,
                                const std::vector<std::pair<std::string, std::string>>& have);

  // Makes room for the formatted values of `rows` records. Bound values
  // point into scratch_, so it must not grow while a statement is bound.
  void ReserveScratch(const Schema& schema, size_t rows);

  // Binds the record's values as parameters first..first+n-1 of `stmt`;
  // formatted values are kept in scratch_[slot * n ...] (room made by
  // ReserveScratch) until the next bind.
  Status BindValues(const Schema& schema, const Record& r, Statement* stmt, int first, size_t slot);

  // The statement writing `n` rows (or xref entries) at once, prepared on
  // first use.
  Result<Statement*> InsertRows(EntityStatements* st, size_t n);

  Result<Statement*> UpsertXref(EntityStatements* st, size_t n);

  // Writes the pending new rows with multi-row INSERTs.
  Status FlushRows(EntityStatements* st, const RecordBatch& batch);

  // Writes the pending cross-reference entries with multi-row upserts.
  Status FlushXref(EntityStatements* st, const std::string& entity, const std::string& run_id);

  // Records the state of the xref entry `w` is about to overwrite.
  Status SaveXref(const std::string& entity, const std::string& run_id, const XrefWrite& w);

  Status AddRollback(const std::string& run_id, const std::string& entity, int64_t target_id,
                     int64_t last_id, const char* op, std::string_view before);

  Result<XrefEntry> Lookup(EntityStatements* st, const std::string& entity,
                           const std::string& source, const std::string& key);

  // Whether any xref entry of (entity, source) has a key in [low, high].
  Result<bool> AnyInRange(EntityStatements* st, const std::string& entity,
                          const std::string& source, std::string_view low, std::string_view high);

  // Reads the xref entries of records [begin, end) into entries_[i - begin],
  // up to kKeysPerLookup keys of one source per statement. New keys in key
  // order (a first load) cost one range probe for all of them.
  Status LookupRange(EntityStatements* st, const std::string& entity,
                     const std::vector<Record>& records, size_t begin, size_t end);

  Result<LoadOutcome> LoadBatch(const std::string& run_id, const Entity& entity,
                                const RecordBatch& batch);

  // Replays the run's rollback rows of the entity in reverse order.
  Status RollbackRun(const std::string& run_id, const Entity& entity);

  Status Scan(const Entity& entity, const std::function<void(const TargetRow&)>& fn);
  // The statement Scan and ScanRowsOfKeys read through: every entry of the
  // entity with its row's columns, the WHERE clause after `x.entity = ?1`
  // being `more`.
  Result<Statement> PrepareScan(const Entity& entity, const std::string& more);
  // Reads the current row of a PrepareScan statement into `row`.
  static Status ReadScanned(Statement& s, const Schema& schema, TargetRow* row);

  TargetSpec spec_;
  std::unique_ptr<SqliteDb> db_;
  Statement find_batch_;
  Statement insert_batch_;
  Statement insert_rollback_;  // one rollback row: ?1 run ... ?6 before
  Statement save_xref_;        // before-image of an xref entry about to change
  Statement save_new_xref_;    // notes a merged key that had no entry
  Statement resolve_key_;      // target id of (entity ?1, source ?2, key ?3); ResolveKeys
  Statement count_batches_;    // applied batches of run ?1 named in [?2, ?3); CountAppliedBatches
  std::map<std::string, std::unique_ptr<EntityStatements>> entities_;
  bool bytewise_keys_ = false;  // SQLite orders keys as std::string_view does
  // Per Load, reused for their capacity:
  std::vector<std::string> scratch_;                      // formatted values bound without copying
  std::vector<std::pair<size_t, int64_t>> pending_rows_;  // (record, sluice_id) to insert
  std::vector<XrefWrite> pending_xref_;                   // xref entries to upsert, in order
  std::vector<XrefEntry> entries_;                        // LookupRange's answer
  std::vector<bool> looked_up_;
  std::vector<std::pair<std::string_view, size_t>> keys_;
};

}  // namespace sluice::sqlite_target
