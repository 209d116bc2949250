#include "common/audit/key_hints.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace sluice {
namespace {

// The tables that hold fates' keys: `fates`, and `loaded_keys` in a store
// that packs LOADED fates (issue 20, audit_loaded.cc). Both are indexed on
// (entity, source, key).
Result<std::vector<std::string>> KeyTables(SqliteDb& db) {
  SLUICE_ASSIGN_OR_RETURN(auto st,
                          db.Prepare("SELECT 1 FROM sqlite_master WHERE name='loaded_keys'"));
  SLUICE_ASSIGN_OR_RETURN(bool packed, st.Step());
  if (packed) return std::vector<std::string>{"fates", "loaded_keys"};
  return std::vector<std::string>{"fates"};
}

std::string In(const char* sql, const std::string& table) {
  std::string out(sql);
  out.replace(out.find("$T"), 2, table);
  return out;
}

// The distinct values of a column, one index seek each per table: `sql`
// (its table written $T) selects the smallest value after ?1, among the
// fates of entity ?2 when `entity` is given. At most 50, in order.
Result<std::vector<std::string>> DistinctBySeek(SqliteDb& db,
                                                const std::vector<std::string>& tables,
                                                const char* sql,
                                                const std::optional<std::string>& entity) {
  std::set<std::string> found;
  for (const std::string& table : tables) {
    SLUICE_ASSIGN_OR_RETURN(auto st, db.Prepare(In(sql, table)));
    std::string last;
    for (int i = 0; i < 50; ++i) {
      SLUICE_RETURN_IF_ERROR(st.Reset());
      SLUICE_RETURN_IF_ERROR(st.Bind(1, last));
      if (entity) SLUICE_RETURN_IF_ERROR(st.Bind(2, *entity));
      SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      last = std::string(st.ColumnText(0));
      found.insert(last);
    }
  }
  std::vector<std::string> out(found.begin(), found.end());
  if (out.size() > 50) out.resize(50);
  return out;
}

// The key next to `key` on one side, over every table: `before` the
// greatest below it, else the least above it.
Result<std::optional<std::string>> Neighbour(SqliteDb& db, const std::vector<std::string>& tables,
                                             bool before, const std::string& entity,
                                             const std::string& source, const std::string& key) {
  std::optional<std::string> best;
  for (const std::string& table : tables) {
    SLUICE_ASSIGN_OR_RETURN(
        auto st, db.Prepare(In(before ? "SELECT key FROM $T WHERE entity=? AND source=? AND key<?"
                                        " ORDER BY key DESC LIMIT 1"
                                      : "SELECT key FROM $T WHERE entity=? AND source=? AND key>?"
                                        " ORDER BY key LIMIT 1",
                               table)));
    SLUICE_RETURN_IF_ERROR(st.Bind(1, entity));
    SLUICE_RETURN_IF_ERROR(st.Bind(2, source));
    SLUICE_RETURN_IF_ERROR(st.Bind(3, key));
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) continue;
    std::string found(st.ColumnText(0));
    if (!best || (before ? found > *best : found < *best)) best = std::move(found);
  }
  return best;
}

}  // namespace

Result<KeyHints> KeyHintsOf(SqliteDb& db, const std::string& entity, const std::string& source,
                            const std::string& key) {
  KeyHints hints;
  SLUICE_ASSIGN_OR_RETURN(auto tables, KeyTables(db));
  SLUICE_ASSIGN_OR_RETURN(
      auto sources,
      DistinctBySeek(db, tables,
                     "SELECT source FROM $T WHERE source>?1 AND entity=?2 ORDER BY source LIMIT 1",
                     entity));
  if (sources.empty()) {
    SLUICE_ASSIGN_OR_RETURN(
        hints.entities,
        DistinctBySeek(db, tables, "SELECT entity FROM $T WHERE entity>?1 ORDER BY entity LIMIT 1",
                       std::nullopt));
    return hints;
  }
  if (std::find(sources.begin(), sources.end(), source) == sources.end()) {
    hints.sources = std::move(sources);
    return hints;
  }
  SLUICE_ASSIGN_OR_RETURN(hints.before, Neighbour(db, tables, true, entity, source, key));
  SLUICE_ASSIGN_OR_RETURN(hints.after, Neighbour(db, tables, false, entity, source, key));
  int64_t number = 0;
  auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), number);
  if (ec != std::errc() || end != key.data() + key.size() || number <= 0) number = -1;
  std::string fates =
      "SELECT run_id, entity, source, key, kind, target_id, line, 2 * rowid AS seq, 0 AS ord"
      " FROM fates";
  if (tables.size() > 1) {
    fates +=
        " UNION ALL SELECT p.run_id, k.entity, k.source, k.key, 'loaded', k.target_id, k.line,"
        " 2 * p.after_fate + 1, k.ord FROM loaded_keys AS k JOIN loaded_packs AS p"
        " ON p.pack = k.pack";
  }
  SLUICE_ASSIGN_OR_RETURN(
      auto st,
      db.Prepare("SELECT run_id, key, kind, target_id, line, lower(trim(key))<>lower(trim(?3)) "
                 "FROM (" +
                 fates +
                 ") WHERE entity=?1 AND source=?2 AND (lower(trim(key))=lower(trim(?3))"
                 " OR target_id=?4 OR line=?4) ORDER BY seq, ord LIMIT 5"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, entity));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, source));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, key));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, number));
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    KeyLookalike k;
    k.run_id = std::string(st.ColumnText(0));
    k.key = std::string(st.ColumnText(1));
    k.kind = std::string(st.ColumnText(2));
    k.target_id = st.ColumnInt64(3);
    k.line = static_cast<uint64_t>(st.ColumnInt64(4));
    k.by_number = st.ColumnInt64(5) != 0;
    hints.lookalikes.push_back(std::move(k));
  }
  return hints;
}

}  // namespace sluice
