// Deletions at the source (issue 18, docs/delta.md): the keys the target
// holds for a source, as the audit store's fates of earlier runs tell it,
// and the deleted_at_source fates of a run.
#include <functional>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "common/audit/audit_store.h"

namespace sluice {

Result<std::vector<std::string>> AuditStore::KnownKeys(const std::string& entity,
                                                       const std::string& source,
                                                       const std::string& run_id) {
  // Each key's latest fate over the runs not rolled back (a rolled-back
  // run's rows are gone), this one left out; a warning or a steward's
  // decision is no fate of its own. Read from `fates` and the loaded packs
  // apart, each by its key index, and the latest kept per key here: through
  // the `all_fates` view with an ORDER BY, SQLite materialised the view and
  // sorted every fate of the source, seconds at 1M keys in the coordinator's
  // loop (a --full re-run of 1M rows halted on "coordinator silent").
  struct Latest {
    int64_t started = 0, seq = 0, ord = 0;  // the all_fates order: run, seq, ord
    bool holds = false;                     // the target holds the key after this fate
    bool After(const Latest& o) const {
      return std::tie(started, seq, ord) > std::tie(o.started, o.seq, o.ord);
    }
  };
  // The `fates` rows by key (few: a delta's, a review's), looked up by the
  // loaded keys without copying them (a transparent hash).
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, Latest, Hash, std::equal_to<>> latest;
  SLUICE_ASSIGN_OR_RETURN(auto rows,
                          db_->Prepare("SELECT f.key, f.kind, f.rule, r.started_ms, f.rowid"
                                       " FROM fates AS f"
                                       " JOIN runs AS r ON r.run_id = f.run_id"
                                       " WHERE f.entity=?1 AND f.source=?2 AND f.run_id<>?3"
                                       " AND r.status<>'rolled_back' AND f.kind<>'warning'"
                                       " AND f.stage<>'steward'"));
  SLUICE_RETURN_IF_ERROR(rows.Bind(1, entity));
  SLUICE_RETURN_IF_ERROR(rows.Bind(2, source));
  SLUICE_RETURN_IF_ERROR(rows.Bind(3, run_id));
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    const std::string_view kind = rows.ColumnText(1);
    const bool holds = kind == "loaded" || kind == "merged" ||
                       (kind == "deleted_at_source" && rows.ColumnText(2) == "report");
    const Latest fate{rows.ColumnInt64(3), 2 * rows.ColumnInt64(4), 0, holds};
    auto [it, fresh] = latest.try_emplace(std::string(rows.ColumnText(0)), fate);
    if (!fresh && fate.After(it->second)) it->second = fate;
  }
  std::vector<std::string> out;
  if (packed_) {
    // Loaded fates packed per batch come after the fates rows before them
    // (all_fates: seq 2 * after_fate + 1, then their order in the pack).
    // The entity's packs first (a few thousand), then its keys in the order
    // of the loaded_keys key index, a key's packs side by side: no join of
    // each key to its pack and run (two index searches a key) and no map of
    // every key (most of a 1M delta run's coordinator time).
    struct Pack {
      int64_t started = 0, seq = 0;
    };
    std::unordered_map<int64_t, Pack> packs;
    int64_t fates = 0;
    SLUICE_ASSIGN_OR_RETURN(
        auto pack_rows, db_->Prepare("SELECT p.pack, r.started_ms, p.after_fate, p.fates"
                                     " FROM loaded_packs AS p JOIN runs AS r ON r.run_id = p.run_id"
                                     " WHERE p.entity=?1 AND p.run_id<>?2"
                                     " AND r.status<>'rolled_back'"));
    SLUICE_RETURN_IF_ERROR(pack_rows.Bind(1, entity));
    SLUICE_RETURN_IF_ERROR(pack_rows.Bind(2, run_id));
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, pack_rows.Step());
      if (!row) break;
      packs[pack_rows.ColumnInt64(0)] = {pack_rows.ColumnInt64(1),
                                         2 * pack_rows.ColumnInt64(2) + 1};
      fates += pack_rows.ColumnInt64(3);
    }
    out.reserve(static_cast<size_t>(fates));
    SLUICE_ASSIGN_OR_RETURN(auto loaded,
                            db_->Prepare("SELECT key, pack, ord FROM loaded_keys"
                                         " WHERE entity=?1 AND source=?2 ORDER BY key"));
    SLUICE_RETURN_IF_ERROR(loaded.Bind(1, entity));
    SLUICE_RETURN_IF_ERROR(loaded.Bind(2, source));
    std::string key;  // the key whose packed fates are being read
    Latest best;
    bool any = false;
    auto settle = [&]() {  // `key`'s latest fate, its `fates` rows included
      if (!any) return;
      auto it = latest.find(std::string_view(key));
      if (it != latest.end()) {
        if (it->second.After(best)) best = it->second;
        latest.erase(it);
      }
      if (best.holds) out.push_back(key);
    };
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, loaded.Step());
      if (!row) break;
      auto pack = packs.find(loaded.ColumnInt64(1));
      if (pack == packs.end()) continue;  // this run's, or a rolled-back run's
      const Latest fate{pack->second.started, pack->second.seq, loaded.ColumnInt64(2), true};
      const std::string_view k = loaded.ColumnText(0);
      if (any && k == key) {
        if (fate.After(best)) best = fate;
        continue;
      }
      settle();
      key.assign(k);
      best = fate;
      any = true;
    }
    settle();
  }
  for (const auto& [k, fate] : latest) {
    if (fate.holds) out.push_back(k);
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
