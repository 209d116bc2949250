// The high-water marks of delta extraction (issue 18, docs/delta.md). A mark
// is raised only when the wave that extracted above it reconciled, so that
// it never passes a batch that was not loaded; the marks a run reads above
// are fixed when it starts and kept for whoever continues or resumes it.
#include "common/audit/audit_store.h"
#include "common/core/record.h"
#include "common/core/watermark.h"

namespace sluice {

Status AuditStore::InitDelta() {
  return db_->Exec(
      // Every raise is kept: a run rolled back gives its marks back.
      "CREATE TABLE IF NOT EXISTS delta_marks(plan TEXT, entity TEXT, source TEXT, mark TEXT,"
      " run_id TEXT, PRIMARY KEY(plan, entity, source, run_id));"
      "CREATE TABLE IF NOT EXISTS delta_runs(run_id TEXT PRIMARY KEY, full INTEGER);"
      "CREATE TABLE IF NOT EXISTS delta_run_marks(run_id TEXT, entity TEXT, source TEXT,"
      " mark TEXT, PRIMARY KEY(run_id, entity, source));"
      "CREATE TABLE IF NOT EXISTS delta_batches(run_id TEXT, wave INTEGER, entity TEXT,"
      " source TEXT, batch TEXT, high TEXT, skipped INTEGER, PRIMARY KEY(run_id, batch));");
}

Result<AuditStore::Marks> AuditStore::MarksOf(const std::string& plan) {
  // The highest raise of a run that was not rolled back.
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT m.entity, m.source, m.mark FROM delta_marks AS m"
                            " LEFT JOIN runs AS r ON r.run_id = m.run_id WHERE m.plan = ?1"
                            " AND (r.status IS NULL OR r.status <> 'rolled_back')"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, plan));
  Marks out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    std::string& mark = out[{std::string(st.ColumnText(0)), std::string(st.ColumnText(1))}];
    mark = HigherMark(mark, std::string(st.ColumnText(2)));
  }
  return out;
}

Status AuditStore::RaiseMark(const std::string& plan, const std::string& entity,
                             const std::string& source, const std::string& mark,
                             const std::string& run_id) {
  if (mark.empty()) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(Marks marks, MarksOf(plan));
  auto it = marks.find({entity, source});
  if (it != marks.end() && !AboveMark(mark, it->second)) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("INSERT OR REPLACE INTO delta_marks VALUES(?1,?2,?3,?4,?5)"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, plan));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, entity));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, source));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, mark));
  SLUICE_RETURN_IF_ERROR(st.Bind(5, run_id));
  return st.Run();
}

Status AuditStore::RecordRunMarks(const std::string& run_id, const Marks& marks, bool full) {
  SLUICE_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  SLUICE_ASSIGN_OR_RETURN(auto run,
                          db_->Prepare("INSERT OR REPLACE INTO delta_runs VALUES(?1,?2)"));
  SLUICE_RETURN_IF_ERROR(run.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(run.Bind(2, full ? 1 : 0));
  SLUICE_RETURN_IF_ERROR(run.Run());
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("INSERT OR REPLACE INTO delta_run_marks VALUES(?1,?2,?3,?4)"));
  for (const auto& [at, mark] : marks) {
    SLUICE_RETURN_IF_ERROR(st.Reset());
    SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(st.Bind(2, at.first));
    SLUICE_RETURN_IF_ERROR(st.Bind(3, at.second));
    SLUICE_RETURN_IF_ERROR(st.Bind(4, mark));
    SLUICE_RETURN_IF_ERROR(st.Run());
  }
  return tx.Commit();
}

Result<std::optional<AuditStore::RunMarks>> AuditStore::RunMarksOf(const std::string& run_id) {
  SLUICE_ASSIGN_OR_RETURN(auto run, db_->Prepare("SELECT full FROM delta_runs WHERE run_id = ?1"));
  SLUICE_RETURN_IF_ERROR(run.Bind(1, run_id));
  SLUICE_ASSIGN_OR_RETURN(bool found, run.Step());
  if (!found) return std::optional<RunMarks>();
  RunMarks out;
  out.full = run.ColumnInt64(0) != 0;
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT entity, source, mark FROM delta_run_marks WHERE run_id = ?1"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.marks[{std::string(st.ColumnText(0)), std::string(st.ColumnText(1))}] = st.ColumnText(2);
  }
  return std::optional<RunMarks>(std::move(out));
}

Status AuditStore::RecordDeltaBatch(const std::string& run_id, int wave, const v1::Commit& commit) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("INSERT OR REPLACE INTO delta_batches VALUES(?1,?2,?3,?4,?5,?6,?7)"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, commit.batch().entity()));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, commit.batch().source()));
  SLUICE_RETURN_IF_ERROR(st.Bind(5, BatchName(commit.batch())));
  SLUICE_RETURN_IF_ERROR(st.Bind(6, commit.range().watermark_high()));
  SLUICE_RETURN_IF_ERROR(st.Bind(7, static_cast<int64_t>(commit.range().skipped())));
  return st.Run();
}

Result<AuditStore::DeltaExtraction> AuditStore::DeltaExtractionOf(const std::string& run_id,
                                                                  int wave,
                                                                  const std::string& entity,
                                                                  const std::string& source) {
  SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT high, skipped FROM delta_batches"
                                                " WHERE run_id=?1 AND wave=?2 AND entity=?3"
                                                " AND source=?4"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, entity));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, source));
  DeltaExtraction out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.high = HigherMark(out.high, std::string(st.ColumnText(0)));
    out.skipped += static_cast<uint64_t>(st.ColumnInt64(1));
    ++out.batches;
  }
  return out;
}

Status AuditStore::ForgetDeltaBatches(const std::string& run_id, int wave,
                                      const std::string& entity) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("DELETE FROM delta_batches WHERE run_id=?1 AND wave=?2 AND entity=?3"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, entity));
  return st.Run();
}

}  // namespace sluice
