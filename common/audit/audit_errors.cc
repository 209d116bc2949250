// The error log: every failure of a run (rejected, held for review, warned)
// as stored in the fates table, read back whole. docs/validation.md.
#include "common/audit/audit_store.h"

namespace sluice {
namespace {

v1::FateKind KindFrom(std::string_view s) {
  if (s == "rejected") return v1::FATE_REJECTED;
  if (s == "review") return v1::FATE_REVIEW;
  if (s == "warning") return v1::FATE_WARNING;
  return v1::FATE_UNSPECIFIED;
}

// Steward decisions are recorded as fates of stage "steward" for the trace;
// they are not failures. The kind test is the WHERE term of the partial
// index fates_failed (audit_review.cc), written identically so that SQLite
// uses that index.
constexpr const char* kFailures =
    " (kind = 'rejected' OR kind = 'review' OR kind = 'warning') AND stage <> 'steward'";

}  // namespace

Status AuditStore::ForEachError(const std::string& run_id, const std::string& rule,
                                const std::string& entity,
                                const std::function<void(const FateRow&)>& fn) {
  std::string sql =
      "SELECT run_id, wave, entity, source, key, kind, stage, rule, field, value, reason, "
      "suggestion, line, batch FROM fates WHERE run_id=? AND" +
      std::string(kFailures);
  if (!rule.empty()) sql += " AND rule=?";
  if (!entity.empty()) sql += " AND entity=?";
  sql += " ORDER BY entity, source, key, rowid";
  SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare(sql));
  int idx = 1;
  SLUICE_RETURN_IF_ERROR(st.Bind(idx++, run_id));
  if (!rule.empty()) SLUICE_RETURN_IF_ERROR(st.Bind(idx++, rule));
  if (!entity.empty()) SLUICE_RETURN_IF_ERROR(st.Bind(idx++, entity));
  FateRow row;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) break;
    auto text = [&st](int col) { return std::string(st.ColumnText(col)); };
    row.run_id = text(0);
    row.wave = static_cast<int>(st.ColumnInt64(1));
    row.entity = text(2);
    v1::Fate& f = row.fate;
    f.set_source(text(3));
    f.set_key(text(4));
    f.set_kind(KindFrom(st.ColumnText(5)));
    f.set_stage(text(6));
    f.set_rule(text(7));
    f.set_field(text(8));
    f.set_value(text(9));
    f.set_reason(text(10));
    f.set_suggestion(text(11));
    f.set_line(static_cast<uint64_t>(st.ColumnInt64(12)));
    row.batch = text(13);
    fn(row);
  }
  return Status::Ok();
}

Result<std::vector<ErrorCount>> AuditStore::ErrorCounts(const std::string& run_id) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT entity, rule, kind, count(*) FROM fates WHERE run_id=? AND" +
                            std::string(kFailures) +
                            " GROUP BY entity, rule, kind ORDER BY entity, rule, kind"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  std::vector<ErrorCount> out;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) break;
    ErrorCount c;
    c.entity = std::string(st.ColumnText(0));
    c.rule = std::string(st.ColumnText(1));
    c.kind = std::string(st.ColumnText(2));
    c.count = static_cast<uint64_t>(st.ColumnInt64(3));
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<RuleFailures>> AuditStore::FailuresByRule(const std::string& run_id, int wave,
                                                             size_t examples) {
  // `+wave` (and `+entity` below) keep SQLite off fates_by_run, which holds
  // every fate of the run, and on the partial index of failures.
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT entity, rule, kind, count(*) FROM fates WHERE run_id=? AND "
                            "+wave=? AND" +
                            std::string(kFailures) +
                            " GROUP BY entity, rule, kind ORDER BY count(*) DESC, entity, rule"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  std::vector<RuleFailures> out;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) break;
    RuleFailures r;
    r.count.entity = std::string(st.ColumnText(0));
    r.count.rule = std::string(st.ColumnText(1));
    r.count.kind = std::string(st.ColumnText(2));
    r.count.count = static_cast<uint64_t>(st.ColumnInt64(3));
    out.push_back(std::move(r));
  }
  SLUICE_ASSIGN_OR_RETURN(
      auto ex, db_->Prepare("SELECT source, key, field, value, reason, suggestion, stage FROM "
                            "fates WHERE run_id=? AND +wave=? AND +entity=? AND rule=? AND kind=? "
                            "AND" +
                            std::string(kFailures) + " ORDER BY source, key LIMIT ?"));
  for (auto& r : out) {
    SLUICE_RETURN_IF_ERROR(ex.Reset());
    SLUICE_RETURN_IF_ERROR(ex.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(ex.Bind(2, wave));
    SLUICE_RETURN_IF_ERROR(ex.Bind(3, r.count.entity));
    SLUICE_RETURN_IF_ERROR(ex.Bind(4, r.count.rule));
    SLUICE_RETURN_IF_ERROR(ex.Bind(5, r.count.kind));
    SLUICE_RETURN_IF_ERROR(ex.Bind(6, static_cast<int64_t>(examples)));
    for (;;) {
      SLUICE_ASSIGN_OR_RETURN(bool more, ex.Step());
      if (!more) break;
      v1::Fate f;
      f.set_kind(KindFrom(r.count.kind));
      f.set_source(std::string(ex.ColumnText(0)));
      f.set_key(std::string(ex.ColumnText(1)));
      f.set_field(std::string(ex.ColumnText(2)));
      f.set_value(std::string(ex.ColumnText(3)));
      f.set_reason(std::string(ex.ColumnText(4)));
      f.set_suggestion(std::string(ex.ColumnText(5)));
      f.set_stage(std::string(ex.ColumnText(6)));
      f.set_rule(r.count.rule);
      r.examples.push_back(std::move(f));
    }
  }
  return out;
}

}  // namespace sluice
