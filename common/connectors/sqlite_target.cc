// The embedded default target: one SQLite file holding a table per entity,
// the id cross-reference and the record of applied batches.
//
// Every Load is one transaction: rows, cross-reference entries and the
// batch record commit together, so a replayed batch is recognised and a
// crash mid-batch leaves nothing behind.
#include "common/connectors/sqlite_target.h"

#include <bit>
#include <filesystem>
#include <map>

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

// Prepared statements of one entity, reused across batches.
struct EntityStatements {
  Schema schema;
  Statement lookup;       // xref entry of (entity, source, key)
  Statement insert_row;   // new target row with a given sluice_id
  Statement update_row;   // overwrite the row by sluice_id
  Statement upsert_xref;  // insert or repoint an xref entry
  Statement claim_xref;   // insert an xref entry unless the key has one
  Statement max_id;       // highest sluice_id in use
  // While most records of a batch are new, claiming the xref entry first
  // saves a lookup per record; once most exist, looking up first is cheaper.
  bool claim_first = true;
  int64_t next_id = 1;  // the next sluice_id, valid inside a Load transaction
};

class SqliteTarget : public Target {
 public:
  SqliteTarget(TargetSpec spec, std::unique_ptr<SqliteDb> db)
      : spec_(std::move(spec)), db_(std::move(db)) {}

  Status Init() {
    SLUICE_RETURN_IF_ERROR(db_->Exec(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
        "PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=16384;"
        "CREATE TABLE IF NOT EXISTS sluice_xref(entity TEXT, source TEXT, key TEXT,"
        " target_id INTEGER NOT NULL, content_hash INTEGER, kind TEXT NOT NULL, run_id TEXT,"
        " PRIMARY KEY(entity, source, key)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS sluice_batches(run_id TEXT, batch TEXT, inserted INTEGER,"
        " updated INTEGER, unchanged INTEGER, actions TEXT, PRIMARY KEY(run_id, batch));"));
    if (const char* x = getenv("SLUICE_EXP_PRAGMAS")) SLUICE_RETURN_IF_ERROR(db_->Exec(x));  // EXPERIMENT
    SLUICE_ASSIGN_OR_RETURN(find_batch_,
                            db_->Prepare("SELECT inserted, updated, unchanged, actions FROM sluice_batches"
                                         " WHERE run_id = ?1 AND batch = ?2"));
    SLUICE_ASSIGN_OR_RETURN(
        insert_batch_, db_->Prepare("INSERT INTO sluice_batches(run_id, batch, inserted, updated,"
                                    " unchanged, actions) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
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
    std::string cols, params, sets;
    for (size_t i = 0; i < entity.fields.size(); ++i) {
      std::string col = QuoteIdentifier(entity.fields[i].name);
      std::string param = "?" + std::to_string(i + 1);
      cols += (i ? ", " : "") + col;
      params += (i ? ", " : "") + param;
      sets += (i ? ", " : "") + col + " = " + param;
    }
    std::string id_param = "?" + std::to_string(entity.fields.size() + 1);
    SLUICE_ASSIGN_OR_RETURN(st->lookup,
                            db_->Prepare("SELECT target_id, content_hash, kind FROM sluice_xref"
                                         " WHERE entity = ?1 AND source = ?2 AND key = ?3"));
    const std::string sep = entity.fields.empty() ? "" : ", ";
    SLUICE_ASSIGN_OR_RETURN(st->insert_row,
                            db_->Prepare("INSERT INTO " + table + "(" + cols + sep +
                                         "sluice_id) VALUES(" + params + sep + id_param + ")"));
    SLUICE_ASSIGN_OR_RETURN(
        st->update_row, db_->Prepare(entity.fields.empty() ? "SELECT " + id_param
                                                           : "UPDATE " + table + " SET " + sets +
                                                                 " WHERE sluice_id = " + id_param));
    SLUICE_ASSIGN_OR_RETURN(st->max_id,
                            db_->Prepare("SELECT coalesce(max(sluice_id), 0) FROM " + table));
    SLUICE_ASSIGN_OR_RETURN(
        st->claim_xref,
        db_->Prepare("INSERT INTO sluice_xref(entity, source, key, target_id, content_hash, kind,"
                     " run_id) VALUES(?1, ?2, ?3, ?4, ?5, 'loaded', ?6)"
                     " ON CONFLICT(entity, source, key) DO NOTHING"));
    SLUICE_ASSIGN_OR_RETURN(
        st->upsert_xref,
        db_->Prepare("INSERT INTO sluice_xref(entity, source, key, target_id, content_hash, kind,"
                     " run_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                     " ON CONFLICT(entity, source, key) DO UPDATE SET"
                     " target_id = excluded.target_id, content_hash = excluded.content_hash,"
                     " kind = excluded.kind, run_id = excluded.run_id"
                     " WHERE target_id IS NOT excluded.target_id"
                     " OR content_hash IS NOT excluded.content_hash OR kind IS NOT excluded.kind"));
    entities_[entity.name] = std::move(st);
    return Status::Ok();
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

  // Binds the record's values as parameters 1..n of `stmt`.
  Status BindValues(const Schema& schema, const Record& r, Statement* stmt) {
    scratch_.resize(schema.fields.size());
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      const FieldSpec& f = schema.fields[i];
      const Value& v = r.values[i];
      int idx = static_cast<int>(i + 1);
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
        case FieldType::kTimestamp:
          scratch_[i] = *FormatValue(f, v);
          SLUICE_RETURN_IF_ERROR(stmt->BindView(idx, scratch_[i]));
          break;
        default:
          SLUICE_RETURN_IF_ERROR(stmt->BindView(idx, v.s));
          break;
      }
    }
    return Status::Ok();
  }

  Status UpsertXref(EntityStatements* st, const std::string& entity, const std::string& source,
                    const std::string& key, int64_t target_id, uint64_t hash, const char* kind,
                    const std::string& run_id) {
    Statement& s = st->upsert_xref;
    SLUICE_RETURN_IF_ERROR(s.Reset());
    SLUICE_RETURN_IF_ERROR(s.BindView(1, entity));
    SLUICE_RETURN_IF_ERROR(s.BindView(2, source));
    SLUICE_RETURN_IF_ERROR(s.BindView(3, key));
    SLUICE_RETURN_IF_ERROR(s.Bind(4, target_id));
    SLUICE_RETURN_IF_ERROR(s.Bind(5, std::bit_cast<int64_t>(hash)));
    SLUICE_RETURN_IF_ERROR(s.BindView(6, kind));
    SLUICE_RETURN_IF_ERROR(s.BindView(7, run_id));
    return s.Run();
  }

  struct XrefEntry {
    bool found = false;
    int64_t target_id = 0;
    uint64_t hash = 0;
    bool merged = false;
  };

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

  // Upserts one record and its merged keys (inside the batch transaction).
  Status LoadRecord(EntityStatements* st, const std::string& entity, const std::string& run_id,
                    const Record& r, LoadOutcome* out) {
    const size_t n = st->schema.fields.size();
    if (r.values.size() != n) {
      return Status::InvalidArgument("has " + std::to_string(r.values.size()) +
                                     " values, expected " + std::to_string(n));
    }
    if (st->claim_first) {
      Statement& c = st->claim_xref;
      SLUICE_RETURN_IF_ERROR(c.Reset());
      SLUICE_RETURN_IF_ERROR(c.BindView(1, entity));
      SLUICE_RETURN_IF_ERROR(c.BindView(2, r.source));
      SLUICE_RETURN_IF_ERROR(c.BindView(3, r.key));
      SLUICE_RETURN_IF_ERROR(c.Bind(4, st->next_id));
      SLUICE_RETURN_IF_ERROR(c.Bind(5, std::bit_cast<int64_t>(r.content_hash)));
      SLUICE_RETURN_IF_ERROR(c.BindView(6, run_id));
      SLUICE_RETURN_IF_ERROR(c.Run());
      if (db_->Changes() == 1) {  // a new key: its entry now points at next_id
        SLUICE_RETURN_IF_ERROR(InsertRow(st, r));
        ++out->inserted;
        out->actions.push_back(LoadOutcome::kInserted);
        return AddMerged(st, entity, run_id, r, st->next_id++, out);
      }
    }
    SLUICE_ASSIGN_OR_RETURN(XrefEntry e, Lookup(st, entity, r.source, r.key));
    int64_t target_id = e.target_id;
    // A key that was merged into a survivor in an earlier run and now
    // arrives on its own gets its own row: never overwrite the survivor.
    if (!e.found || e.merged) {
      SLUICE_RETURN_IF_ERROR(InsertRow(st, r));
      target_id = st->next_id++;
      SLUICE_RETURN_IF_ERROR(
          UpsertXref(st, entity, r.source, r.key, target_id, r.content_hash, "loaded", run_id));
      ++out->inserted;
      out->actions.push_back(LoadOutcome::kInserted);
    } else if (e.hash == r.content_hash) {
      ++out->unchanged;
      out->actions.push_back(LoadOutcome::kUnchanged);
    } else {
      SLUICE_RETURN_IF_ERROR(st->update_row.Reset());
      SLUICE_RETURN_IF_ERROR(BindValues(st->schema, r, &st->update_row));
      SLUICE_RETURN_IF_ERROR(st->update_row.Bind(static_cast<int>(n + 1), target_id));
      SLUICE_RETURN_IF_ERROR(st->update_row.Run());
      SLUICE_RETURN_IF_ERROR(
          UpsertXref(st, entity, r.source, r.key, target_id, r.content_hash, "loaded", run_id));
      ++out->updated;
      out->actions.push_back(LoadOutcome::kUpdated);
    }
    return AddMerged(st, entity, run_id, r, target_id, out);
  }

  // Inserts the record's row with sluice_id = next_id.
  Status InsertRow(EntityStatements* st, const Record& r) {
    SLUICE_RETURN_IF_ERROR(st->insert_row.Reset());
    SLUICE_RETURN_IF_ERROR(BindValues(st->schema, r, &st->insert_row));
    SLUICE_RETURN_IF_ERROR(
        st->insert_row.Bind(static_cast<int>(st->schema.fields.size() + 1), st->next_id));
    return st->insert_row.Run();
  }

  // Records the record's target id and points its merged keys at it.
  Status AddMerged(EntityStatements* st, const std::string& entity, const std::string& run_id,
                   const Record& r, int64_t target_id, LoadOutcome* out) {
    out->target_ids.push_back(target_id);
    for (const SourceKey& m : r.merged) {
      SLUICE_RETURN_IF_ERROR(
          UpsertXref(st, entity, m.source, m.key, target_id, 0, "merged", run_id));
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
    LoadOutcome out;
    out.target_ids.reserve(batch.records.size());
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
      for (const Record& r : batch.records) {
        SLUICE_ASSIGN_OR_RETURN(XrefEntry e, Lookup(st, entity.name, r.source, r.key));
        out.target_ids.push_back(e.target_id);
      }
      SLUICE_RETURN_IF_ERROR(tx.Commit());
      return out;
    }
    SLUICE_RETURN_IF_ERROR(find_batch_.Reset());

    SLUICE_RETURN_IF_ERROR(st->max_id.Reset());
    SLUICE_ASSIGN_OR_RETURN(bool has_max, st->max_id.Step());
    st->next_id = (has_max ? st->max_id.ColumnInt64(0) : 0) + 1;
    SLUICE_RETURN_IF_ERROR(st->max_id.Reset());
    for (const Record& r : batch.records) {
      Status st_record = LoadRecord(st, entity.name, run_id, r, &out);
      if (!st_record.ok()) return st_record.WithContext("record " + r.source + "/" + r.key);
    }

    SLUICE_RETURN_IF_ERROR(insert_batch_.Reset());
    SLUICE_RETURN_IF_ERROR(insert_batch_.BindView(1, run_id));
    SLUICE_RETURN_IF_ERROR(insert_batch_.BindView(2, name));
    SLUICE_RETURN_IF_ERROR(insert_batch_.Bind(3, static_cast<int64_t>(out.inserted)));
    SLUICE_RETURN_IF_ERROR(insert_batch_.Bind(4, static_cast<int64_t>(out.updated)));
    SLUICE_RETURN_IF_ERROR(insert_batch_.Bind(5, static_cast<int64_t>(out.unchanged)));
    SLUICE_RETURN_IF_ERROR(insert_batch_.BindView(6, out.actions));
    SLUICE_RETURN_IF_ERROR(insert_batch_.Run());
    SLUICE_RETURN_IF_ERROR(tx.Commit());
    if (!batch.records.empty()) st->claim_first = out.inserted * 2 >= batch.records.size();
    return out;
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
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool more, s.Step());
      if (!more) break;
      row.source.assign(s.ColumnText(0));
      row.key.assign(s.ColumnText(1));
      row.target_id = s.ColumnInt64(2);
      row.recorded_hash = std::bit_cast<uint64_t>(s.ColumnInt64(3));
      row.merged = s.ColumnText(4) == "merged";
      row.values.clear();
      // A missing target row (a dangling entry) comes back with no values.
      if (!s.ColumnIsNull(5)) {
        for (size_t i = 0; i < schema.fields.size(); ++i) {
          const FieldSpec& f = schema.fields[i];
          int col = kFirstValue + static_cast<int>(i);
          if (s.ColumnIsNull(col)) {
            row.values.push_back(Value::Null());
          } else if ((f.type == FieldType::kInt || f.type == FieldType::kBool) &&
                     sqlite3_column_type(s.raw(), col) == SQLITE_INTEGER) {
            row.values.push_back(Value::Int(s.ColumnInt64(col)));
          } else if (IsIntegral(f.type)) {
            auto v = ParseCanonical(f, s.ColumnText(col));
            if (!v.ok()) {
              return Status::Corruption("row " + std::to_string(row.target_id) + " field '" +
                                        f.name + "': cannot read '" +
                                        std::string(s.ColumnText(col)) +
                                        "': " + v.status().message());
            }
            row.values.push_back(std::move(v).value());
          } else {
            row.values.push_back(Value::Str(std::string(s.ColumnText(col))));
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
  std::map<std::string, std::unique_ptr<EntityStatements>> entities_;
  std::vector<std::string> scratch_;  // formatted values bound without copying
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
