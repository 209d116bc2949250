// The audit trail of retired rows (issue 23): a row an earlier run loaded
// whose record a later run rejected or held is removed from the target by
// the loader (loader/retirement.h); this table says which run removed it
// and why, for `sluice trace`.
#include "common/audit/audit_store.h"

namespace sluice {

Status AuditStore::InitRetired() {
  return db_->Exec(
      "CREATE TABLE IF NOT EXISTS retired_rows(run_id TEXT, wave INTEGER, entity TEXT,"
      " source TEXT, key TEXT, target_id INTEGER, reason TEXT,"
      " PRIMARY KEY(run_id, entity, source, key));");
}

Status AuditStore::RecordRetiredRows(const std::string& run_id, int wave,
                                     const v1::Commit& commit) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("INSERT OR REPLACE INTO retired_rows VALUES(?,?,?,?,?,?,?)"));
  SLUICE_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  for (const v1::Fate& f : commit.fates()) {
    SLUICE_RETURN_IF_ERROR(st.Reset());
    SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(st.Bind(2, static_cast<int64_t>(wave)));
    SLUICE_RETURN_IF_ERROR(st.Bind(3, commit.batch().entity()));
    SLUICE_RETURN_IF_ERROR(st.Bind(4, f.source()));
    SLUICE_RETURN_IF_ERROR(st.Bind(5, f.key()));
    SLUICE_RETURN_IF_ERROR(st.Bind(6, f.target_id()));
    SLUICE_RETURN_IF_ERROR(st.Bind(7, f.reason()));
    SLUICE_RETURN_IF_ERROR(st.Run());
  }
  return tx.Commit();
}

Result<std::vector<AuditStore::RetiredRowRecord>> AuditStore::RetiredRowsOf(
    const std::string& entity, const std::string& source, const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT run_id, wave, target_id, reason"
                                                " FROM retired_rows WHERE entity=? AND source=?"
                                                " AND key=? ORDER BY rowid"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, entity));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, source));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, key));
  std::vector<RetiredRowRecord> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back({std::string(st.ColumnText(0)), static_cast<int>(st.ColumnInt64(1)),
                   st.ColumnInt64(2), std::string(st.ColumnText(3))});
  }
  return out;
}

}  // namespace sluice
