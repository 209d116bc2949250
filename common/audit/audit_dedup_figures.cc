// What dedup did per entity, for the run report (issue 17,
// docs/reconciliation.md#the-run-report): the matcher's summary as it
// committed it (pairs per band, the histogram of match weights and the
// thresholds), and the clusters the merges formed, by size.
#include "common/audit/audit_store.h"
#include "common/core/record.h"
#include "common/core/stage.h"

namespace sluice {

Status AuditStore::InitDedupFigures() {
  return db_->Exec(
      "CREATE TABLE IF NOT EXISTS match_figures(run_id TEXT, wave INTEGER, entity TEXT,"
      " summary BLOB, PRIMARY KEY(run_id, wave, entity));");
}

Status AuditStore::RecordMatchFigures(const std::string& run_id, int wave,
                                      const v1::Commit& commit) {
  if (commit.stage() != StageName(Stage::kDedupResolve)) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("INSERT OR REPLACE INTO match_figures VALUES(?,?,?,?)"));
  std::string blob;
  commit.match_summary().SerializeToString(&blob);
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, commit.batch().entity()));
  SLUICE_RETURN_IF_ERROR(st.BindView(4, blob));
  return st.Run();
}

Result<std::vector<DedupFigures>> AuditStore::DedupFiguresOf(const std::string& run_id, int wave) {
  std::vector<DedupFigures> out;
  auto st = db_->Prepare(
      "SELECT entity, summary FROM match_figures WHERE run_id=? AND wave=? ORDER BY entity");
  if (!st.ok()) return out;  // a store from before issue 17's report
  SLUICE_RETURN_IF_ERROR(st->Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st->Bind(2, wave));
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    DedupFigures& f = out.emplace_back();
    f.entity = st->ColumnText(0);
    const std::string blob(st->ColumnText(1));
    if (!f.summary.ParseFromString(blob)) {
      return Status::Corruption("match_figures of " + run_id + " wave " + std::to_string(wave) +
                                " entity " + f.entity + " do not parse");
    }
  }
  // A cluster is a survivor and the records merged into it: its size is
  // one more than the merged fates naming that survivor.
  SLUICE_ASSIGN_OR_RETURN(
      auto sizes, db_->Prepare("SELECT n, count(*) FROM (SELECT count(*) + 1 AS n FROM fates"
                               " WHERE run_id=? AND wave=? AND entity=? AND kind=?"
                               " GROUP BY survivor_source, survivor_key) GROUP BY n ORDER BY n"));
  SLUICE_ASSIGN_OR_RETURN(
      auto held, db_->Prepare("SELECT count(*) FROM fates WHERE run_id=? AND wave=? AND entity=?"
                              " AND kind=? AND stage=?"));
  for (DedupFigures& f : out) {
    SLUICE_RETURN_IF_ERROR(sizes.Reset());
    SLUICE_RETURN_IF_ERROR(sizes.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(sizes.Bind(2, wave));
    SLUICE_RETURN_IF_ERROR(sizes.Bind(3, f.entity));
    SLUICE_RETURN_IF_ERROR(sizes.BindView(4, FateKindName(v1::FATE_MERGED)));
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, sizes.Step());
      if (!row) break;
      f.clusters_by_size[static_cast<uint64_t>(sizes.ColumnInt64(0))] =
          static_cast<uint64_t>(sizes.ColumnInt64(1));
    }
    SLUICE_RETURN_IF_ERROR(held.Reset());
    SLUICE_RETURN_IF_ERROR(held.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(held.Bind(2, wave));
    SLUICE_RETURN_IF_ERROR(held.Bind(3, f.entity));
    SLUICE_RETURN_IF_ERROR(held.BindView(4, FateKindName(v1::FATE_REVIEW)));
    SLUICE_RETURN_IF_ERROR(held.Bind(5, "dedup"));  // the deduper's fates (dedup_cluster.cc)
    SLUICE_ASSIGN_OR_RETURN(bool row, held.Step());
    if (row) f.held_for_review = static_cast<uint64_t>(held.ColumnInt64(0));
  }
  return out;
}

}  // namespace sluice
