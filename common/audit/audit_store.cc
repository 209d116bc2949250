#include "common/audit/audit_store.h"

#include <filesystem>

#include "common/audit/loaded_pack.h"
#include "common/core/record.h"
#include "common/core/stage.h"

namespace sluice {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs(
  run_id TEXT PRIMARY KEY, plan_name TEXT, plan_path TEXT, plan_hash TEXT, model_hash TEXT,
  environment TEXT, started_ms INTEGER, ended_ms INTEGER, status TEXT, halt_reason TEXT,
  summary_json TEXT);
CREATE TABLE IF NOT EXISTS batches(
  run_id TEXT, wave INTEGER, batch TEXT, stage TEXT, epoch INTEGER, entity TEXT, source TEXT,
  range_begin INTEGER, range_end INTEGER, first_line INTEGER,
  n_in INTEGER, n_out INTEGER, merged INTEGER, rejected INTEGER, review INTEGER,
  in_checksum INTEGER, out_checksum INTEGER,
  PRIMARY KEY(run_id, batch, stage));
CREATE TABLE IF NOT EXISTS fates(
  run_id TEXT, wave INTEGER, entity TEXT, source TEXT, key TEXT, kind TEXT, stage TEXT,
  rule TEXT, field TEXT, value TEXT, reason TEXT, suggestion TEXT, line INTEGER,
  survivor_source TEXT, survivor_key TEXT, target_id INTEGER, content_hash INTEGER, batch TEXT,
  loaded_values BLOB);
CREATE INDEX IF NOT EXISTS fates_by_key ON fates(entity, source, key);
CREATE INDEX IF NOT EXISTS fates_by_run ON fates(run_id, wave, entity);
-- The members merged into a key (SurvivorsAmong, per key deleted at its
-- source) without reading every fate of the entity (issue 18).
CREATE INDEX IF NOT EXISTS fates_by_survivor ON fates(entity, survivor_source, survivor_key)
  WHERE kind = 'merged';
CREATE TABLE IF NOT EXISTS ledger(
  run_id TEXT, wave INTEGER, entity TEXT, source TEXT, extracted INTEGER, merged INTEGER,
  rejected INTEGER, review INTEGER, loaded INTEGER, inserted INTEGER, updated INTEGER,
  unchanged INTEGER, extracted_checksum INTEGER, fate_checksum INTEGER,
  PRIMARY KEY(run_id, wave, entity, source));
CREATE TABLE IF NOT EXISTS decimal_sums(
  run_id TEXT, wave INTEGER, entity TEXT, field TEXT, units INTEGER,
  PRIMARY KEY(run_id, wave, entity, field));
)sql";

v1::FateKind FateKindFrom(std::string_view s) {
  if (s == "loaded") return v1::FATE_LOADED;
  if (s == "merged") return v1::FATE_MERGED;
  if (s == "rejected") return v1::FATE_REJECTED;
  if (s == "review") return v1::FATE_REVIEW;
  if (s == "warning") return v1::FATE_WARNING;
  if (s == "deleted_at_source") return v1::FATE_DELETED_AT_SOURCE;
  return v1::FATE_UNSPECIFIED;
}

int64_t AsInt(uint64_t u) { return static_cast<int64_t>(u); }

}  // namespace

Result<std::unique_ptr<AuditStore>> AuditStore::Open(const std::string& path, bool readonly) {
  if (!readonly) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  }
  SLUICE_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, readonly));
  std::unique_ptr<AuditStore> store(new AuditStore(std::move(db)));
  // Readers (the reconciler, the CLI) go through every fate of a run: read
  // the file through a memory map rather than a pread and copy per page.
  if (readonly) SLUICE_RETURN_IF_ERROR(store->db_->Exec("PRAGMA mmap_size=1073741824;"));
  if (readonly) SLUICE_RETURN_IF_ERROR(store->InitLoadedReadOnly());
  if (!readonly) SLUICE_RETURN_IF_ERROR(store->Init());
  return store;
}

Status AuditStore::Init() {
  // The coordinator writes a fate row per record: checkpoint the WAL every
  // 64 MiB rather than SQLite's 4 MB (the index pages being filled are then
  // copied into the file once, not at every checkpoint), and keep those
  // pages in a 32 MiB cache instead of re-reading them.
  SLUICE_RETURN_IF_ERROR(
      db_->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                " PRAGMA wal_autocheckpoint=16384; PRAGMA cache_size=-32768;"));
  SLUICE_RETURN_IF_ERROR(db_->Exec(kSchema));
  SLUICE_RETURN_IF_ERROR(InitReview());
  SLUICE_RETURN_IF_ERROR(InitLineage());
  SLUICE_RETURN_IF_ERROR(InitWaves());
  SLUICE_RETURN_IF_ERROR(InitMatches());
  SLUICE_RETURN_IF_ERROR(InitDedupFigures());
  SLUICE_RETURN_IF_ERROR(InitCoordinators());
  SLUICE_RETURN_IF_ERROR(InitRetired());
  SLUICE_RETURN_IF_ERROR(InitPins());
  SLUICE_RETURN_IF_ERROR(InitDifferences());
  SLUICE_RETURN_IF_ERROR(InitComparisons());
  SLUICE_RETURN_IF_ERROR(InitDelta());
  SLUICE_RETURN_IF_ERROR(InitLoaded());
  SLUICE_ASSIGN_OR_RETURN(
      insert_fate_,
      db_->Prepare("INSERT INTO fates VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  SLUICE_ASSIGN_OR_RETURN(
      insert_batch_,
      db_->Prepare("INSERT OR REPLACE INTO batches VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  return Status::Ok();
}

Status AuditStore::BeginRun(const RunRecord& r) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("INSERT OR REPLACE INTO runs VALUES(?,?,?,?,?,?,?,?,?,?,?)"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, r.run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, r.plan_name));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, r.plan_path));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, r.plan_hash));
  SLUICE_RETURN_IF_ERROR(st.Bind(5, r.model_hash));
  SLUICE_RETURN_IF_ERROR(st.Bind(6, r.environment));
  SLUICE_RETURN_IF_ERROR(st.Bind(7, r.started_ms));
  SLUICE_RETURN_IF_ERROR(st.Bind(8, r.ended_ms));
  SLUICE_RETURN_IF_ERROR(st.Bind(9, r.status));
  SLUICE_RETURN_IF_ERROR(st.Bind(10, r.halt_reason));
  SLUICE_RETURN_IF_ERROR(st.Bind(11, r.summary_json));
  return st.Run();
}

Status AuditStore::EndRun(const std::string& run_id, const std::string& status,
                          const std::string& halt_reason, const std::string& summary_json,
                          int64_t ended_ms) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st,
      db_->Prepare(
          "UPDATE runs SET status=?, halt_reason=?, summary_json=?, ended_ms=? WHERE run_id=?"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, status));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, halt_reason));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, summary_json));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, ended_ms));
  SLUICE_RETURN_IF_ERROR(st.Bind(5, run_id));
  return st.Run();
}

Status AuditStore::RecordCommit(const std::string& run_id, int wave, const v1::Commit& c) {
  SLUICE_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get()));
  std::string batch = BatchName(c.batch());
  Statement& b = insert_batch_;
  SLUICE_RETURN_IF_ERROR(b.Reset());
  SLUICE_RETURN_IF_ERROR(b.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(b.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(b.Bind(3, batch));
  SLUICE_RETURN_IF_ERROR(b.Bind(4, StageLabel(c)));  // a dedup shard's ingest: its own row
  SLUICE_RETURN_IF_ERROR(b.Bind(5, AsInt(c.epoch())));
  SLUICE_RETURN_IF_ERROR(b.Bind(6, c.batch().entity()));
  SLUICE_RETURN_IF_ERROR(b.Bind(7, c.batch().source()));
  SLUICE_RETURN_IF_ERROR(b.Bind(8, AsInt(c.range().begin_offset())));
  SLUICE_RETURN_IF_ERROR(b.Bind(9, AsInt(c.range().end_offset())));
  SLUICE_RETURN_IF_ERROR(b.Bind(10, AsInt(c.range().first_line())));
  const auto& n = c.counts();
  SLUICE_RETURN_IF_ERROR(b.Bind(11, AsInt(n.in())));
  SLUICE_RETURN_IF_ERROR(b.Bind(12, AsInt(n.out())));
  SLUICE_RETURN_IF_ERROR(b.Bind(13, AsInt(n.merged())));
  SLUICE_RETURN_IF_ERROR(b.Bind(14, AsInt(n.rejected())));
  SLUICE_RETURN_IF_ERROR(b.Bind(15, AsInt(n.review())));
  SLUICE_RETURN_IF_ERROR(b.Bind(16, AsInt(n.in_checksum())));
  SLUICE_RETURN_IF_ERROR(b.Bind(17, AsInt(n.out_checksum())));
  SLUICE_RETURN_IF_ERROR(b.Run());
  // One row per fate but the loaded ones, which go into a pack after them
  // (audit_loaded.cc): the strings that every row shares (run, entity,
  // batch) and the fate's own are bound without a copy, as they outlive the
  // statement's step.
  Statement& s = insert_fate_;
  for (const auto& f : c.fates()) {
    if (IsPackedLoad(f)) continue;
    SLUICE_RETURN_IF_ERROR(s.Reset());
    SLUICE_RETURN_IF_ERROR(s.BindView(1, run_id));
    SLUICE_RETURN_IF_ERROR(s.Bind(2, wave));
    SLUICE_RETURN_IF_ERROR(s.BindView(3, c.batch().entity()));
    SLUICE_RETURN_IF_ERROR(s.BindView(4, f.source()));
    SLUICE_RETURN_IF_ERROR(s.BindView(5, f.key()));
    SLUICE_RETURN_IF_ERROR(s.BindView(6, FateKindName(f.kind())));
    SLUICE_RETURN_IF_ERROR(s.BindView(7, f.stage()));
    SLUICE_RETURN_IF_ERROR(s.BindView(8, f.rule()));
    SLUICE_RETURN_IF_ERROR(s.BindView(9, f.field()));
    SLUICE_RETURN_IF_ERROR(s.BindView(10, f.value()));
    SLUICE_RETURN_IF_ERROR(s.BindView(11, f.reason()));
    SLUICE_RETURN_IF_ERROR(s.BindView(12, f.suggestion()));
    SLUICE_RETURN_IF_ERROR(s.Bind(13, AsInt(f.line())));
    SLUICE_RETURN_IF_ERROR(s.BindView(14, f.survivor_source()));
    SLUICE_RETURN_IF_ERROR(s.BindView(15, f.survivor_key()));
    SLUICE_RETURN_IF_ERROR(s.Bind(16, f.target_id()));
    SLUICE_RETURN_IF_ERROR(s.Bind(17, AsInt(f.content_hash())));
    SLUICE_RETURN_IF_ERROR(s.BindView(18, batch));
    SLUICE_RETURN_IF_ERROR(s.BindView(19, f.loaded_values()));
    SLUICE_RETURN_IF_ERROR(s.Run());
  }
  SLUICE_RETURN_IF_ERROR(RecordLoadedPack(run_id, wave, c, batch));
  SLUICE_RETURN_IF_ERROR(RecordReviewItems(run_id, wave, c));
  SLUICE_RETURN_IF_ERROR(RecordLineage(run_id, c));
  SLUICE_RETURN_IF_ERROR(RecordMatchDecisions(run_id, wave, c));
  return tx.Commit();
}

Status AuditStore::DeleteBatchFates(const std::string& run_id, const std::string& batch) {
  SLUICE_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get()));
  for (const char* sql : {"DELETE FROM fates WHERE run_id=? AND batch=?",
                          "DELETE FROM batches WHERE run_id=? AND batch=?"}) {
    SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare(sql));
    SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(st.Bind(2, batch));
    SLUICE_RETURN_IF_ERROR(st.Run());
  }
  SLUICE_RETURN_IF_ERROR(ForgetLoadedPacks("run_id=? AND batch=?", [&](Statement& st) {
    SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
    return st.Bind(2, batch);
  }));
  return tx.Commit();
}

Status AuditStore::WriteLedger(
    const std::vector<LedgerRow>& rows,
    const std::map<std::string, std::map<std::string, int64_t>>& decimal_sums) {
  SLUICE_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get()));
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("INSERT OR REPLACE INTO ledger VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  for (const auto& r : rows) {
    SLUICE_RETURN_IF_ERROR(st.Reset());
    SLUICE_RETURN_IF_ERROR(st.Bind(1, r.run_id));
    SLUICE_RETURN_IF_ERROR(st.Bind(2, r.wave));
    SLUICE_RETURN_IF_ERROR(st.Bind(3, r.entity));
    SLUICE_RETURN_IF_ERROR(st.Bind(4, r.source));
    SLUICE_RETURN_IF_ERROR(st.Bind(5, AsInt(r.extracted)));
    SLUICE_RETURN_IF_ERROR(st.Bind(6, AsInt(r.merged)));
    SLUICE_RETURN_IF_ERROR(st.Bind(7, AsInt(r.rejected)));
    SLUICE_RETURN_IF_ERROR(st.Bind(8, AsInt(r.review)));
    SLUICE_RETURN_IF_ERROR(st.Bind(9, AsInt(r.loaded)));
    SLUICE_RETURN_IF_ERROR(st.Bind(10, AsInt(r.inserted)));
    SLUICE_RETURN_IF_ERROR(st.Bind(11, AsInt(r.updated)));
    SLUICE_RETURN_IF_ERROR(st.Bind(12, AsInt(r.unchanged)));
    SLUICE_RETURN_IF_ERROR(st.Bind(13, AsInt(r.extracted_checksum)));
    SLUICE_RETURN_IF_ERROR(st.Bind(14, AsInt(r.fate_checksum)));
    SLUICE_RETURN_IF_ERROR(st.Run());
  }
  if (!rows.empty()) {
    SLUICE_ASSIGN_OR_RETURN(auto ds,
                            db_->Prepare("INSERT OR REPLACE INTO decimal_sums VALUES(?,?,?,?,?)"));
    for (const auto& [entity, fields] : decimal_sums) {
      for (const auto& [field, units] : fields) {
        SLUICE_RETURN_IF_ERROR(ds.Reset());
        SLUICE_RETURN_IF_ERROR(ds.Bind(1, rows.front().run_id));
        SLUICE_RETURN_IF_ERROR(ds.Bind(2, rows.front().wave));
        SLUICE_RETURN_IF_ERROR(ds.Bind(3, entity));
        SLUICE_RETURN_IF_ERROR(ds.Bind(4, field));
        SLUICE_RETURN_IF_ERROR(ds.Bind(5, units));
        SLUICE_RETURN_IF_ERROR(ds.Run());
      }
    }
  }
  return tx.Commit();
}

namespace {

RunRecord ReadRun(Statement& st) {
  RunRecord r;
  r.run_id = std::string(st.ColumnText(0));
  r.plan_name = std::string(st.ColumnText(1));
  r.plan_path = std::string(st.ColumnText(2));
  r.plan_hash = std::string(st.ColumnText(3));
  r.model_hash = std::string(st.ColumnText(4));
  r.environment = std::string(st.ColumnText(5));
  r.started_ms = st.ColumnInt64(6);
  r.ended_ms = st.ColumnInt64(7);
  r.status = std::string(st.ColumnText(8));
  r.halt_reason = std::string(st.ColumnText(9));
  r.summary_json = std::string(st.ColumnText(10));
  return r;
}

FateRow ReadFate(Statement& st) {
  FateRow row;
  row.run_id = std::string(st.ColumnText(0));
  row.wave = static_cast<int>(st.ColumnInt64(1));
  row.entity = std::string(st.ColumnText(2));
  auto& f = row.fate;
  f.set_source(std::string(st.ColumnText(3)));
  f.set_key(std::string(st.ColumnText(4)));
  f.set_kind(FateKindFrom(st.ColumnText(5)));
  f.set_stage(std::string(st.ColumnText(6)));
  f.set_rule(std::string(st.ColumnText(7)));
  f.set_field(std::string(st.ColumnText(8)));
  f.set_value(std::string(st.ColumnText(9)));
  f.set_reason(std::string(st.ColumnText(10)));
  f.set_suggestion(std::string(st.ColumnText(11)));
  f.set_line(static_cast<uint64_t>(st.ColumnInt64(12)));
  f.set_survivor_source(std::string(st.ColumnText(13)));
  f.set_survivor_key(std::string(st.ColumnText(14)));
  f.set_target_id(st.ColumnInt64(15));
  f.set_content_hash(static_cast<uint64_t>(st.ColumnInt64(16)));
  row.batch = std::string(st.ColumnText(17));
  return row;
}

}  // namespace

Result<std::vector<RunRecord>> AuditStore::Runs() {
  SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT * FROM runs ORDER BY started_ms"));
  std::vector<RunRecord> out;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(ReadRun(st));
  }
  return out;
}

Result<RunRecord> AuditStore::Run(const std::string& run_id) {
  SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT * FROM runs WHERE run_id=?"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::NotFound("no run " + run_id);
  return ReadRun(st);
}

Result<std::vector<LedgerRow>> AuditStore::Ledger(const std::string& run_id, int wave) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st,
      db_->Prepare("SELECT * FROM ledger WHERE run_id=? AND wave=? ORDER BY entity, source"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  std::vector<LedgerRow> out;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    LedgerRow r;
    r.run_id = std::string(st.ColumnText(0));
    r.wave = static_cast<int>(st.ColumnInt64(1));
    r.entity = std::string(st.ColumnText(2));
    r.source = std::string(st.ColumnText(3));
    r.extracted = st.ColumnInt64(4);
    r.merged = st.ColumnInt64(5);
    r.rejected = st.ColumnInt64(6);
    r.review = st.ColumnInt64(7);
    r.loaded = st.ColumnInt64(8);
    r.inserted = st.ColumnInt64(9);
    r.updated = st.ColumnInt64(10);
    r.unchanged = st.ColumnInt64(11);
    r.extracted_checksum = static_cast<uint64_t>(st.ColumnInt64(12));
    r.fate_checksum = static_cast<uint64_t>(st.ColumnInt64(13));
    out.push_back(r);
  }
  return out;
}

Result<std::map<std::string, int64_t>> AuditStore::DecimalSums(const std::string& run_id, int wave,
                                                               const std::string& entity) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st,
      db_->Prepare("SELECT field, units FROM decimal_sums WHERE run_id=? AND wave=? AND entity=?"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, entity));
  std::map<std::string, int64_t> out;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out[std::string(st.ColumnText(0))] = st.ColumnInt64(1);
  }
  return out;
}

Status AuditStore::ForEachFate(const std::string& run_id, int wave, const std::string& entity,
                               const std::function<void(const FateRow&)>& fn) {
  return ForEachFateWhere("all_fates", " ORDER BY seq, ord", run_id, wave, entity, fn);
}

Status AuditStore::ForEachUnloadedFate(const std::string& run_id, int wave,
                                       const std::string& entity,
                                       const std::function<void(const FateRow&)>& fn) {
  // A key this run also loaded or merged (a repeat of a source key is
  // rejected while its first occurrence loads) has its row: not unloaded.
  // The key's fates are found by fates_by_key: without statistics SQLite
  // took fates_by_run for the subquery (three equal columns as well) and
  // read every fate of the run for each rejected or held one (100,000
  // people, 13,073 held: minutes instead of 0.3 s).
  return ForEachFateWhere(
      "fates",
      " AND (kind='rejected' OR kind='review' OR (kind='deleted_at_source' AND rule='propagate'))"
      " AND NOT EXISTS (SELECT 1 FROM fates AS other INDEXED BY fates_by_key"
      " WHERE other.entity = fates.entity AND other.source = fates.source"
      " AND other.key = fates.key AND other.run_id = fates.run_id AND other.wave = fates.wave"
      " AND other.kind IN ('loaded', 'merged'))"
      " AND NOT EXISTS (SELECT 1 FROM loaded_keys AS k JOIN loaded_packs AS p ON p.pack = k.pack"
      " WHERE k.entity = fates.entity AND k.source = fates.source AND k.key = fates.key"
      " AND p.run_id = fates.run_id AND p.wave = fates.wave)",
      run_id, wave, entity, fn);
}

Status AuditStore::ForEachFateWhere(std::string_view table, std::string_view also,
                                    const std::string& run_id, int wave, const std::string& entity,
                                    const std::function<void(const FateRow&)>& fn) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT * FROM " + std::string(table) +
                            " WHERE run_id=? AND wave=? AND entity=?" + std::string(also)));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, entity));
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    fn(ReadFate(st));
  }
  return Status::Ok();
}

namespace {

// Steps `st` (its columns: source, key, kind, target_id, content_hash, rule,
// survivor_source, survivor_key, rowid, loaded_values) and calls `fn` for every row;
// returns the last row's rowid, or `last` when there was none.
Result<int64_t> StepFateSummaries(Statement& st, int64_t last,
                                  const std::function<void(const FateSummary&)>& fn) {
  // Columns are read as sqlite3_value, which costs less per column than the
  // sqlite3_column_* calls; the statement is used by this thread alone.
  auto text = [&st](int col) -> std::string_view {
    sqlite3_value* cell = sqlite3_column_value(st.raw(), col);
    const unsigned char* data = sqlite3_value_text(cell);
    if (data == nullptr) return {};
    return {reinterpret_cast<const char*>(data), static_cast<size_t>(sqlite3_value_bytes(cell))};
  };
  auto blob = [&st](int col) -> std::string_view {
    sqlite3_value* cell = sqlite3_column_value(st.raw(), col);
    const void* data = sqlite3_value_blob(cell);
    if (data == nullptr) return {};
    return {static_cast<const char*>(data), static_cast<size_t>(sqlite3_value_bytes(cell))};
  };
  FateSummary f;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    f.source = text(0);
    f.key = text(1);
    f.kind = text(2);
    f.target_id = sqlite3_value_int64(sqlite3_column_value(st.raw(), 3));
    f.content_hash = static_cast<uint64_t>(sqlite3_value_int64(sqlite3_column_value(st.raw(), 4)));
    f.rule = text(5);
    f.survivor_source = text(6);
    f.survivor_key = text(7);
    last = sqlite3_value_int64(sqlite3_column_value(st.raw(), 8));
    f.loaded_values = blob(9);
    fn(f);
  }
  return last;
}

constexpr int64_t kPackPositions = int64_t{1} << 62;

constexpr char kFateSummaryColumns[] =
    "SELECT source, key, kind, target_id, content_hash, rule, survivor_source, survivor_key,"
    " rowid, loaded_values FROM fates WHERE run_id=? AND wave=? AND entity=?";

}  // namespace

Status AuditStore::ForEachFateSummary(const std::string& run_id, int wave,
                                      const std::string& entity,
                                      const std::function<void(const FateSummary&)>& fn) {
  SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare(kFateSummaryColumns));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, entity));
  SLUICE_RETURN_IF_ERROR(StepFateSummaries(st, 0, fn).status());
  if (!packed_) return Status::Ok();
  size_t rows = 0;
  return ForEachLoadedSummaryAfter(run_id, wave, entity, 0, SIZE_MAX, &rows, fn).status();
}

Result<int64_t> AuditStore::ForEachFateSummaryAfter(
    const std::string& run_id, int wave, const std::string& entity, int64_t after, size_t limit,
    const std::function<void(const FateSummary&)>& fn) {
  return ForEachFateOrPackAfter(run_id, wave, entity, after, limit, fn, nullptr);
}

Result<int64_t> AuditStore::ForEachFateOrPackAfter(
    const std::string& run_id, int wave, const std::string& entity, int64_t after, size_t limit,
    const std::function<void(const FateSummary&)>& fn, const PackFn& pack) {
  // Positions below kPackPositions are rows of `fates`, above them packs.
  size_t rows = 0;
  if (after < kPackPositions) {
    // fates_by_run(run_id, wave, entity) ends in the rowid: a page is a
    // range scan of the index, however far into the entity it starts.
    SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare(std::string(kFateSummaryColumns) +
                                                  " AND rowid>? ORDER BY rowid LIMIT ?"));
    SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
    SLUICE_RETURN_IF_ERROR(st.Bind(3, entity));
    SLUICE_RETURN_IF_ERROR(st.Bind(4, after));
    SLUICE_RETURN_IF_ERROR(st.Bind(5, static_cast<int64_t>(limit)));
    SLUICE_ASSIGN_OR_RETURN(
        after, StepFateSummaries(st, after, [&](const FateSummary& f) { ++rows, fn(f); }));
    if (rows == limit || !packed_) return after;
    after = kPackPositions;
  }
  SLUICE_ASSIGN_OR_RETURN(
      int64_t last, ForEachLoadedSummaryAfter(run_id, wave, entity, after - kPackPositions, limit,
                                              &rows, fn, pack ? &pack : nullptr));
  return kPackPositions + last;
}

Result<std::vector<FateRow>> AuditStore::FatesOf(const std::string& entity,
                                                 const std::string& source,
                                                 const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st,
      db_->Prepare("SELECT f.* FROM all_fates f LEFT JOIN runs r ON r.run_id = f.run_id WHERE"
                   " f.entity=? AND f.source=? AND f.key=? ORDER BY r.started_ms, f.seq, f.ord"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, entity));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, source));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, key));
  std::vector<FateRow> out;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(ReadFate(st));
  }
  return out;
}

Result<std::vector<std::map<std::string, std::string>>> AuditStore::BatchCommits(
    const std::string& run_id, const std::string& batch) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st,
      db_->Prepare(
          "SELECT stage, epoch, range_begin, range_end, first_line, n_in, n_out, in_checksum, "
          "out_checksum FROM batches WHERE run_id=? AND batch=? ORDER BY rowid"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, batch));
  std::vector<std::map<std::string, std::string>> out;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    std::map<std::string, std::string> m;
    for (int i = 0; i < st.ColumnCount(); ++i) m[st.ColumnName(i)] = std::string(st.ColumnText(i));
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::map<std::string, std::string>> AuditStore::ExtractionBatchOf(const std::string& run_id,
                                                                         const std::string& entity,
                                                                         const std::string& source,
                                                                         uint64_t line) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT batch, stage, epoch, range_begin, range_end, first_line, n_in, "
                            "n_out, in_checksum, out_checksum FROM batches WHERE run_id=? AND "
                            "entity=? AND source=? AND stage='extract' AND first_line<=? "
                            "ORDER BY first_line DESC LIMIT 1"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, entity));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, source));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, static_cast<int64_t>(line)));
  std::map<std::string, std::string> out;
  SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
  if (row) {
    for (int i = 0; i < st.ColumnCount(); ++i)
      out[st.ColumnName(i)] = std::string(st.ColumnText(i));
  }
  return out;
}

}  // namespace sluice
