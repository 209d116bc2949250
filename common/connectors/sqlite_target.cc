// The embedded default target: one SQLite file holding a table per entity,
// the id cross-reference and the record of applied batches.
//
// Every Load is one transaction: rows, cross-reference entries and the
// batch record commit together, so a replayed batch is recognised and a
// crash mid-batch leaves nothing behind. Durability is SQLite's WAL with
// synchronous=NORMAL: a committed batch survives a crash of any process;
// after a power loss the last batches may roll back, and are then loaded
// again because their commit never reached the ledger.
//
// Rows and cross-reference entries are written with multi-row statements
// and read with multi-key lookups, which spreads SQLite's per-statement cost
// (bind, step, reset) over many rows; the order of the writes is that of
// the batch, so the result is the one of loading record after record.
#include "common/connectors/sqlite_target.h"

#include <algorithm>
#include <bit>
#include <filesystem>
#include <map>
#include <set>
#include <string_view>

#include "common/sqlite_util.h"

namespace sluice {
namespace {

const char* SqlType(FieldType type) {
  return type == FieldType::kInt || type == FieldType::kBool ? "INTEGER" : "TEXT";
}

std::string ColumnList(const std::vector<std::pair<std::string, std::string>>& cols) {
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
  // [n - 1] inserts n rows / upserts n xref entries; prepared on first use.
  std::vector<Statement> insert_rows;
  std::vector<Statement> upsert_xref;
  size_t rows_per_insert = 1;     // rows per statement within SQLite's parameter limit
  size_t entries_per_upsert = 1;  // xref entries per statement, likewise
  int64_t next_id = 1;            // the next sluice_id, valid inside a Load transaction
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
std::vector<bool> KeysWrittenBefore(const RecordBatch& batch) {
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

std::string RecordName(const Record& r) { return r.source + "/" + r.key; }

// The text of a column value read with sqlite3_column_value, which costs
// less per column than sqlite3_column_text and _bytes on a statement used
// by one thread; "" for NULL.
std::string_view CellText(sqlite3_value* cell) {
  const unsigned char* data = sqlite3_value_text(cell);
  if (data == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(data),
                          static_cast<size_t>(sqlite3_value_bytes(cell)));
}

class SqliteTarget : public Target {
 public:
  SqliteTarget(TargetSpec spec, std::unique_ptr<SqliteDb> db)
      : spec_(std::move(spec)), db_(std::move(db)) {}

  Status Init() {
    // A new file gets 16 KiB pages, which cost about 12% less CPU per loaded
    // row than SQLite's 4 KiB (fewer page splits, WAL frames and writes). An
    // existing file keeps its page size: SQLite ignores the pragma then.
    SLUICE_RETURN_IF_ERROR(db_->Exec(
        "PRAGMA page_size=16384;"
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
        "PRAGMA temp_store=MEMORY;"
        "CREATE TABLE IF NOT EXISTS sluice_xref(entity TEXT, source TEXT, key TEXT,"
        " target_id INTEGER NOT NULL, content_hash INTEGER, kind TEXT NOT NULL, run_id TEXT,"
        " PRIMARY KEY(entity, source, key)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS sluice_batches(run_id TEXT, batch TEXT, inserted INTEGER,"
        " updated INTEGER, unchanged INTEGER, actions TEXT, PRIMARY KEY(run_id, batch));"
        // Rollback data, written in each Load's transaction. op: 'insert'
        // (rows target_id..last_id), 'update' (before: the row's before-image),
        // 'xref_update' (before: the entry's before-image), 'xref_insert' (a
        // merged key that had no entry; before: its source and key) or
        // 'batch' (before: the name of an applied batch).
        "CREATE TABLE IF NOT EXISTS sluice_rollback(run_id TEXT, entity TEXT,"
        " seq INTEGER PRIMARY KEY AUTOINCREMENT, target_id INTEGER, op TEXT, before TEXT,"
        " last_id INTEGER);"
        "CREATE INDEX IF NOT EXISTS sluice_rollback_run ON sluice_rollback(run_id, entity, seq);"));
    // Checkpoint the WAL into the file when it holds 64 MiB, whatever the
    // page size.
    SLUICE_ASSIGN_OR_RETURN(Statement page_size, db_->Prepare("PRAGMA page_size"));
    SLUICE_ASSIGN_OR_RETURN(bool known, page_size.Step());
    const int64_t page_bytes =
        known && page_size.ColumnInt64(0) > 0 ? page_size.ColumnInt64(0) : 4096;
    SLUICE_RETURN_IF_ERROR(
        db_->Exec("PRAGMA wal_autocheckpoint=" + std::to_string((int64_t{64} << 20) / page_bytes)));
    // Range probes compare keys as C++ does, bytewise, which is SQLite's
    // order for UTF-8 text only.
    SLUICE_ASSIGN_OR_RETURN(Statement encoding, db_->Prepare("PRAGMA encoding"));
    SLUICE_ASSIGN_OR_RETURN(bool has_encoding, encoding.Step());
    bytewise_keys_ = has_encoding && encoding.ColumnText(0) == "UTF-8";
    SLUICE_ASSIGN_OR_RETURN(
        find_batch_, db_->Prepare("SELECT inserted, updated, unchanged, actions FROM sluice_batches"
                                  " WHERE run_id = ?1 AND batch = ?2"));
    SLUICE_ASSIGN_OR_RETURN(
        insert_batch_, db_->Prepare("INSERT INTO sluice_batches(run_id, batch, inserted, updated,"
                                    " unchanged, actions) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    SLUICE_ASSIGN_OR_RETURN(insert_rollback_,
                            db_->Prepare("INSERT INTO sluice_rollback(run_id, entity, target_id,"
                                         " last_id, op, before) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    // ?1 run, ?2 entity, ?3 source, ?4 key; ?5..?7 the entry about to be
    // written: an existing entry that differs gets its before-image saved,
    // a missing one is noted for deletion.
    SLUICE_ASSIGN_OR_RETURN(
        save_xref_,
        db_->Prepare("INSERT INTO sluice_rollback(run_id, entity, target_id, op, before)"
                     " SELECT ?1, ?2, target_id, 'xref_update', json_object('source', source,"
                     " 'key', key, 'target_id', target_id, 'content_hash', content_hash,"
                     " 'kind', kind, 'run_id', run_id) FROM sluice_xref"
                     " WHERE entity = ?2 AND source = ?3 AND key = ?4 AND (target_id IS NOT ?5"
                     " OR content_hash IS NOT ?6 OR kind IS NOT ?7)"));
    SLUICE_ASSIGN_OR_RETURN(
        save_new_xref_,
        db_->Prepare("INSERT INTO sluice_rollback(run_id, entity, op, before)"
                     " SELECT ?1, ?2, 'xref_insert', json_object('source', ?3, 'key', ?4)"
                     " WHERE NOT EXISTS (SELECT 1 FROM sluice_xref"
                     " WHERE entity = ?2 AND source = ?3 AND key = ?4)"));
    return Status::Ok();
  }

  Status Prepare(const Entity& entity) override {
    Status st = PrepareEntity(entity);
    return st.WithContext(spec_.yaml_path + ": entity '" + entity.name + "'");
  }

  Result<LoadOutcome> Load(const std::string& run_id, const Entity& entity,
                           const RecordBatch& batch) override {
    auto out = LoadBatch(run_id, entity, batch);
    if (!out.ok()) {
      return out.status().WithContext(spec_.yaml_path + ": load " + BatchName(batch.id));
    }
    return out;
  }

  Status Rollback(const std::string& run_id, const Entity& entity) override {
    Status st = RollbackRun(run_id, entity);
    return st.WithContext(spec_.yaml_path + ": rollback of run '" + run_id + "' entity '" +
                          entity.name + "'");
  }

  Status ScanRows(const Entity& entity, const std::function<void(const TargetRow&)>& fn) override {
    Status st = Scan(entity, fn);
    return st.WithContext(spec_.yaml_path + ": scan entity '" + entity.name + "'");
  }

 private:
  Status PrepareEntity(const Entity& entity) {
    if (entities_.count(entity.name)) return Status::Ok();
    std::vector<std::pair<std::string, std::string>> want = {{"sluice_id", "INTEGER"}};
    for (const auto& f : entity.fields) {
      if (f.name == "sluice_id") {
        return Status::InvalidArgument("field name 'sluice_id' is reserved by the sqlite target");
      }
      want.emplace_back(f.name, SqlType(f.type));
    }
    const std::string table = QuoteIdentifier(entity.name);
    SLUICE_ASSIGN_OR_RETURN(Statement info, db_->Prepare("PRAGMA table_info(" + table + ")"));
    std::vector<std::pair<std::string, std::string>> have;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, info.Step());
      if (!row) break;
      have.emplace_back(std::string(info.ColumnText(1)), std::string(info.ColumnText(2)));
    }
    if (have.empty()) {
      std::string ddl = "CREATE TABLE IF NOT EXISTS " + table + "(sluice_id INTEGER PRIMARY KEY";
      for (const auto& f : entity.fields)
        ddl += ", " + QuoteIdentifier(f.name) + " " + SqlType(f.type);
      SLUICE_RETURN_IF_ERROR(db_->Exec(ddl + ")"));
    } else if (have != want) {
      return Status::FailedPrecondition(
          "table " + table + " exists with different columns: " + Difference(want, have) +
          "; expected " + ColumnList(want) + ", found " + ColumnList(have));
    }
    auto st = std::make_unique<EntityStatements>();
    st->schema = entity.ToSchema();
    std::string cols, sets, image, restore;
    for (size_t i = 0; i < entity.fields.size(); ++i) {
      std::string col = QuoteIdentifier(entity.fields[i].name);
      std::string param = "?" + std::to_string(i + 1);
      cols += col + ", ";
      sets += (i ? ", " : "") + col + " = " + param;
      const std::string name = SqlString(entity.fields[i].name);
      const std::string path = SqlString("$.\"" + entity.fields[i].name + "\"");
      image += ", " + name + ", " + col;
      restore += (i ? ", " : "") + col + " = json_extract(?1, " + path + ")";
    }
    std::string id_param = "?" + std::to_string(entity.fields.size() + 1);
    st->insert_rows_sql = "INSERT INTO " + table + "(" + cols + "sluice_id) VALUES";
    const size_t params_per_row = entity.fields.size() + 1;
    const size_t max_params =
        static_cast<size_t>(sqlite3_limit(db_->raw(), SQLITE_LIMIT_VARIABLE_NUMBER, -1));
    st->rows_per_insert = std::clamp<size_t>(max_params / params_per_row, 1, kRowsPerStatement);
    st->entries_per_upsert = std::clamp<size_t>((max_params - 2) / 5, 1, kRowsPerStatement);
    st->insert_rows.resize(st->rows_per_insert);
    st->upsert_xref.resize(st->entries_per_upsert);
    SLUICE_ASSIGN_OR_RETURN(st->lookup,
                            db_->Prepare("SELECT target_id, content_hash, kind FROM sluice_xref"
                                         " WHERE entity = ?1 AND source = ?2 AND key = ?3"));
    std::string keys;
    for (size_t k = 0; k < kKeysPerLookup; ++k) keys += (k ? ", ?" : "?") + std::to_string(k + 3);
    SLUICE_ASSIGN_OR_RETURN(
        st->lookup_keys, db_->Prepare("SELECT key, target_id, content_hash, kind FROM sluice_xref"
                                      " WHERE entity = ?1 AND source = ?2 AND key IN (" +
                                      keys + ")"));
    SLUICE_ASSIGN_OR_RETURN(st->any_in_range,
                            db_->Prepare("SELECT 1 FROM sluice_xref WHERE entity = ?1"
                                         " AND source = ?2 AND key >= ?3 AND key <= ?4 LIMIT 1"));
    SLUICE_ASSIGN_OR_RETURN(
        st->update_row, db_->Prepare(entity.fields.empty() ? "SELECT " + id_param
                                                           : "UPDATE " + table + " SET " + sets +
                                                                 " WHERE sluice_id = " + id_param));
    SLUICE_ASSIGN_OR_RETURN(st->max_id,
                            db_->Prepare("SELECT coalesce(max(sluice_id), 0) FROM " + table));
    SLUICE_ASSIGN_OR_RETURN(
        st->save_row,
        db_->Prepare("INSERT INTO sluice_rollback(run_id, entity, target_id, op, before)"
                     " SELECT ?1, ?2, sluice_id, 'update', json_object(" +
                     (image.empty() ? std::string() : image.substr(2)) + ") FROM " + table +
                     " WHERE sluice_id = ?3"));
    SLUICE_ASSIGN_OR_RETURN(
        st->restore_row,
        db_->Prepare(entity.fields.empty()
                         ? "SELECT ?1, ?2"
                         : "UPDATE " + table + " SET " + restore + " WHERE sluice_id = ?2"));
    entities_[entity.name] = std::move(st);
    return Status::Ok();
  }

  // `text` as an SQL string literal.
  static std::string SqlString(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }

  static std::string Difference(const std::vector<std::pair<std::string, std::string>>& want,
                                const std::vector<std::pair<std::string, std::string>>& have) {
    std::map<std::string, std::string> w(want.begin(), want.end());
    std::map<std::string, std::string> h(have.begin(), have.end());
    std::string out;
    auto add = [&out](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
    for (const auto& [name, type] : want) {
      auto it = h.find(name);
      if (it == h.end()) {
        add("missing column '" + name + "'");
      } else if (it->second != type) {
        add("column '" + name + "' is " + it->second + ", expected " + type);
      }
    }
    for (const auto& [name, type] : have) {
      if (!w.count(name)) add("unexpected column '" + name + "'");
    }
    return out.empty() ? "columns in a different order" : out;
  }

  // Makes room for the formatted values of `rows` records. Bound values
  // point into scratch_, so it must not grow while a statement is bound.
  void ReserveScratch(const Schema& schema, size_t rows) {
    if (scratch_.size() < rows * schema.fields.size()) {
      scratch_.resize(rows * schema.fields.size());
    }
  }

  // Binds the record's values as parameters first..first+n-1 of `stmt`;
  // formatted values are kept in scratch_[slot * n ...] (room made by
  // ReserveScratch) until the next bind.
  Status BindValues(const Schema& schema, const Record& r, Statement* stmt, int first,
                    size_t slot) {
    const size_t n = schema.fields.size();
    for (size_t i = 0; i < n; ++i) {
      const FieldSpec& f = schema.fields[i];
      const Value& v = r.values[i];
      int idx = first + static_cast<int>(i);
      if (v.is_null) {
        SLUICE_RETURN_IF_ERROR(stmt->BindNull(idx));
        continue;
      }
      switch (f.type) {
        case FieldType::kInt:
        case FieldType::kBool:
          SLUICE_RETURN_IF_ERROR(stmt->Bind(idx, v.i));
          break;
        case FieldType::kDecimal:
        case FieldType::kDate:
        case FieldType::kTimestamp: {
          std::string& text = scratch_[slot * n + i];
          text = *FormatValue(f, v);
          SLUICE_RETURN_IF_ERROR(stmt->BindView(idx, text));
          break;
        }
        default:
          SLUICE_RETURN_IF_ERROR(stmt->BindView(idx, v.s));
          break;
      }
    }
    return Status::Ok();
  }

  // The statement writing `n` rows (or xref entries) at once, prepared on
  // first use.
  Result<Statement*> InsertRows(EntityStatements* st, size_t n) {
    Statement& s = st->insert_rows[n - 1];
    if (s.raw() == nullptr) {
      std::string row = "(?";
      for (size_t i = 0; i < st->schema.fields.size(); ++i) row += ", ?";
      row += ")";
      std::string sql = st->insert_rows_sql;
      for (size_t k = 0; k < n; ++k) sql += (k ? ", " : " ") + row;
      SLUICE_ASSIGN_OR_RETURN(s, db_->Prepare(sql));
    }
    return &s;
  }

  Result<Statement*> UpsertXref(EntityStatements* st, size_t n) {
    Statement& s = st->upsert_xref[n - 1];
    if (s.raw() == nullptr) {
      // ?1 is the entity and ?2 the run for every entry.
      std::string sql =
          "INSERT INTO sluice_xref(entity, source, key, target_id, content_hash, kind, run_id)"
          " VALUES";
      for (size_t k = 0; k < n; ++k) {
        sql += k ? ", (?1" : " (?1";
        for (size_t p = 0; p < 5; ++p) sql += ", ?" + std::to_string(3 + 5 * k + p);
        sql += ", ?2)";
      }
      sql +=
          " ON CONFLICT(entity, source, key) DO UPDATE SET"
          " target_id = excluded.target_id, content_hash = excluded.content_hash,"
          " kind = excluded.kind, run_id = excluded.run_id"
          " WHERE target_id IS NOT excluded.target_id"
          " OR content_hash IS NOT excluded.content_hash OR kind IS NOT excluded.kind";
      SLUICE_ASSIGN_OR_RETURN(s, db_->Prepare(sql));
    }
    return &s;
  }

  // Writes the pending new rows with multi-row INSERTs.
  Status FlushRows(EntityStatements* st, const RecordBatch& batch) {
    const size_t n = st->schema.fields.size();
    ReserveScratch(st->schema, st->rows_per_insert);
    for (size_t done = 0; done < pending_rows_.size();) {
      const size_t count = std::min(st->rows_per_insert, pending_rows_.size() - done);
      SLUICE_ASSIGN_OR_RETURN(Statement * s, InsertRows(st, count));
      SLUICE_RETURN_IF_ERROR(s->Reset());
      for (size_t k = 0; k < count; ++k) {
        const auto& [index, id] = pending_rows_[done + k];
        const int first = static_cast<int>(k * (n + 1) + 1);
        SLUICE_RETURN_IF_ERROR(BindValues(st->schema, batch.records[index], s, first, k));
        SLUICE_RETURN_IF_ERROR(s->Bind(first + static_cast<int>(n), id));
      }
      Status written = s->Run();
      if (!written.ok()) {
        return written.WithContext(
            "records " + RecordName(batch.records[pending_rows_[done].first]) + " to " +
            RecordName(batch.records[pending_rows_[done + count - 1].first]));
      }
      done += count;
    }
    pending_rows_.clear();
    return Status::Ok();
  }

  // Writes the pending cross-reference entries with multi-row upserts.
  Status FlushXref(EntityStatements* st, const std::string& entity, const std::string& run_id) {
    for (size_t done = 0; done < pending_xref_.size();) {
      const size_t count = std::min(st->entries_per_upsert, pending_xref_.size() - done);
      for (size_t k = 0; k < count; ++k) {
        const XrefWrite& w = pending_xref_[done + k];
        if (w.save) SLUICE_RETURN_IF_ERROR(SaveXref(entity, run_id, w));
      }
      SLUICE_ASSIGN_OR_RETURN(Statement * s, UpsertXref(st, count));
      SLUICE_RETURN_IF_ERROR(s->Reset());
      SLUICE_RETURN_IF_ERROR(s->BindView(1, entity));
      SLUICE_RETURN_IF_ERROR(s->BindView(2, run_id));
      for (size_t k = 0; k < count; ++k) {
        const XrefWrite& w = pending_xref_[done + k];
        const int first = static_cast<int>(3 + 5 * k);
        SLUICE_RETURN_IF_ERROR(s->BindView(first, w.source));
        SLUICE_RETURN_IF_ERROR(s->BindView(first + 1, w.key));
        SLUICE_RETURN_IF_ERROR(s->Bind(first + 2, w.target_id));
        SLUICE_RETURN_IF_ERROR(s->Bind(first + 3, std::bit_cast<int64_t>(w.hash)));
        SLUICE_RETURN_IF_ERROR(s->BindView(first + 4, w.kind));
      }
      Status written = s->Run();
      if (!written.ok()) {
        const XrefWrite& a = pending_xref_[done];
        const XrefWrite& b = pending_xref_[done + count - 1];
        return written.WithContext("cross-reference of " + std::string(a.source) + "/" +
                                   std::string(a.key) + " to " + std::string(b.source) + "/" +
                                   std::string(b.key));
      }
      done += count;
    }
    pending_xref_.clear();
    return Status::Ok();
  }

  // Records the state of the xref entry `w` is about to overwrite.
  Status SaveXref(const std::string& entity, const std::string& run_id, const XrefWrite& w) {
    Statement& s = save_xref_;
    SLUICE_RETURN_IF_ERROR(s.Reset());
    SLUICE_RETURN_IF_ERROR(s.BindView(1, run_id));
    SLUICE_RETURN_IF_ERROR(s.BindView(2, entity));
    SLUICE_RETURN_IF_ERROR(s.BindView(3, w.source));
    SLUICE_RETURN_IF_ERROR(s.BindView(4, w.key));
    SLUICE_RETURN_IF_ERROR(s.Bind(5, w.target_id));
    SLUICE_RETURN_IF_ERROR(s.Bind(6, std::bit_cast<int64_t>(w.hash)));
    SLUICE_RETURN_IF_ERROR(s.BindView(7, w.kind));
    SLUICE_RETURN_IF_ERROR(s.Run());
    Statement& n = save_new_xref_;
    SLUICE_RETURN_IF_ERROR(n.Reset());
    SLUICE_RETURN_IF_ERROR(n.BindView(1, run_id));
    SLUICE_RETURN_IF_ERROR(n.BindView(2, entity));
    SLUICE_RETURN_IF_ERROR(n.BindView(3, w.source));
    SLUICE_RETURN_IF_ERROR(n.BindView(4, w.key));
    return n.Run();
  }

  Status AddRollback(const std::string& run_id, const std::string& entity, int64_t target_id,
                     int64_t last_id, const char* op, std::string_view before) {
    Statement& s = insert_rollback_;
    SLUICE_RETURN_IF_ERROR(s.Reset());
    SLUICE_RETURN_IF_ERROR(s.BindView(1, run_id));
    SLUICE_RETURN_IF_ERROR(s.BindView(2, entity));
    SLUICE_RETURN_IF_ERROR(s.Bind(3, target_id));
    SLUICE_RETURN_IF_ERROR(s.Bind(4, last_id));
    SLUICE_RETURN_IF_ERROR(s.BindView(5, op));
    SLUICE_RETURN_IF_ERROR(s.BindView(6, before));
    return s.Run();
  }

  Result<XrefEntry> Lookup(EntityStatements* st, const std::string& entity,
                           const std::string& source, const std::string& key) {
    Statement& s = st->lookup;
    SLUICE_RETURN_IF_ERROR(s.Reset());
    SLUICE_RETURN_IF_ERROR(s.BindView(1, entity));
    SLUICE_RETURN_IF_ERROR(s.BindView(2, source));
    SLUICE_RETURN_IF_ERROR(s.BindView(3, key));
    XrefEntry e;
    SLUICE_ASSIGN_OR_RETURN(e.found, s.Step());
    if (e.found) {
      e.target_id = s.ColumnInt64(0);
      e.hash = std::bit_cast<uint64_t>(s.ColumnInt64(1));
      e.merged = s.ColumnText(2) == "merged";
    }
    SLUICE_RETURN_IF_ERROR(s.Reset());
    return e;
  }

  // Whether any xref entry of (entity, source) has a key in [low, high].
  Result<bool> AnyInRange(EntityStatements* st, const std::string& entity,
                          const std::string& source, std::string_view low, std::string_view high) {
    Statement& s = st->any_in_range;
    SLUICE_RETURN_IF_ERROR(s.Reset());
    SLUICE_RETURN_IF_ERROR(s.BindView(1, entity));
    SLUICE_RETURN_IF_ERROR(s.BindView(2, source));
    SLUICE_RETURN_IF_ERROR(s.BindView(3, low));
    SLUICE_RETURN_IF_ERROR(s.BindView(4, high));
    SLUICE_ASSIGN_OR_RETURN(bool any, s.Step());
    SLUICE_RETURN_IF_ERROR(s.Reset());
    return any;
  }

  // Reads the xref entries of records [begin, end) into entries_[i - begin],
  // up to kKeysPerLookup keys of one source per statement. New keys in key
  // order (a first load) cost one range probe for all of them.
  Status LookupRange(EntityStatements* st, const std::string& entity,
                     const std::vector<Record>& records, size_t begin, size_t end) {
    entries_.assign(end - begin, XrefEntry{});
    looked_up_.assign(end - begin, false);
    Statement& s = st->lookup_keys;
    for (size_t first = begin; first < end; ++first) {
      if (looked_up_[first - begin]) continue;
      const std::string& source = records[first].source;
      // The keys of this source, sorted so that each answer finds its records.
      keys_.clear();
      for (size_t i = first; i < end; ++i) {
        if (looked_up_[i - begin] || records[i].source != source) continue;
        looked_up_[i - begin] = true;
        keys_.emplace_back(records[i].key, i - begin);
      }
      std::sort(keys_.begin(), keys_.end());
      if (bytewise_keys_) {
        SLUICE_ASSIGN_OR_RETURN(
            bool any, AnyInRange(st, entity, source, keys_.front().first, keys_.back().first));
        if (!any) continue;
      }
      for (size_t from = 0; from < keys_.size(); from += kKeysPerLookup) {
        const size_t to = std::min(keys_.size(), from + kKeysPerLookup);
        SLUICE_RETURN_IF_ERROR(s.Reset());  // unbound keys stay NULL and match nothing
        SLUICE_RETURN_IF_ERROR(s.BindView(1, entity));
        SLUICE_RETURN_IF_ERROR(s.BindView(2, source));
        for (size_t k = from; k < to; ++k) {
          SLUICE_RETURN_IF_ERROR(s.BindView(static_cast<int>(3 + k - from), keys_[k].first));
        }
        while (true) {
          SLUICE_ASSIGN_OR_RETURN(bool row, s.Step());
          if (!row) break;
          XrefEntry e;
          e.found = true;
          e.target_id = s.ColumnInt64(1);
          e.hash = std::bit_cast<uint64_t>(s.ColumnInt64(2));
          e.merged = s.ColumnText(3) == "merged";
          const std::string_view key = s.ColumnText(0);
          auto it = std::lower_bound(keys_.begin() + from, keys_.begin() + to,
                                     std::make_pair(key, size_t{0}));
          for (; it != keys_.begin() + to && it->first == key; ++it) entries_[it->second] = e;
        }
      }
      SLUICE_RETURN_IF_ERROR(s.Reset());
    }
    return Status::Ok();
  }

  Result<LoadOutcome> LoadBatch(const std::string& run_id, const Entity& entity,
                                const RecordBatch& batch) {
    SLUICE_RETURN_IF_ERROR(PrepareEntity(entity));
    EntityStatements* st = entities_[entity.name].get();
    if (!batch.records.empty() && !(batch.schema == st->schema)) {
      return Status::InvalidArgument("batch schema does not match the model of entity '" +
                                     entity.name + "'");
    }
    const std::string name = BatchName(batch.id);
    const std::vector<Record>& records = batch.records;
    LoadOutcome out;
    out.target_ids.reserve(records.size());
    out.actions.reserve(records.size());
    pending_rows_.clear();
    pending_xref_.clear();
    SLUICE_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));

    SLUICE_RETURN_IF_ERROR(find_batch_.Reset());
    SLUICE_RETURN_IF_ERROR(find_batch_.BindView(1, run_id));
    SLUICE_RETURN_IF_ERROR(find_batch_.BindView(2, name));
    SLUICE_ASSIGN_OR_RETURN(bool applied, find_batch_.Step());
    if (applied) {
      out.replayed = true;
      out.inserted = static_cast<uint64_t>(find_batch_.ColumnInt64(0));
      out.updated = static_cast<uint64_t>(find_batch_.ColumnInt64(1));
      out.unchanged = static_cast<uint64_t>(find_batch_.ColumnInt64(2));
      out.actions = std::string(find_batch_.ColumnText(3));
      SLUICE_RETURN_IF_ERROR(find_batch_.Reset());
      for (size_t begin = 0; begin < records.size(); begin += kKeysPerLookup) {
        const size_t end = std::min(records.size(), begin + kKeysPerLookup);
        SLUICE_RETURN_IF_ERROR(LookupRange(st, entity.name, records, begin, end));
        for (const XrefEntry& e : entries_) out.target_ids.push_back(e.target_id);
      }
      SLUICE_RETURN_IF_ERROR(tx.Commit());
      return out;
    }
    SLUICE_RETURN_IF_ERROR(find_batch_.Reset());

    SLUICE_RETURN_IF_ERROR(st->max_id.Reset());
    SLUICE_ASSIGN_OR_RETURN(bool has_max, st->max_id.Step());
    st->next_id = (has_max ? st->max_id.ColumnInt64(0) : 0) + 1;
    const int64_t first_new_id = st->next_id;
    SLUICE_RETURN_IF_ERROR(st->max_id.Reset());

    const std::vector<bool> repeated = KeysWrittenBefore(batch);
    const size_t n = st->schema.fields.size();
    for (size_t begin = 0; begin < records.size(); begin += kKeysPerLookup) {
      const size_t end = std::min(records.size(), begin + kKeysPerLookup);
      SLUICE_RETURN_IF_ERROR(LookupRange(st, entity.name, records, begin, end));
      for (size_t i = begin; i < end; ++i) {
        const Record& r = records[i];
        if (r.values.size() != n) {
          return Status::InvalidArgument("has " + std::to_string(r.values.size()) +
                                         " values, expected " + std::to_string(n))
              .WithContext("record " + RecordName(r));
        }
        XrefEntry e = entries_[i - begin];
        if (!repeated.empty() && repeated[i]) {
          // Its entry is among this batch's writes: make them, then read it.
          SLUICE_RETURN_IF_ERROR(FlushRows(st, batch));
          SLUICE_RETURN_IF_ERROR(FlushXref(st, entity.name, run_id));
          SLUICE_ASSIGN_OR_RETURN(e, Lookup(st, entity.name, r.source, r.key));
        }
        int64_t target_id = e.target_id;
        // A key that was merged into a survivor in an earlier run and now
        // arrives on its own gets its own row: never overwrite the survivor.
        if (!e.found || e.merged) {
          target_id = st->next_id++;
          pending_rows_.emplace_back(i, target_id);
          pending_xref_.push_back({r.source, r.key, target_id, r.content_hash, "loaded", e.found});
          ++out.inserted;
          out.actions.push_back(LoadOutcome::kInserted);
        } else if (e.hash == r.content_hash) {
          ++out.unchanged;
          out.actions.push_back(LoadOutcome::kUnchanged);
        } else {
          // An entry left pointing past the last row (its row was removed)
          // names a row this batch inserts: write that row first.
          if (target_id >= first_new_id) SLUICE_RETURN_IF_ERROR(FlushRows(st, batch));
          Statement& save = st->save_row;
          SLUICE_RETURN_IF_ERROR(save.Reset());
          SLUICE_RETURN_IF_ERROR(save.BindView(1, run_id));
          SLUICE_RETURN_IF_ERROR(save.BindView(2, entity.name));
          SLUICE_RETURN_IF_ERROR(save.Bind(3, target_id));
          SLUICE_RETURN_IF_ERROR(save.Run());
          Statement& u = st->update_row;
          SLUICE_RETURN_IF_ERROR(u.Reset());
          ReserveScratch(st->schema, 1);
          SLUICE_RETURN_IF_ERROR(BindValues(st->schema, r, &u, 1, 0));
          SLUICE_RETURN_IF_ERROR(u.Bind(static_cast<int>(n + 1), target_id));
          Status updated = u.Run();
          if (!updated.ok()) return updated.WithContext("record " + RecordName(r));
          pending_xref_.push_back({r.source, r.key, target_id, r.content_hash, "loaded", true});
          ++out.updated;
          out.actions.push_back(LoadOutcome::kUpdated);
        }
        out.target_ids.push_back(target_id);
        for (const SourceKey& m : r.merged) {
          pending_xref_.push_back({m.source, m.key, target_id, 0, "merged", true});
        }
        if (pending_rows_.size() >= st->rows_per_insert) {
          SLUICE_RETURN_IF_ERROR(FlushRows(st, batch));
        }
        if (pending_xref_.size() >= st->entries_per_upsert) {
          SLUICE_RETURN_IF_ERROR(FlushXref(st, entity.name, run_id));
        }
      }
    }
    SLUICE_RETURN_IF_ERROR(FlushRows(st, batch));
    SLUICE_RETURN_IF_ERROR(FlushXref(st, entity.name, run_id));
    // The batch's new rows are the ids first_new_id..next_id - 1.
    if (st->next_id > first_new_id) {
      SLUICE_RETURN_IF_ERROR(
          AddRollback(run_id, entity.name, first_new_id, st->next_id - 1, "insert", {}));
    }
    SLUICE_RETURN_IF_ERROR(AddRollback(run_id, entity.name, 0, 0, "batch", name));

    SLUICE_RETURN_IF_ERROR(insert_batch_.Reset());
    SLUICE_RETURN_IF_ERROR(insert_batch_.BindView(1, run_id));
    SLUICE_RETURN_IF_ERROR(insert_batch_.BindView(2, name));
    SLUICE_RETURN_IF_ERROR(insert_batch_.Bind(3, static_cast<int64_t>(out.inserted)));
    SLUICE_RETURN_IF_ERROR(insert_batch_.Bind(4, static_cast<int64_t>(out.updated)));
    SLUICE_RETURN_IF_ERROR(insert_batch_.Bind(5, static_cast<int64_t>(out.unchanged)));
    SLUICE_RETURN_IF_ERROR(insert_batch_.BindView(6, out.actions));
    SLUICE_RETURN_IF_ERROR(insert_batch_.Run());
    SLUICE_RETURN_IF_ERROR(tx.Commit());
    return out;
  }

  // Replays the run's rollback rows of the entity in reverse order.
  Status RollbackRun(const std::string& run_id, const Entity& entity) {
    SLUICE_RETURN_IF_ERROR(PrepareEntity(entity));
    EntityStatements* st = entities_[entity.name].get();
    const std::string table = QuoteIdentifier(entity.name);
    SLUICE_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
    struct Step {
      int64_t target_id;
      int64_t last_id;
      std::string op;
      std::string before;
    };
    std::vector<Step> steps;
    {
      SLUICE_ASSIGN_OR_RETURN(
          Statement q, db_->Prepare("SELECT target_id, last_id, op, before FROM sluice_rollback"
                                    " WHERE run_id = ?1 AND entity = ?2 ORDER BY seq DESC"));
      SLUICE_RETURN_IF_ERROR(q.BindView(1, run_id));
      SLUICE_RETURN_IF_ERROR(q.BindView(2, entity.name));
      while (true) {
        SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        steps.push_back({q.ColumnInt64(0), q.ColumnInt64(1), std::string(q.ColumnText(2)),
                         std::string(q.ColumnText(3))});
      }
    }
    if (steps.empty()) return tx.Commit();
    SLUICE_ASSIGN_OR_RETURN(
        Statement delete_rows,
        db_->Prepare("DELETE FROM " + table + " WHERE sluice_id BETWEEN ?1 AND ?2"));
    SLUICE_ASSIGN_OR_RETURN(
        Statement delete_entry,
        db_->Prepare(
            "DELETE FROM sluice_xref WHERE entity = ?1"
            " AND source = json_extract(?2, '$.source') AND key = json_extract(?2, '$.key')"));
    SLUICE_ASSIGN_OR_RETURN(
        Statement restore_entry,
        db_->Prepare("INSERT OR REPLACE INTO sluice_xref(entity, source, key, target_id,"
                     " content_hash, kind, run_id) VALUES(?1, json_extract(?2, '$.source'),"
                     " json_extract(?2, '$.key'), json_extract(?2, '$.target_id'),"
                     " json_extract(?2, '$.content_hash'), json_extract(?2, '$.kind'),"
                     " json_extract(?2, '$.run_id'))"));
    SLUICE_ASSIGN_OR_RETURN(Statement delete_batch,
                            db_->Prepare("DELETE FROM sluice_batches WHERE run_id = ?1"
                                         " AND batch = ?2"));
    for (const Step& s : steps) {
      if (s.op == "insert") {
        SLUICE_RETURN_IF_ERROR(delete_rows.Reset());
        SLUICE_RETURN_IF_ERROR(delete_rows.Bind(1, s.target_id));
        SLUICE_RETURN_IF_ERROR(delete_rows.Bind(2, s.last_id));
        SLUICE_RETURN_IF_ERROR(delete_rows.Run());
      } else if (s.op == "update") {
        Statement& u = st->restore_row;
        SLUICE_RETURN_IF_ERROR(u.Reset());
        SLUICE_RETURN_IF_ERROR(u.BindView(1, s.before));
        SLUICE_RETURN_IF_ERROR(u.Bind(2, s.target_id));
        SLUICE_RETURN_IF_ERROR(u.Run());
      } else if (s.op == "xref_update" || s.op == "xref_insert") {
        Statement& x = s.op == "xref_update" ? restore_entry : delete_entry;
        SLUICE_RETURN_IF_ERROR(x.Reset());
        SLUICE_RETURN_IF_ERROR(x.BindView(1, entity.name));
        SLUICE_RETURN_IF_ERROR(x.BindView(2, s.before));
        SLUICE_RETURN_IF_ERROR(x.Run());
      } else if (s.op == "batch") {
        SLUICE_RETURN_IF_ERROR(delete_batch.Reset());
        SLUICE_RETURN_IF_ERROR(delete_batch.BindView(1, run_id));
        SLUICE_RETURN_IF_ERROR(delete_batch.BindView(2, s.before));
        SLUICE_RETURN_IF_ERROR(delete_batch.Run());
      } else {
        return Status::Corruption("sluice_rollback: unknown op '" + s.op + "'");
      }
    }
    // Entries still naming the run were written by it and had no entry
    // before it (the new keys of the rows it inserted: Load saves no image
    // of those); every entry it changed is back at its earlier state.
    SLUICE_ASSIGN_OR_RETURN(
        Statement new_entries,
        db_->Prepare("DELETE FROM sluice_xref WHERE entity = ?1 AND run_id = ?2"));
    SLUICE_RETURN_IF_ERROR(new_entries.BindView(1, entity.name));
    SLUICE_RETURN_IF_ERROR(new_entries.BindView(2, run_id));
    SLUICE_RETURN_IF_ERROR(new_entries.Run());
    SLUICE_ASSIGN_OR_RETURN(
        Statement done,
        db_->Prepare("DELETE FROM sluice_rollback WHERE run_id = ?1 AND entity = ?2"));
    SLUICE_RETURN_IF_ERROR(done.BindView(1, run_id));
    SLUICE_RETURN_IF_ERROR(done.BindView(2, entity.name));
    SLUICE_RETURN_IF_ERROR(done.Run());
    return tx.Commit();
  }

  Status Scan(const Entity& entity, const std::function<void(const TargetRow&)>& fn) {
    SLUICE_RETURN_IF_ERROR(PrepareEntity(entity));
    const Schema schema = entity.ToSchema();
    std::string sql = "SELECT x.source, x.key, x.target_id, x.content_hash, x.kind, t.sluice_id";
    for (const auto& f : schema.fields) sql += ", t." + QuoteIdentifier(f.name);
    sql += " FROM sluice_xref x LEFT JOIN " + QuoteIdentifier(entity.name) +
           " t ON t.sluice_id = x.target_id WHERE x.entity = ?1 ORDER BY x.source, x.key";
    SLUICE_ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
    SLUICE_RETURN_IF_ERROR(s.Bind(1, entity.name));
    TargetRow row;
    constexpr int kFirstValue = 6;
    sqlite3_stmt* raw = s.raw();
    auto cell = [raw](int col) { return sqlite3_column_value(raw, col); };
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool more, s.Step());
      if (!more) break;
      row.source.assign(CellText(cell(0)));
      row.key.assign(CellText(cell(1)));
      row.target_id = sqlite3_value_int64(cell(2));
      row.recorded_hash = std::bit_cast<uint64_t>(sqlite3_value_int64(cell(3)));
      row.merged = CellText(cell(4)) == "merged";
      // A missing target row (a dangling entry) comes back with no values.
      // The values are overwritten in place: their strings keep their
      // buffers from one row to the next.
      if (sqlite3_value_type(cell(5)) == SQLITE_NULL) {
        row.values.clear();
      } else {
        row.values.resize(schema.fields.size());
        for (size_t i = 0; i < schema.fields.size(); ++i) {
          const FieldSpec& f = schema.fields[i];
          sqlite3_value* value = cell(kFirstValue + static_cast<int>(i));
          Value& v = row.values[i];
          const int type = sqlite3_value_type(value);
          v.is_null = type == SQLITE_NULL;
          v.i = 0;
          v.s.clear();
          if (v.is_null) continue;
          if ((f.type == FieldType::kInt || f.type == FieldType::kBool) && type == SQLITE_INTEGER) {
            v.i = sqlite3_value_int64(value);
            continue;
          }
          const std::string_view text = CellText(value);
          if (IsIntegral(f.type)) {
            auto parsed = ParseCanonical(f, text);
            if (!parsed.ok()) {
              return Status::Corruption("row " + std::to_string(row.target_id) + " field '" +
                                        f.name + "': cannot read '" + std::string(text) +
                                        "': " + parsed.status().message());
            }
            v.is_null = parsed->is_null;
            v.i = parsed->i;
            v.s.assign(parsed->s);
          } else {
            v.s.assign(text);
          }
        }
      }
      fn(row);
    }
    return Status::Ok();
  }

  TargetSpec spec_;
  std::unique_ptr<SqliteDb> db_;
  Statement find_batch_;
  Statement insert_batch_;
  Statement insert_rollback_;  // one rollback row: ?1 run ... ?6 before
  Statement save_xref_;        // before-image of an xref entry about to change
  Statement save_new_xref_;    // notes a merged key that had no entry
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

}  // namespace

Result<std::unique_ptr<Target>> OpenSqliteTarget(const TargetSpec& spec) {
  if (spec.path.empty()) return Status::InvalidArgument(spec.yaml_path + ".path: required");
  std::filesystem::path parent = std::filesystem::path(spec.path).parent_path();
  if (!parent.empty() && spec.path != ":memory:") {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return Status::IoError(spec.yaml_path + ".path: cannot create " + parent.string() + ": " +
                             ec.message());
    }
  }
  auto db = SqliteDb::Open(spec.path);
  if (!db.ok()) return db.status().WithContext(spec.yaml_path + ".path");
  auto target = std::make_unique<SqliteTarget>(spec, std::move(db).value());
  Status st = target->Init();
  if (!st.ok()) return st.WithContext(spec.yaml_path + ": " + spec.path);
  return std::unique_ptr<Target>(std::move(target));
}

}  // namespace sluice
