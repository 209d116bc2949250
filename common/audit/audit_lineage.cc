// Lineage in the audit store: one row per transformed batch holding the
// packed blob of common/audit/lineage.h as the transformer sent it, so that
// recording costs one insert per batch whatever the number of changes.
// `sluice trace` unpacks the blob of the batch that extracted a record.
#include "common/audit/audit_store.h"
#include "common/audit/lineage.h"
#include "common/core/record.h"

namespace sluice {

Status AuditStore::InitLineage() {
  // Stored as TEXT with an explicit length: SQLite keeps the bytes as given.
  return db_->Exec(
      "CREATE TABLE IF NOT EXISTS lineage(run_id TEXT, batch TEXT, blob TEXT,"
      " PRIMARY KEY(run_id, batch));");
}

Status AuditStore::RecordLineage(const std::string& run_id, const v1::Commit& commit) {
  if (commit.lineage().empty()) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare("INSERT OR REPLACE INTO lineage VALUES(?,?,?)"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, BatchName(commit.batch())));
  SLUICE_RETURN_IF_ERROR(st.BindView(3, commit.lineage()));
  return st.Run();
}

Result<std::vector<LineageChange>> AuditStore::LineageOf(const std::string& run_id,
                                                         const std::string& batch,
                                                         const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("SELECT blob FROM lineage WHERE run_id=? AND batch=?"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, batch));
  std::vector<LineageChange> out;
  SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return out;
  SLUICE_ASSIGN_OR_RETURN(auto all, DecodeLineage(st.ColumnText(0)));
  for (auto& c : all) {
    if (c.key == key) out.push_back(std::move(c));
  }
  return out;
}

}  // namespace sluice
