#include "common/audit/key_hints.h"

#include <algorithm>
#include <charconv>

namespace sluice {
namespace {

// The distinct values of a column, one index seek each (fates_by_key is
// (entity, source, key)): `sql` selects the smallest value after ?1, among
// the fates of entity ?2 when `entity` is given.
Result<std::vector<std::string>> DistinctBySeek(SqliteDb& db, const char* sql,
                                                const std::optional<std::string>& entity) {
  SLUICE_ASSIGN_OR_RETURN(auto st, db.Prepare(sql));
  std::vector<std::string> out;
  std::string last;
  for (int i = 0; i < 50; ++i) {
    SLUICE_RETURN_IF_ERROR(st.Reset());
    SLUICE_RETURN_IF_ERROR(st.Bind(1, last));
    if (entity) SLUICE_RETURN_IF_ERROR(st.Bind(2, *entity));
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    last = std::string(st.ColumnText(0));
    out.push_back(last);
  }
  return out;
}

Result<std::optional<std::string>> Neighbour(SqliteDb& db, const char* sql,
                                             const std::string& entity, const std::string& source,
                                             const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto st, db.Prepare(sql));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, entity));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, source));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, key));
  SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(std::string(st.ColumnText(0)));
}

}  // namespace

Result<KeyHints> KeyHintsOf(SqliteDb& db, const std::string& entity, const std::string& source,
                            const std::string& key) {
  KeyHints hints;
  SLUICE_ASSIGN_OR_RETURN(auto sources,
                          DistinctBySeek(db,
                                         "SELECT source FROM fates WHERE source>?1 AND entity=?2 "
                                         "ORDER BY source LIMIT 1",
                                         entity));
  if (sources.empty()) {
    SLUICE_ASSIGN_OR_RETURN(
        hints.entities,
        DistinctBySeek(db, "SELECT entity FROM fates WHERE entity>?1 ORDER BY entity LIMIT 1",
                       std::nullopt));
    return hints;
  }
  if (std::find(sources.begin(), sources.end(), source) == sources.end()) {
    hints.sources = std::move(sources);
    return hints;
  }
  SLUICE_ASSIGN_OR_RETURN(hints.before, Neighbour(db,
                                                  "SELECT key FROM fates WHERE entity=? AND "
                                                  "source=? AND key<? ORDER BY key DESC LIMIT 1",
                                                  entity, source, key));
  SLUICE_ASSIGN_OR_RETURN(hints.after, Neighbour(db,
                                                 "SELECT key FROM fates WHERE entity=? AND "
                                                 "source=? AND key>? ORDER BY key LIMIT 1",
                                                 entity, source, key));
  int64_t number = 0;
  auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), number);
  if (ec != std::errc() || end != key.data() + key.size() || number <= 0) number = -1;
  SLUICE_ASSIGN_OR_RETURN(
      auto st,
      db.Prepare("SELECT run_id, key, kind, target_id, line, lower(trim(key))<>lower(trim(?3)) "
                 "FROM fates WHERE entity=?1 AND source=?2 AND (lower(trim(key))=lower(trim(?3))"
                 " OR target_id=?4 OR line=?4) ORDER BY rowid LIMIT 5"));
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
