#include "common/connectors/postgres/postgres_xref.h"

#include <algorithm>
#include <map>

namespace sluice {

namespace {

// `keys` as a PostgreSQL text[] literal: {"a","b"} with " and \ escaped.
std::string TextArray(const std::vector<std::string>& keys) {
  std::string out = "{";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : keys[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

Result<std::vector<int64_t>> ResolvePgXrefKeys(PgConn* conn, const std::string& entity,
                                               const std::string& source,
                                               const std::vector<std::string>& keys) {
  std::vector<int64_t> ids(keys.size(), 0);
  if (keys.empty()) return ids;
  SLUICE_ASSIGN_OR_RETURN(PgResult r,
                          conn->Query("SELECT key, target_id FROM sluice.xref WHERE entity = $1"
                                      " AND source = $2 AND key = ANY($3::text[])",
                                      {entity, source, TextArray(keys)}));
  std::map<std::string_view, int64_t> found;
  for (int row = 0; row < r.rows(); ++row) found[r.Text(row, 0)] = r.Int(row, 1);
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = found.find(keys[i]);
    if (it != found.end()) ids[i] = it->second;
  }
  return ids;
}

Result<std::vector<TargetEntry>> LookupPgXrefEntries(PgConn* conn, const std::string& table,
                                                     const std::string& entity,
                                                     const std::vector<SourceKey>& keys) {
  std::map<std::string, std::vector<std::string>> by_source;
  for (const SourceKey& k : keys) by_source[k.source].push_back(k.key);
  std::vector<TargetEntry> out;
  constexpr size_t kKeysPerQuery = 10000;
  for (const auto& [source, all] : by_source) {
    for (size_t from = 0; from < all.size(); from += kKeysPerQuery) {
      const std::vector<std::string> part(all.begin() + from,
                                          all.begin() + std::min(all.size(), from + kKeysPerQuery));
      SLUICE_ASSIGN_OR_RETURN(
          PgResult r, conn->Query("SELECT x.key, x.target_id, x.kind, t.sluice_id IS NOT NULL"
                                  " FROM sluice.xref x LEFT JOIN " +
                                      table +
                                      " t ON t.sluice_id = x.target_id WHERE x.entity = $1"
                                      " AND x.source = $2 AND x.key = ANY($3::text[])",
                                  {entity, source, TextArray(part)}));
      for (int row = 0; row < r.rows(); ++row) {
        out.push_back({source, std::string(r.Text(row, 0)), r.Int(row, 1),
                       r.Text(row, 2) == "merged", r.Text(row, 3) == "t"});
      }
    }
  }
  return out;
}

Result<uint64_t> CountPgAppliedBatches(PgConn* conn, const std::string& run_id,
                                       const std::string& prefix) {
  // starts_with, not a range: text ordering follows the database collation.
  SLUICE_ASSIGN_OR_RETURN(PgResult r,
                          conn->Query("SELECT count(*) FROM sluice.batches WHERE run_id = $1"
                                      " AND starts_with(batch, $2)",
                                      {run_id, prefix}));
  return r.rows() > 0 ? static_cast<uint64_t>(r.Int(0, 0)) : 0;
}

}  // namespace sluice
