// Every difference a wave's reconciliation found (issue 17,
// docs/reconciliation.md): the reconciler sends them to the coordinator,
// which stores them here uncapped; `sluice diff` lists them. Also the
// loaded values of each LOADED fate (a column of `fates`), added to stores
// that an earlier version created.
#include "common/audit/audit_store.h"

namespace sluice {

Status AuditStore::InitDifferences() {
  // A store created before issue 17 lacks the fates' loaded_values column.
  SLUICE_ASSIGN_OR_RETURN(auto columns, db_->Prepare("PRAGMA table_info(fates)"));
  bool has_loaded_values = false;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, columns.Step());
    if (!row) break;
    if (columns.ColumnText(1) == "loaded_values") has_loaded_values = true;
  }
  if (!has_loaded_values) {
    SLUICE_RETURN_IF_ERROR(db_->Exec("ALTER TABLE fates ADD COLUMN loaded_values BLOB;"));
  }
  return db_->Exec(
      "CREATE TABLE IF NOT EXISTS differences(run_id TEXT, wave INTEGER, entity TEXT,"
      " source TEXT, key TEXT, failure TEXT, field TEXT, expected TEXT, actual TEXT);"
      "CREATE INDEX IF NOT EXISTS differences_by_run ON differences(run_id, wave, entity);");
}

Status AuditStore::ClearDifferences(const std::string& run_id, int wave) {
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("DELETE FROM differences WHERE run_id=? AND wave=?"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  return st.Run();
}

Status AuditStore::RecordDifferences(const std::string& run_id,
                                     const v1::ReconcileDifferences& chunk) {
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("INSERT INTO differences VALUES(?,?,?,?,?,?,?,?,?)"));
  SLUICE_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  for (const v1::ReconcileDifference& d : chunk.differences()) {
    SLUICE_RETURN_IF_ERROR(st.Reset());
    SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(st.Bind(2, static_cast<int64_t>(chunk.wave())));
    SLUICE_RETURN_IF_ERROR(st.BindView(3, d.entity()));
    SLUICE_RETURN_IF_ERROR(st.BindView(4, d.source()));
    SLUICE_RETURN_IF_ERROR(st.BindView(5, d.key()));
    SLUICE_RETURN_IF_ERROR(st.BindView(6, d.failure()));
    SLUICE_RETURN_IF_ERROR(st.BindView(7, d.field()));
    SLUICE_RETURN_IF_ERROR(st.BindView(8, d.expected()));
    SLUICE_RETURN_IF_ERROR(st.BindView(9, d.actual()));
    SLUICE_RETURN_IF_ERROR(st.Run());
  }
  return tx.Commit();
}

Result<uint64_t> AuditStore::CountDifferences(const std::string& run_id, int wave) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT count(*) FROM differences WHERE run_id=? AND wave=?"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? static_cast<uint64_t>(st.ColumnInt64(0)) : 0;
}

Status AuditStore::ForEachDifference(const std::string& run_id, const std::string& entity,
                                     const std::function<void(const DifferenceRow&)>& fn) {
  auto st = db_->Prepare(
      "SELECT wave, entity, source, key, failure, field, expected, actual FROM differences"
      " WHERE run_id=? AND (?='' OR entity=?)"
      " ORDER BY wave, entity, source, key, failure, field");
  if (!st.ok()) return Status::Ok();  // a store from before issue 17: no differences
  SLUICE_RETURN_IF_ERROR(st->Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st->Bind(2, entity));
  SLUICE_RETURN_IF_ERROR(st->Bind(3, entity));
  DifferenceRow d;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    d.wave = static_cast<int>(st->ColumnInt64(0));
    d.entity = st->ColumnText(1);
    d.source = st->ColumnText(2);
    d.key = st->ColumnText(3);
    d.failure = st->ColumnText(4);
    d.field = st->ColumnText(5);
    d.expected = st->ColumnText(6);
    d.actual = st->ColumnText(7);
    fn(d);
  }
  return Status::Ok();
}

}  // namespace sluice
