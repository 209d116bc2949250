// The audit store's record of waves and resumes (issue 3): enough for
// `sluice resume` to continue a halted or paused run from its first wave
// that did not reconcile, without loading the completed waves again.
#include "common/audit/audit_store.h"

namespace sluice {

Status AuditStore::InitWaves() {
  return db_->Exec(
      "CREATE TABLE IF NOT EXISTS run_waves(run_id TEXT, wave INTEGER, name TEXT, status TEXT,"
      " note TEXT, PRIMARY KEY(run_id, wave));"
      "CREATE TABLE IF NOT EXISTS run_resumes(run_id TEXT PRIMARY KEY, resumed_from TEXT,"
      " start_wave INTEGER);");
}

Status AuditStore::RecordWave(const std::string& run_id, int wave, const std::string& name,
                              const std::string& status, const std::string& note) {
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("INSERT OR REPLACE INTO run_waves VALUES(?1,?2,?3,?4,?5)"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, name));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, status));
  SLUICE_RETURN_IF_ERROR(st.Bind(5, note));
  return st.Run();
}

Result<std::map<int, std::pair<std::string, std::string>>> AuditStore::Waves(
    const std::string& run_id) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT wave, name, status FROM run_waves WHERE run_id = ?1"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  std::map<int, std::pair<std::string, std::string>> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out[static_cast<int>(st.ColumnInt64(0))] = {std::string(st.ColumnText(1)),
                                                std::string(st.ColumnText(2))};
  }
  return out;
}

Status AuditStore::RecordResume(const std::string& run_id, const std::string& resumed_from,
                                int start_wave) {
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("INSERT OR REPLACE INTO run_resumes VALUES(?1,?2,?3)"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, resumed_from));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, start_wave));
  return st.Run();
}

}  // namespace sluice
