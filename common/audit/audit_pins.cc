// The pins of a run's file sources (issue 23; docs/limits.md#sources-are-
// pinned): kept so that `sluice resume` and a continued run compare the
// sources against what the run first read (coordinator/pin_check.cc).
#include "common/audit/audit_store.h"

namespace sluice {

Status AuditStore::InitPins() {
  return db_->Exec(
      "CREATE TABLE IF NOT EXISTS source_pins(run_id TEXT, source TEXT, wave INTEGER,"
      " path TEXT, size INTEGER, mtime_ns INTEGER, device INTEGER, inode INTEGER,"
      " PRIMARY KEY(run_id, source));");
}

Status AuditStore::RecordSourcePin(const std::string& run_id, int wave, const std::string& source,
                                   const v1::SourcePin& pin) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("INSERT OR IGNORE INTO source_pins VALUES(?,?,?,?,?,?,?,?)"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, source));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, static_cast<int64_t>(wave)));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, pin.path()));
  SLUICE_RETURN_IF_ERROR(st.Bind(5, static_cast<int64_t>(pin.size())));
  SLUICE_RETURN_IF_ERROR(st.Bind(6, pin.mtime_ns()));
  SLUICE_RETURN_IF_ERROR(st.Bind(7, static_cast<int64_t>(pin.device())));
  SLUICE_RETURN_IF_ERROR(st.Bind(8, static_cast<int64_t>(pin.inode())));
  return st.Run();
}

Result<std::vector<AuditStore::SourcePinRecord>> AuditStore::SourcePinsOf(
    const std::string& run_id) {
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("SELECT wave, source, path, size, mtime_ns, device, inode"
                                       " FROM source_pins WHERE run_id=? ORDER BY source"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  std::vector<SourcePinRecord> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    SourcePinRecord r;
    r.wave = static_cast<int>(st.ColumnInt64(0));
    r.source = std::string(st.ColumnText(1));
    r.pin.set_path(std::string(st.ColumnText(2)));
    r.pin.set_size(static_cast<uint64_t>(st.ColumnInt64(3)));
    r.pin.set_mtime_ns(st.ColumnInt64(4));
    r.pin.set_device(static_cast<uint64_t>(st.ColumnInt64(5)));
    r.pin.set_inode(static_cast<uint64_t>(st.ColumnInt64(6)));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<AuditStore::ExtractedStream>> AuditStore::ExtractedStreams(
    const std::string& run_id, int wave) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT entity, source, count(*), max(range_end) FROM batches"
                            " WHERE run_id=? AND wave=? AND stage='extract'"
                            " GROUP BY entity, source ORDER BY entity, source"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, static_cast<int64_t>(wave)));
  std::vector<ExtractedStream> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back({std::string(st.ColumnText(0)), std::string(st.ColumnText(1)),
                   static_cast<uint64_t>(st.ColumnInt64(2)),
                   static_cast<uint64_t>(st.ColumnInt64(3))});
  }
  return out;
}

}  // namespace sluice
