// LOADED fates by the pack (issue 20): a loader commit's loaded records are
// stored as one `loaded_packs` row (what the reconciler's feed reads, in one
// blob) and one narrow `loaded_keys` row each (what `sluice trace` and the
// key lookups read), instead of a full `fates` row with its three indexes.
// The view `all_fates` shows both as the one table of fates it used to be.
#include "common/audit/audit_store.h"
#include "common/audit/loaded_pack.h"

namespace sluice {
namespace {

constexpr const char* kLoadedSchema = R"sql(
CREATE TABLE IF NOT EXISTS loaded_packs(
  pack INTEGER PRIMARY KEY, run_id TEXT, wave INTEGER, entity TEXT, batch TEXT,
  after_fate INTEGER, fates INTEGER, digests BLOB);
CREATE INDEX IF NOT EXISTS loaded_packs_by_run ON loaded_packs(run_id, wave, entity);
CREATE TABLE IF NOT EXISTS loaded_keys(
  entity TEXT, source TEXT, key TEXT, pack INTEGER, ord INTEGER, rule TEXT, value TEXT,
  line INTEGER, target_id INTEGER, content_hash INTEGER,
  PRIMARY KEY(entity, source, key, pack, ord)) WITHOUT ROWID;
)sql";

// Every fate, packed or not, with the columns of `fates` in their order and
// a position: `seq` orders a run's fates as they were recorded (a pack
// after the rows recorded before it), `ord` a pack's fates among themselves.
constexpr const char* kAllFatesColumns =
    "run_id, wave, entity, source, key, kind, stage, rule, field, value, reason, suggestion,"
    " line, survivor_source, survivor_key, target_id, content_hash, batch, loaded_values,"
    " 2 * rowid AS seq, 0 AS ord FROM fates";
constexpr const char* kAllFatesPacked =
    " UNION ALL SELECT p.run_id, p.wave, k.entity, k.source, k.key, 'loaded', 'load', k.rule,"
    " '', k.value, '', '', k.line, '', '', k.target_id, k.content_hash, p.batch, NULL,"
    " 2 * p.after_fate + 1, k.ord FROM loaded_keys AS k JOIN loaded_packs AS p"
    " ON p.pack = k.pack";

}  // namespace

Status AuditStore::InitLoaded() {
  SLUICE_RETURN_IF_ERROR(db_->Exec(kLoadedSchema));
  SLUICE_RETURN_IF_ERROR(db_->Exec(std::string("CREATE VIEW IF NOT EXISTS all_fates AS SELECT ") +
                                   kAllFatesColumns + kAllFatesPacked + ";"));
  SLUICE_ASSIGN_OR_RETURN(insert_pack_, db_->Prepare("INSERT INTO loaded_packs VALUES(NULL,?,?,?,?,"
                                                     "(SELECT max(rowid) FROM fates),?,?)"));
  SLUICE_ASSIGN_OR_RETURN(insert_loaded_key_,
                          db_->Prepare("INSERT INTO loaded_keys VALUES(?,?,?,?,?,?,?,?,?,?)"));
  return Status::Ok();
}

Status AuditStore::InitLoadedReadOnly() {
  // A store written before packs has no loaded_packs: its view is `fates`
  // alone, made in the connection's temporary schema (the file is read-only).
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("SELECT 1 FROM sqlite_master WHERE name='loaded_packs'"));
  SLUICE_ASSIGN_OR_RETURN(packed_, st.Step());
  if (packed_) return Status::Ok();
  return db_->Exec(std::string("CREATE TEMP VIEW all_fates AS SELECT ") + kAllFatesColumns + ";");
}

Status AuditStore::RecordLoadedPack(const std::string& run_id, int wave, const v1::Commit& c,
                                    const std::string& batch) {
  // The commit's plain LOADED fates: those among its fate messages (an
  // older loader's), then those it carries packed (loaded_fates). Sized
  // first: a pack of 4,000 records with their values is about 1 MB, and
  // grown by doubling it is copied again at each step (filling packs was
  // 8.7% of the coordinator's samples in a 200k profile). A wire fate takes
  // at least as many bytes as its pack form (it also holds rule, value, line).
  size_t bytes = c.loaded_fates().size();
  for (const auto& f : c.fates()) {
    if (IsPackedLoad(f))
      bytes += LoadedPackWriter::MaxBytes({f.source(), f.key(), 0, 0, f.loaded_values()});
  }
  LoadedPackWriter pack;
  pack.Reserve(bytes);
  for (const auto& f : c.fates()) {
    if (!IsPackedLoad(f)) continue;
    pack.Add({f.source(), f.key(), f.target_id(), f.content_hash(), f.loaded_values()});
  }
  if (!ForEachWireLoad(c, [&](const WireLoad& w) { pack.Add(w.load); })) {
    return Status::Corruption("audit store: the packed LOADED fates of " + batch + " are damaged");
  }
  if (pack.fates() == 0) return Status::Ok();
  Statement& p = insert_pack_;
  SLUICE_RETURN_IF_ERROR(p.Reset());
  SLUICE_RETURN_IF_ERROR(p.BindView(1, run_id));
  SLUICE_RETURN_IF_ERROR(p.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(p.BindView(3, c.batch().entity()));
  SLUICE_RETURN_IF_ERROR(p.BindView(4, batch));
  SLUICE_RETURN_IF_ERROR(p.Bind(5, static_cast<int64_t>(pack.fates())));
  SLUICE_RETURN_IF_ERROR(p.BindBlobView(6, pack.bytes()));
  SLUICE_RETURN_IF_ERROR(p.Run());
  const int64_t id = db_->LastInsertRowid();
  Statement& k = insert_loaded_key_;
  int64_t ord = 0;
  auto key_row = [&](std::string_view source, std::string_view key, std::string_view rule,
                     std::string_view value, uint64_t line, int64_t target_id,
                     uint64_t content_hash) -> Status {
    SLUICE_RETURN_IF_ERROR(k.Reset());
    SLUICE_RETURN_IF_ERROR(k.BindView(1, c.batch().entity()));
    SLUICE_RETURN_IF_ERROR(k.BindView(2, source));
    SLUICE_RETURN_IF_ERROR(k.BindView(3, key));
    SLUICE_RETURN_IF_ERROR(k.Bind(4, id));
    SLUICE_RETURN_IF_ERROR(k.Bind(5, ord++));
    SLUICE_RETURN_IF_ERROR(k.BindView(6, rule));
    SLUICE_RETURN_IF_ERROR(k.BindView(7, value));
    SLUICE_RETURN_IF_ERROR(k.Bind(8, static_cast<int64_t>(line)));
    SLUICE_RETURN_IF_ERROR(k.Bind(9, target_id));
    SLUICE_RETURN_IF_ERROR(k.Bind(10, static_cast<int64_t>(content_hash)));
    return k.Run();
  };
  for (const auto& f : c.fates()) {
    if (!IsPackedLoad(f)) continue;
    SLUICE_RETURN_IF_ERROR(key_row(f.source(), f.key(), f.rule(), f.value(), f.line(),
                                   f.target_id(), f.content_hash()));
  }
  Status st = Status::Ok();
  ForEachWireLoad(c, [&](const WireLoad& w) {
    if (!st.ok()) return;
    st = key_row(w.load.source, w.load.key, w.rule, w.value, w.line, w.load.target_id,
                 w.load.content_hash);
  });
  return st;
}

Status AuditStore::ForgetLoadedPacks(std::string_view where,
                                     const std::function<Status(Statement&)>& bind) {
  SLUICE_ASSIGN_OR_RETURN(
      auto packs,
      db_->Prepare("SELECT pack, entity, digests FROM loaded_packs WHERE " + std::string(where)));
  SLUICE_RETURN_IF_ERROR(bind(packs));
  SLUICE_ASSIGN_OR_RETURN(auto forget,
                          db_->Prepare("DELETE FROM loaded_keys WHERE entity=? AND source=? AND"
                                       " key=? AND pack=? AND ord=?"));
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool row, packs.Step());
    if (!row) break;
    const int64_t id = packs.ColumnInt64(0);
    const std::string entity(packs.ColumnText(1));
    const void* data = sqlite3_column_blob(packs.raw(), 2);
    LoadedPackReader reader(
        std::string_view(static_cast<const char*>(data), sqlite3_column_bytes(packs.raw(), 2)));
    PackedLoad load;
    for (int64_t ord = 0; reader.Next(&load); ++ord) {
      SLUICE_RETURN_IF_ERROR(forget.Reset());
      SLUICE_RETURN_IF_ERROR(forget.Bind(1, entity));
      SLUICE_RETURN_IF_ERROR(forget.Bind(2, load.source));
      SLUICE_RETURN_IF_ERROR(forget.Bind(3, load.key));
      SLUICE_RETURN_IF_ERROR(forget.Bind(4, id));
      SLUICE_RETURN_IF_ERROR(forget.Bind(5, ord));
      SLUICE_RETURN_IF_ERROR(forget.Run());
    }
    if (reader.corrupt()) {
      return Status::Corruption("audit store: loaded pack " + std::to_string(id) + " is damaged");
    }
  }
  SLUICE_ASSIGN_OR_RETURN(auto drop,
                          db_->Prepare("DELETE FROM loaded_packs WHERE " + std::string(where)));
  SLUICE_RETURN_IF_ERROR(bind(drop));
  return drop.Run();
}

Result<int64_t> AuditStore::ForEachLoadedSummaryAfter(
    const std::string& run_id, int wave, const std::string& entity, int64_t after, size_t limit,
    size_t* rows, const std::function<void(const FateSummary&)>& fn, const PackFn* whole) {
  // Whole packs, until `limit` fates are reached: a page may hold up to one
  // pack more than `limit`.
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("SELECT pack, digests, fates FROM loaded_packs WHERE"
                                       " run_id=? AND wave=? AND entity=? AND pack>?"
                                       " ORDER BY pack"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, entity));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, after));
  FateSummary f;
  f.kind = "loaded";
  while (*rows < limit) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    after = st.ColumnInt64(0);
    const void* data = sqlite3_column_blob(st.raw(), 1);
    const std::string_view bytes(static_cast<const char*>(data), sqlite3_column_bytes(st.raw(), 1));
    if (whole != nullptr) {
      SLUICE_RETURN_IF_ERROR((*whole)(bytes));
      *rows += static_cast<size_t>(st.ColumnInt64(2));
      continue;
    }
    LoadedPackReader reader(bytes);
    PackedLoad load;
    while (reader.Next(&load)) {
      f.source = load.source;
      f.key = load.key;
      f.target_id = load.target_id;
      f.content_hash = load.content_hash;
      f.loaded_values = load.loaded_values;
      fn(f);
      ++*rows;
    }
    if (reader.corrupt()) {
      return Status::Corruption("audit store: loaded pack " + std::to_string(after) +
                                " is damaged");
    }
  }
  return after;
}

}  // namespace sluice
