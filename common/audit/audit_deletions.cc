// Deletions at the source (issue 18, docs/delta.md): the keys the target
// holds for a source, as the audit store's fates of earlier runs tell it,
// and the deleted_at_source fates of a run.
#include <unordered_map>

#include "common/audit/audit_store.h"

namespace sluice {

Result<std::vector<std::string>> AuditStore::KnownKeys(const std::string& entity,
                                                       const std::string& source,
                                                       const std::string& run_id) {
  // A rolled-back run's rows are gone; a warning is no fate of its own.
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("SELECT f.key, f.kind, f.rule FROM all_fates AS f"
                                       " JOIN runs AS r ON r.run_id = f.run_id"
                                       " WHERE f.entity=?1 AND f.source=?2 AND f.run_id<>?3"
                                       " AND r.status<>'rolled_back' AND f.kind<>'warning'"
                                       " AND f.stage<>'steward'"
                                       " ORDER BY r.started_ms, f.seq, f.ord"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, entity));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, source));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, run_id));
  std::unordered_map<std::string, bool> held;  // key -> the target holds it after its latest fate
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    const std::string_view kind = st.ColumnText(1);
    const bool holds = kind == "loaded" || kind == "merged" ||
                       (kind == "deleted_at_source" && st.ColumnText(2) == "report");
    held[std::string(st.ColumnText(0))] = holds;
  }
  std::vector<std::string> out;
  for (auto& [key, holds] : held) {
    if (holds) out.push_back(key);
  }
  return out;
}

namespace {

// Of `keys`, those for which `st` finds a row, bound with the key as ?1 and
// `bound` as ?2, ?3, ...
Result<std::vector<std::string>> KeysFound(Statement& st, const std::vector<std::string>& bound,
                                           const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  for (const std::string& key : keys) {
    SLUICE_RETURN_IF_ERROR(st.Reset());
    SLUICE_RETURN_IF_ERROR(st.Bind(1, key));
    for (size_t i = 0; i < bound.size(); ++i) {
      SLUICE_RETURN_IF_ERROR(st.Bind(static_cast<int>(i) + 2, bound[i]));
    }
    SLUICE_ASSIGN_OR_RETURN(bool found, st.Step());
    if (found) out.push_back(key);
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> AuditStore::KeysWithFate(const std::string& run_id,
                                                          const std::string& entity,
                                                          const std::string& source,
                                                          const std::vector<std::string>& keys) {
  SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT 1 FROM all_fates WHERE key=?1 AND entity=?2"
                                                " AND source=?3 AND run_id=?4 LIMIT 1"));
  return KeysFound(st, {entity, source, run_id}, keys);
}

Result<std::vector<std::string>> AuditStore::SurvivorsAmong(const std::string& entity,
                                                            const std::string& source,
                                                            const std::vector<std::string>& keys) {
  // A survivor now: a member's latest fate (over the runs not rolled back,
  // this one included) merges it into the key. A member decided again since
  // (a run that deduplicated it without the key) no longer counts.
  SLUICE_ASSIGN_OR_RETURN(
      auto st,
      db_->Prepare(
          "SELECT 1 FROM fates AS f JOIN runs AS r ON r.run_id = f.run_id"
          " WHERE f.survivor_key=?1 AND f.entity=?2 AND f.kind='merged'"
          " AND f.survivor_source=?3 AND r.status<>'rolled_back'"
          " AND NOT EXISTS (SELECT 1 FROM fates AS g INDEXED BY fates_by_key"
          "  JOIN runs AS q ON q.run_id = g.run_id"
          "  WHERE g.entity=f.entity AND g.source=f.source AND g.key=f.key"
          "  AND q.status<>'rolled_back' AND g.kind<>'warning' AND g.stage<>'steward'"
          "  AND (q.started_ms > r.started_ms OR (g.run_id = f.run_id AND g.rowid > f.rowid)))"
          // A later load of the member alone is in a pack (audit_loaded.cc).
          " AND NOT EXISTS (SELECT 1 FROM loaded_keys AS k JOIN loaded_packs AS p ON p.pack = "
          "k.pack"
          "  JOIN runs AS q ON q.run_id = p.run_id"
          "  WHERE k.entity=f.entity AND k.source=f.source AND k.key=f.key"
          "  AND q.status<>'rolled_back'"
          "  AND (q.started_ms > r.started_ms OR (p.run_id = f.run_id AND p.after_fate >= "
          "f.rowid)))"
          " LIMIT 1"));
  return KeysFound(st, {entity, source}, keys);
}

Status AuditStore::ForEachDeletion(const std::string& run_id, const std::string& entity,
                                   const std::function<void(const FateRow&)>& fn) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT wave, entity, source, key, stage, rule, reason, target_id,"
                            " batch FROM fates WHERE run_id=?1 AND kind='deleted_at_source'"
                            " AND (?2='' OR entity=?2) ORDER BY entity, source, key"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, entity));
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    FateRow r;
    r.run_id = run_id;
    r.wave = static_cast<int>(st.ColumnInt64(0));
    r.entity = st.ColumnText(1);
    r.batch = st.ColumnText(8);
    r.fate.set_kind(v1::FATE_DELETED_AT_SOURCE);
    r.fate.set_source(std::string(st.ColumnText(2)));
    r.fate.set_key(std::string(st.ColumnText(3)));
    r.fate.set_stage(std::string(st.ColumnText(4)));
    r.fate.set_rule(std::string(st.ColumnText(5)));
    r.fate.set_reason(std::string(st.ColumnText(6)));
    r.fate.set_target_id(st.ColumnInt64(7));
    fn(r);
  }
  return Status::Ok();
}

}  // namespace sluice
