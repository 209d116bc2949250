// Match decisions in the audit store (issue 5; docs/dedup.md): every merge
// and review decision on a pair of records, with its rule or score, each
// comparison's level and weight, the band, the cluster and the survivor,
// and per entity what the matcher did (pairs compared, blocking counts,
// estimated m/u). `sluice trace` shows a record's decisions.
#include <cstdio>

#include "common/audit/audit_store.h"
#include "common/core/record.h"
#include "common/core/stage.h"

namespace sluice {

Status AuditStore::InitMatches() {
  return db_->Exec(
      "CREATE TABLE IF NOT EXISTS match_decisions(run_id TEXT, wave INTEGER, entity TEXT,"
      " a_source TEXT, a_key TEXT, b_source TEXT, b_key TEXT, rule TEXT, band TEXT,"
      " score TEXT, outcome TEXT, cluster TEXT, survivor TEXT, decision TEXT);"
      "CREATE INDEX IF NOT EXISTS match_decisions_a ON match_decisions(entity, a_source, a_key);"
      "CREATE INDEX IF NOT EXISTS match_decisions_b ON match_decisions(entity, b_source, b_key);"
      "CREATE TABLE IF NOT EXISTS match_summaries(run_id TEXT, wave INTEGER, entity TEXT,"
      " comparisons INTEGER, merge_pairs INTEGER, review_pairs INTEGER,"
      " distinct_pairs INTEGER, notes TEXT, PRIMARY KEY(run_id, wave, entity));"
      // Issue 14: each golden record's provenance, field by field.
      "CREATE TABLE IF NOT EXISTS golden_records(run_id TEXT, wave INTEGER, entity TEXT,"
      " source TEXT, key TEXT, record BLOB);"
      "CREATE INDEX IF NOT EXISTS golden_records_by_key ON golden_records(entity, source, key);");
}

Status AuditStore::RecordMatchDecisions(const std::string& run_id, int wave,
                                        const v1::Commit& commit) {
  if (commit.stage() != StageName(Stage::kDedupResolve)) return Status::Ok();
  const std::string& entity = commit.batch().entity();
  // A resolution in parts: the coordinator forgot any earlier one before
  // its first part (ForgetResolution); the summary comes with the last.
  const bool part = commit.has_resolve_part();
  if (!part) {
    // A resolution recorded again replaces the earlier one.
    SLUICE_ASSIGN_OR_RETURN(
        auto del,
        db_->Prepare("DELETE FROM match_decisions WHERE run_id=? AND wave=? AND entity=?"));
    SLUICE_RETURN_IF_ERROR(del.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(del.Bind(2, wave));
    SLUICE_RETURN_IF_ERROR(del.Bind(3, entity));
    SLUICE_RETURN_IF_ERROR(del.Run());
    SLUICE_ASSIGN_OR_RETURN(
        auto del_golden,
        db_->Prepare("DELETE FROM golden_records WHERE run_id=? AND wave=? AND entity=?"));
    SLUICE_RETURN_IF_ERROR(del_golden.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(del_golden.Bind(2, wave));
    SLUICE_RETURN_IF_ERROR(del_golden.Bind(3, entity));
    SLUICE_RETURN_IF_ERROR(del_golden.Run());
  }
  SLUICE_ASSIGN_OR_RETURN(
      auto ins, db_->Prepare("INSERT INTO match_decisions VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  std::string blob;
  for (const v1::MatchDecision& d : commit.match_decisions()) {
    SLUICE_RETURN_IF_ERROR(ins.Reset());
    SLUICE_RETURN_IF_ERROR(ins.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(ins.Bind(2, wave));
    SLUICE_RETURN_IF_ERROR(ins.Bind(3, entity));
    SLUICE_RETURN_IF_ERROR(ins.Bind(4, d.a_source()));
    SLUICE_RETURN_IF_ERROR(ins.Bind(5, d.a_key()));
    SLUICE_RETURN_IF_ERROR(ins.Bind(6, d.b_source()));
    SLUICE_RETURN_IF_ERROR(ins.Bind(7, d.b_key()));
    SLUICE_RETURN_IF_ERROR(ins.Bind(8, d.rule()));
    SLUICE_RETURN_IF_ERROR(ins.Bind(9, d.band()));
    if (d.scored()) {
      char score[32];
      std::snprintf(score, sizeof score, "%.2f", d.score());
      SLUICE_RETURN_IF_ERROR(ins.Bind(10, std::string_view(score)));
    } else {
      SLUICE_RETURN_IF_ERROR(ins.BindNull(10));
    }
    SLUICE_RETURN_IF_ERROR(ins.Bind(11, d.outcome()));
    SLUICE_RETURN_IF_ERROR(ins.Bind(12, d.cluster()));
    SLUICE_RETURN_IF_ERROR(
        ins.Bind(13, d.survivor_key().empty() ? "" : d.survivor_source() + ":" + d.survivor_key()));
    blob.clear();
    d.SerializeToString(&blob);
    SLUICE_RETURN_IF_ERROR(ins.BindView(14, blob));
    SLUICE_RETURN_IF_ERROR(ins.Run());
  }
  SLUICE_ASSIGN_OR_RETURN(auto golden,
                          db_->Prepare("INSERT INTO golden_records VALUES(?,?,?,?,?,?)"));
  for (const v1::GoldenRecord& g : commit.golden_records()) {
    SLUICE_RETURN_IF_ERROR(golden.Reset());
    SLUICE_RETURN_IF_ERROR(golden.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(golden.Bind(2, wave));
    SLUICE_RETURN_IF_ERROR(golden.Bind(3, entity));
    SLUICE_RETURN_IF_ERROR(golden.Bind(4, g.source()));
    SLUICE_RETURN_IF_ERROR(golden.Bind(5, g.key()));
    blob.clear();
    g.SerializeToString(&blob);
    SLUICE_RETURN_IF_ERROR(golden.BindView(6, blob));
    SLUICE_RETURN_IF_ERROR(golden.Run());
  }
  if (part && !commit.resolve_part().last()) return Status::Ok();
  const v1::MatchSummary& s = commit.match_summary();
  std::string notes;
  for (const std::string& n : s.notes()) notes += n + "\n";
  SLUICE_ASSIGN_OR_RETURN(
      auto sum, db_->Prepare("INSERT OR REPLACE INTO match_summaries VALUES(?,?,?,?,?,?,?,?)"));
  SLUICE_RETURN_IF_ERROR(sum.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(sum.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(sum.Bind(3, entity));
  SLUICE_RETURN_IF_ERROR(sum.Bind(4, static_cast<int64_t>(s.comparisons())));
  SLUICE_RETURN_IF_ERROR(sum.Bind(5, static_cast<int64_t>(s.merge_pairs())));
  SLUICE_RETURN_IF_ERROR(sum.Bind(6, static_cast<int64_t>(s.review_pairs())));
  SLUICE_RETURN_IF_ERROR(sum.Bind(7, static_cast<int64_t>(s.distinct_pairs())));
  SLUICE_RETURN_IF_ERROR(sum.Bind(8, notes));
  SLUICE_RETURN_IF_ERROR(sum.Run());
  return RecordMatchFigures(run_id, wave, commit);
}

Result<std::vector<MatchDecisionRow>> AuditStore::MatchDecisionsOf(const std::string& entity,
                                                                   const std::string& source,
                                                                   const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("SELECT run_id, wave, decision FROM match_decisions"
                                       " WHERE entity=?1 AND ((a_source=?2 AND a_key=?3) OR"
                                       " (b_source=?2 AND b_key=?3)) ORDER BY rowid"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, entity));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, source));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, key));
  std::vector<MatchDecisionRow> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    MatchDecisionRow& r = out.emplace_back();
    r.run_id = std::string(st.ColumnText(0));
    r.wave = static_cast<int>(st.ColumnInt64(1));
    std::string_view blob = st.ColumnText(2);
    if (!r.decision.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
      return Status::Corruption("match decision of " + source + ":" + key + " in run " + r.run_id +
                                " cannot be read");
    }
  }
  return out;
}

Result<std::vector<GoldenRecordRow>> AuditStore::GoldenRecordsOf(const std::string& entity,
                                                                 const std::string& source,
                                                                 const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT run_id, wave, record FROM golden_records"
                                                " WHERE entity=? AND source=? AND key=?"
                                                " ORDER BY rowid"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, entity));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, source));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, key));
  std::vector<GoldenRecordRow> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    GoldenRecordRow& r = out.emplace_back();
    r.run_id = std::string(st.ColumnText(0));
    r.wave = static_cast<int>(st.ColumnInt64(1));
    std::string_view blob = st.ColumnText(2);
    if (!r.record.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
      return Status::Corruption("golden record of " + source + ":" + key + " in run " + r.run_id +
                                " cannot be read");
    }
  }
  return out;
}

}  // namespace sluice
