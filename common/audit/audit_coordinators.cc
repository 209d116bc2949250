// The coordinator's liveness record (issue 15; docs/operations.md): one row
// per run naming the process that runs it, refreshed every second with its
// progress snapshot, so that a run whose coordinator died is shown
// `interrupted` rather than `running` forever, and `sluice resume` can
// continue it in place.
#include "common/audit/audit_store.h"

namespace sluice {

Status AuditStore::InitCoordinators() {
  // `progress` holds a serialized v1::RunProgress, as TEXT with an explicit
  // length (SQLite keeps the bytes as given, as for lineage blobs).
  return db_->Exec(
      "CREATE TABLE IF NOT EXISTS coordinators(run_id TEXT PRIMARY KEY, generation INTEGER,"
      " host TEXT, pid INTEGER, pid_start TEXT, control_endpoint TEXT, started_ms INTEGER,"
      " heartbeat_ms INTEGER, progress TEXT);");
}

Status AuditStore::RecordCoordinator(const CoordinatorRecord& r) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("INSERT OR REPLACE INTO coordinators VALUES(?,?,?,?,?,?,?,?,?)"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, r.run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, r.generation));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, r.host));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, static_cast<int64_t>(r.pid)));
  SLUICE_RETURN_IF_ERROR(st.Bind(5, r.pid_start));
  SLUICE_RETURN_IF_ERROR(st.Bind(6, r.control_endpoint));
  SLUICE_RETURN_IF_ERROR(st.Bind(7, r.started_ms));
  SLUICE_RETURN_IF_ERROR(st.Bind(8, r.heartbeat_ms));
  SLUICE_RETURN_IF_ERROR(st.Bind(9, r.progress));
  return st.Run();
}

Result<bool> AuditStore::BeatCoordinator(const std::string& run_id, int generation,
                                         int64_t heartbeat_ms, const std::string& progress) {
  SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare("UPDATE coordinators SET heartbeat_ms=?,"
                                                " progress=? WHERE run_id=? AND generation=?"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, heartbeat_ms));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, progress));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, generation));
  SLUICE_RETURN_IF_ERROR(st.Run());
  return db_->Changes() == 1;
}

Result<std::optional<CoordinatorRecord>> AuditStore::CoordinatorOf(const std::string& run_id) {
  // A store written by an earlier version, opened read-only, has no table.
  SLUICE_ASSIGN_OR_RETURN(auto exists, db_->Prepare("SELECT 1 FROM sqlite_master WHERE"
                                                    " type='table' AND name='coordinators'"));
  SLUICE_ASSIGN_OR_RETURN(bool has_table, exists.Step());
  if (!has_table) return std::optional<CoordinatorRecord>();
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("SELECT generation, host, pid, pid_start, control_endpoint,"
                                       " started_ms, heartbeat_ms, progress FROM coordinators"
                                       " WHERE run_id=?"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<CoordinatorRecord>();
  CoordinatorRecord r;
  r.run_id = run_id;
  r.generation = static_cast<int>(st.ColumnInt64(0));
  r.host = std::string(st.ColumnText(1));
  r.pid = static_cast<uint32_t>(st.ColumnInt64(2));
  r.pid_start = std::string(st.ColumnText(3));
  r.control_endpoint = std::string(st.ColumnText(4));
  r.started_ms = st.ColumnInt64(5);
  r.heartbeat_ms = st.ColumnInt64(6);
  r.progress = std::string(st.ColumnText(7));
  return std::optional<CoordinatorRecord>(std::move(r));
}

Status AuditStore::ReopenRun(const std::string& run_id) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("UPDATE runs SET status='running', halt_reason='', ended_ms=0"
                            " WHERE run_id=?"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Run());
  if (db_->Changes() != 1) return Status::NotFound("no run " + run_id + " in the audit store");
  return Status::Ok();
}

Status AuditStore::ForgetEntity(const std::string& run_id, int wave, const std::string& entity) {
  SLUICE_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get()));
  for (const char* table : {"fates", "batches", "review_items", "match_decisions",
                            "match_summaries", "ledger", "decimal_sums"}) {
    SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare(std::string("DELETE FROM ") + table +
                                                  " WHERE run_id=? AND wave=? AND entity=?"));
    SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
    SLUICE_RETURN_IF_ERROR(st.Bind(3, entity));
    SLUICE_RETURN_IF_ERROR(st.Run());
  }
  SLUICE_RETURN_IF_ERROR(ForgetLoadedPacks("run_id=? AND wave=? AND entity=?", [&](Statement& st) {
    SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
    return st.Bind(3, entity);
  }));
  return tx.Commit();
}

Result<uint64_t> AuditStore::MaxEpoch(const std::string& run_id) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT COALESCE(MAX(epoch), 0) FROM batches WHERE run_id=?"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? static_cast<uint64_t>(st.ColumnInt64(0)) : 0;
}

}  // namespace sluice
