// The review store: items held for data stewards (per run) and the stewards'
// decisions (per plan name, so that they apply to every later run of the
// plan). Tables and CSV columns are described in docs/review.md.
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/audit/audit_store.h"

namespace sluice {
namespace {

constexpr const char* kReviewSchema = R"sql(
CREATE TABLE IF NOT EXISTS review_items(
  run_id TEXT, wave INTEGER, entity TEXT, kind TEXT, source TEXT, key TEXT,
  other_source TEXT, other_key TEXT, cluster TEXT, score REAL, stage TEXT, rule TEXT,
  field TEXT, value TEXT, reasons TEXT, suggestion TEXT, record_json TEXT,
  other_record_json TEXT,
  PRIMARY KEY(run_id, entity, kind, source, key, other_source, other_key));
CREATE TABLE IF NOT EXISTS review_record_decisions(
  plan TEXT, entity TEXT, source TEXT, key TEXT, decision TEXT, corrections_json TEXT,
  steward TEXT, decided_ms INTEGER, note TEXT,
  PRIMARY KEY(plan, entity, source, key));
CREATE TABLE IF NOT EXISTS review_pair_decisions(
  plan TEXT, entity TEXT, source TEXT, key TEXT, other_source TEXT, other_key TEXT,
  decision TEXT, steward TEXT, decided_ms INTEGER, note TEXT,
  PRIMARY KEY(plan, entity, source, key, other_source, other_key));
DROP INDEX IF EXISTS fates_failures;
CREATE INDEX IF NOT EXISTS fates_failed ON fates(run_id, rule)
  WHERE kind = 'rejected' OR kind = 'review' OR kind = 'warning';
)sql";
// fates_failed replaces fates_failures, whose `kind IN (...)` made SQLite
// build and drop a temporary b-tree for every fate row it inserted (a third
// of the coordinator's CPU at 1M records); the OR of equalities is tested in
// place. Queries must repeat the index's WHERE term as written (kFailures in
// audit_errors.cc) for SQLite to use it.

std::string CorrectionsJson(const v1::RecordDecision& d) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& c : d.corrections()) {
    j[c.field()] = c.null() ? nlohmann::json(nullptr) : nlohmann::json(c.value());
  }
  return j.dump();
}

void ParseCorrections(std::string_view text, v1::RecordDecision* d) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  for (const auto& [field, value] : j.items()) {
    auto* c = d->add_corrections();
    c->set_field(field);
    if (value.is_null()) {
      c->set_null(true);
    } else {
      c->set_value(value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
}

}  // namespace

Status AuditStore::InitReview() { return db_->Exec(kReviewSchema); }

Status AuditStore::RecordReviewItems(const std::string& run_id, int wave, const v1::Commit& c) {
  if (c.review_items().empty()) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare("INSERT OR REPLACE INTO review_items "
                                                "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  for (const auto& it : c.review_items()) {
    SLUICE_RETURN_IF_ERROR(st.Reset());
    SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
    SLUICE_RETURN_IF_ERROR(st.Bind(3, it.entity().empty() ? c.batch().entity() : it.entity()));
    SLUICE_RETURN_IF_ERROR(st.BindView(4, it.kind()));
    SLUICE_RETURN_IF_ERROR(st.BindView(5, it.source()));
    SLUICE_RETURN_IF_ERROR(st.BindView(6, it.key()));
    SLUICE_RETURN_IF_ERROR(st.BindView(7, it.other_source()));
    SLUICE_RETURN_IF_ERROR(st.BindView(8, it.other_key()));
    SLUICE_RETURN_IF_ERROR(st.BindView(9, it.cluster()));
    int rc = sqlite3_bind_double(st.raw(), 10, it.score());
    if (rc != SQLITE_OK) return SqliteStatus(rc, "bind score", st.sql());
    SLUICE_RETURN_IF_ERROR(st.BindView(11, it.stage()));
    SLUICE_RETURN_IF_ERROR(st.BindView(12, it.rule()));
    SLUICE_RETURN_IF_ERROR(st.BindView(13, it.field()));
    SLUICE_RETURN_IF_ERROR(st.BindView(14, it.value()));
    SLUICE_RETURN_IF_ERROR(st.BindView(15, it.reasons()));
    SLUICE_RETURN_IF_ERROR(st.BindView(16, it.suggestion()));
    SLUICE_RETURN_IF_ERROR(st.BindView(17, it.record_json()));
    SLUICE_RETURN_IF_ERROR(st.BindView(18, it.other_record_json()));
    SLUICE_RETURN_IF_ERROR(st.Run());
  }
  return Status::Ok();
}

Status AuditStore::ForEachReviewItem(const std::string& run_id,
                                     const std::function<void(const ReviewItemRow&)>& fn) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT run_id, wave, entity, kind, source, key, other_source, "
                            "other_key, cluster, score, stage, rule, field, value, reasons, "
                            "suggestion, record_json, other_record_json FROM review_items "
                            "WHERE run_id=? ORDER BY entity, kind, source, key, other_source, "
                            "other_key"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  ReviewItemRow row;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) break;
    auto text = [&st](int col) { return std::string(st.ColumnText(col)); };
    row.run_id = text(0);
    row.wave = static_cast<int>(st.ColumnInt64(1));
    v1::ReviewItem& it = row.item;
    it.set_entity(text(2));
    it.set_kind(text(3));
    it.set_source(text(4));
    it.set_key(text(5));
    it.set_other_source(text(6));
    it.set_other_key(text(7));
    it.set_cluster(text(8));
    it.set_score(sqlite3_column_double(st.raw(), 9));
    it.set_stage(text(10));
    it.set_rule(text(11));
    it.set_field(text(12));
    it.set_value(text(13));
    it.set_reasons(text(14));
    it.set_suggestion(text(15));
    it.set_record_json(text(16));
    it.set_other_record_json(text(17));
    fn(row);
  }
  return Status::Ok();
}

Status AuditStore::SaveRecordDecision(const std::string& plan, const v1::RecordDecision& d) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st,
      db_->Prepare("INSERT OR REPLACE INTO review_record_decisions VALUES(?,?,?,?,?,?,?,?,?)"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, plan));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, d.entity()));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, d.source()));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, d.key()));
  SLUICE_RETURN_IF_ERROR(st.Bind(5, d.decision()));
  SLUICE_RETURN_IF_ERROR(st.Bind(6, CorrectionsJson(d)));
  SLUICE_RETURN_IF_ERROR(st.Bind(7, d.steward()));
  SLUICE_RETURN_IF_ERROR(st.Bind(8, d.decided_ms()));
  SLUICE_RETURN_IF_ERROR(st.Bind(9, d.note()));
  return st.Run();
}

Status AuditStore::SavePairDecision(const std::string& plan, const v1::PairDecision& d) {
  // One row per unordered pair: the smaller (source, key) first.
  v1::PairDecision p = d;
  if (std::tie(p.other_source(), p.other_key()) < std::tie(p.source(), p.key())) {
    p.set_source(d.other_source());
    p.set_key(d.other_key());
    p.set_other_source(d.source());
    p.set_other_key(d.key());
  }
  SLUICE_ASSIGN_OR_RETURN(
      auto st,
      db_->Prepare("INSERT OR REPLACE INTO review_pair_decisions VALUES(?,?,?,?,?,?,?,?,?,?)"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, plan));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, p.entity()));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, p.source()));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, p.key()));
  SLUICE_RETURN_IF_ERROR(st.Bind(5, p.other_source()));
  SLUICE_RETURN_IF_ERROR(st.Bind(6, p.other_key()));
  SLUICE_RETURN_IF_ERROR(st.Bind(7, p.decision()));
  SLUICE_RETURN_IF_ERROR(st.Bind(8, p.steward()));
  SLUICE_RETURN_IF_ERROR(st.Bind(9, p.decided_ms()));
  SLUICE_RETURN_IF_ERROR(st.Bind(10, p.note()));
  return st.Run();
}

Result<v1::ReviewDecisions> AuditStore::ReviewDecisionsOf(const std::string& plan) {
  v1::ReviewDecisions out;
  SLUICE_ASSIGN_OR_RETURN(
      auto rs, db_->Prepare("SELECT entity, source, key, decision, corrections_json, steward, "
                            "decided_ms, note FROM review_record_decisions WHERE plan=? "
                            "ORDER BY entity, source, key"));
  SLUICE_RETURN_IF_ERROR(rs.Bind(1, plan));
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool more, rs.Step());
    if (!more) break;
    auto* d = out.add_records();
    d->set_entity(std::string(rs.ColumnText(0)));
    d->set_source(std::string(rs.ColumnText(1)));
    d->set_key(std::string(rs.ColumnText(2)));
    d->set_decision(std::string(rs.ColumnText(3)));
    ParseCorrections(rs.ColumnText(4), d);
    d->set_steward(std::string(rs.ColumnText(5)));
    d->set_decided_ms(rs.ColumnInt64(6));
    d->set_note(std::string(rs.ColumnText(7)));
  }
  SLUICE_ASSIGN_OR_RETURN(
      auto ps, db_->Prepare("SELECT entity, source, key, other_source, other_key, decision, "
                            "steward, decided_ms, note FROM review_pair_decisions WHERE plan=? "
                            "ORDER BY entity, source, key, other_source, other_key"));
  SLUICE_RETURN_IF_ERROR(ps.Bind(1, plan));
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool more, ps.Step());
    if (!more) break;
    auto* d = out.add_pairs();
    d->set_entity(std::string(ps.ColumnText(0)));
    d->set_source(std::string(ps.ColumnText(1)));
    d->set_key(std::string(ps.ColumnText(2)));
    d->set_other_source(std::string(ps.ColumnText(3)));
    d->set_other_key(std::string(ps.ColumnText(4)));
    d->set_decision(std::string(ps.ColumnText(5)));
    d->set_steward(std::string(ps.ColumnText(6)));
    d->set_decided_ms(ps.ColumnInt64(7));
    d->set_note(std::string(ps.ColumnText(8)));
  }
  return out;
}

}  // namespace sluice
