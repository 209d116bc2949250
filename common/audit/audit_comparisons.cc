// The comparisons `sluice compare` made of the live sources with the target
// (issue 18, docs/compare.md): one row each, its differences in the
// `differences` table under the comparison's id (wave 0), as a run's are.
#include "common/audit/audit_store.h"

namespace sluice {

Status AuditStore::InitComparisons() {
  return db_->Exec(
      "CREATE TABLE IF NOT EXISTS comparisons(compare_id TEXT PRIMARY KEY, plan_name TEXT,"
      " started_ms INTEGER, ended_ms INTEGER, verdict TEXT, summary_json TEXT);");
}

Status AuditStore::RecordComparison(const ComparisonRecord& c) {
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("INSERT OR REPLACE INTO comparisons VALUES(?,?,?,?,?,?)"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, c.compare_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, c.plan_name));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, c.started_ms));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, c.ended_ms));
  SLUICE_RETURN_IF_ERROR(st.Bind(5, c.verdict));
  SLUICE_RETURN_IF_ERROR(st.Bind(6, c.summary_json));
  return st.Run();
}

Result<ComparisonRecord> AuditStore::Comparison(const std::string& compare_id) {
  auto st = db_->Prepare(
      "SELECT compare_id, plan_name, started_ms, ended_ms, verdict, summary_json"
      " FROM comparisons WHERE compare_id=?");
  if (!st.ok()) return Status::NotFound("no comparison " + compare_id);  // an older store
  SLUICE_RETURN_IF_ERROR(st->Bind(1, compare_id));
  SLUICE_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return Status::NotFound("no comparison " + compare_id);
  ComparisonRecord c;
  c.compare_id = st->ColumnText(0);
  c.plan_name = st->ColumnText(1);
  c.started_ms = st->ColumnInt64(2);
  c.ended_ms = st->ColumnInt64(3);
  c.verdict = st->ColumnText(4);
  c.summary_json = st->ColumnText(5);
  return c;
}

}  // namespace sluice
