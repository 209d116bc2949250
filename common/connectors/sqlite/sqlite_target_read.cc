#include <sys/mman.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>

#include "common/connectors/sqlite/sqlite_target_impl.h"

namespace sluice::sqlite_target {
namespace {

// Rows a scan reads between two ReleaseMappedPages.
constexpr uint64_t kRowsPerRelease = 16384;

// Gives back this process's pages of the memory map SQLite keeps of the
// database file `path` (MAP_SHARED, read-only): they stay in the kernel's
// page cache and fault back in without a read if touched again, but a scan
// of the whole target no longer keeps every page of it in the scanning
// process's resident set (issue 20 item 3: 950 MiB of a 4M-row target in
// the reconciler, as CsvText::Release does for the extractor's CSV).
void ReleaseMappedPages(std::string_view path) {
  if (path.empty()) return;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.size() <= path.size() ||
        line.compare(line.size() - path.size(), path.size(), path) != 0 ||
        line[line.size() - path.size() - 1] != ' ') {
      continue;
    }
    uintptr_t begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &begin, &end) != 2) continue;
    madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  }
}

// Runs `q` (?1 the entity, ?2 a key's source, ?3 the key) for each of `keys`,
// calling `found(key)` on its row where it gives one.
template <typename Found>
Status ForEachKeyFound(Statement& q, const std::string& entity, const std::vector<SourceKey>& keys,
                       Found found) {
  for (const SourceKey& k : keys) {
    SLUICE_RETURN_IF_ERROR(q.Reset());  // clears the bindings too
    SLUICE_RETURN_IF_ERROR(q.BindView(1, entity));
    SLUICE_RETURN_IF_ERROR(q.BindView(2, k.source));
    SLUICE_RETURN_IF_ERROR(q.BindView(3, k.key));
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) SLUICE_RETURN_IF_ERROR(found(k));
  }
  return Status::Ok();
}

}  // namespace

Status SqliteTarget::RollbackRun(const std::string& run_id, const Entity& entity) {
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
    } else if (s.op == "delete") {
      // A row retired by the run (its record merged): it comes back.
      Statement& r = st->reinsert_row;
      SLUICE_RETURN_IF_ERROR(r.Reset());
      SLUICE_RETURN_IF_ERROR(r.BindView(1, s.before));
      SLUICE_RETURN_IF_ERROR(r.Bind(2, s.target_id));
      SLUICE_RETURN_IF_ERROR(r.Run());
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

Result<Statement> SqliteTarget::PrepareScan(const Entity& entity, const std::string& more) {
  std::string sql = "SELECT x.source, x.key, x.target_id, x.content_hash, x.kind, t.sluice_id";
  for (const auto& f : entity.fields) sql += ", t." + QuoteIdentifier(f.name);
  sql += " FROM sluice_xref x LEFT JOIN " + QuoteIdentifier(entity.name) +
         " t ON t.sluice_id = x.target_id WHERE x.entity = ?1" + more;
  SLUICE_ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
  SLUICE_RETURN_IF_ERROR(s.Bind(1, entity.name));
  return s;
}

Status SqliteTarget::ReadScanned(Statement& s, const Schema& schema, TargetRow* out) {
  constexpr int kFirstValue = 6;
  sqlite3_stmt* raw = s.raw();
  auto cell = [raw](int col) { return sqlite3_column_value(raw, col); };
  TargetRow& row = *out;
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
    return Status::Ok();
  }
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
        return Status::Corruption("row " + std::to_string(row.target_id) + " field '" + f.name +
                                  "': cannot read '" + std::string(text) +
                                  "': " + parsed.status().message());
      }
      v.is_null = parsed->is_null;
      v.i = parsed->i;
      v.s.assign(parsed->s);
    } else {
      v.s.assign(text);
    }
  }
  return Status::Ok();
}

Status SqliteTarget::Scan(const Entity& entity, const std::function<void(const TargetRow&)>& fn) {
  SLUICE_RETURN_IF_ERROR(PrepareEntity(entity));
  // The scan reads every row and entry of the entity, jumping from the
  // cross-reference to its row: through a memory map rather than a pread
  // and a copy per page (about a fifth of a reconciliation's CPU).
  SLUICE_RETURN_IF_ERROR(db_->Exec("PRAGMA mmap_size=4294967296;"));
  const Schema schema = entity.ToSchema();
  SLUICE_ASSIGN_OR_RETURN(Statement s, PrepareScan(entity, " ORDER BY x.source, x.key"));
  TargetRow row;
  const char* file = sqlite3_db_filename(db_->raw(), "main");
  const std::string path = file != nullptr ? file : "";
  uint64_t rows = 0;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool more, s.Step());
    if (!more) break;
    SLUICE_RETURN_IF_ERROR(ReadScanned(s, schema, &row));
    fn(row);
    if (++rows % kRowsPerRelease == 0) ReleaseMappedPages(path);
  }
  ReleaseMappedPages(path);
  return Status::Ok();
}

Status SqliteTarget::ScanRowsOfKeys(const Entity& entity, const std::vector<SourceKey>& keys,
                                    const std::function<void(const TargetRow&)>& fn) {
  SLUICE_RETURN_IF_ERROR(PrepareEntity(entity));
  if (keys.empty()) return Status::Ok();
  const Schema schema = entity.ToSchema();
  // One probe of the cross-reference's primary key per key, in the keys'
  // order: the rows come back in it without a sort.
  SLUICE_ASSIGN_OR_RETURN(Statement s, PrepareScan(entity, " AND x.source = ?2 AND x.key = ?3"));
  TargetRow row;
  return ForEachKeyFound(s, entity.name, keys, [&](const SourceKey&) {
    SLUICE_RETURN_IF_ERROR(ReadScanned(s, schema, &row));
    fn(row);
    return Status::Ok();
  });
}

Result<uint64_t> SqliteTarget::RowsAtMost(const Entity& entity) {
  SLUICE_RETURN_IF_ERROR(PrepareEntity(entity));
  // Rows have distinct ids from 1 (max_id hands out the next): the largest
  // bounds their count, read from the table's B-tree edge.
  Statement& max_id = entities_[entity.name]->max_id;
  SLUICE_RETURN_IF_ERROR(max_id.Reset());
  SLUICE_ASSIGN_OR_RETURN(bool row, max_id.Step());
  return row ? static_cast<uint64_t>(std::max<int64_t>(max_id.ColumnInt64(0), 0)) : 0;
}

Result<std::vector<TargetEntry>> SqliteTarget::LookupEntries(const Entity& entity,
                                                             const std::vector<SourceKey>& keys) {
  SLUICE_RETURN_IF_ERROR(PrepareEntity(entity));
  std::vector<TargetEntry> out;
  if (keys.empty()) return out;
  // One probe of the cross-reference's primary key per key: the survivor
  // check asks for a few keys of the table, never worth a scan.
  SLUICE_ASSIGN_OR_RETURN(Statement q,
                          db_->Prepare("SELECT x.target_id, x.kind, t.sluice_id IS NOT NULL"
                                       " FROM sluice_xref x LEFT JOIN " +
                                       QuoteIdentifier(entity.name) +
                                       " t ON t.sluice_id = x.target_id"
                                       " WHERE x.entity = ?1 AND x.source = ?2 AND x.key = ?3"));
  SLUICE_RETURN_IF_ERROR(ForEachKeyFound(q, entity.name, keys, [&](const SourceKey& k) {
    out.push_back(
        {k.source, k.key, q.ColumnInt64(0), q.ColumnText(1) == "merged", q.ColumnInt64(2) != 0});
    return Status::Ok();
  }));
  return out;
}

Result<uint64_t> SqliteTarget::CountRows(const Entity& entity) {
  SLUICE_RETURN_IF_ERROR(PrepareEntity(entity));
  // Counting reads every page of the table: through the page cache (bounded
  // by cache_size), not the memory map a scan set, whose pages would all
  // stay resident (issue 20 item 3: 850 MiB of a 4M-row target).
  SLUICE_RETURN_IF_ERROR(db_->Exec("PRAGMA mmap_size=0;"));
  SLUICE_ASSIGN_OR_RETURN(Statement count,
                          db_->Prepare("SELECT count(*) FROM " + QuoteIdentifier(entity.name)));
  SLUICE_ASSIGN_OR_RETURN(bool row, count.Step());
  return row ? static_cast<uint64_t>(count.ColumnInt64(0)) : 0;
}

}  // namespace sluice::sqlite_target
