// The PostgreSQL target's soft deletion of the rows of records deleted at
// their source (issue 18, docs/delta.md): the row stays and its
// `soft_delete` field says when the source lost it. Parity with
// common/connectors/sqlite/sqlite_target_soft_delete.cc.
#include "common/connectors/postgres/postgres_load.h"

namespace sluice {

Result<std::vector<RetiredRow>> SoftDeletePgRows(PgConn* conn, const PgEntity& e,
                                                 const std::string& run_id,
                                                 const std::string& field,
                                                 const std::vector<SourceKey>& keys,
                                                 const std::string& at) {
  std::vector<RetiredRow> out;
  if (keys.empty()) return out;
  SLUICE_RETURN_IF_ERROR(StagePgKeys(conn, keys));
  const std::string column = PgQuoteIdent(field);
  // Own rows (an entry of kind loaded) not marked yet.
  const std::string open =
      " pg_temp.sluice_keys k JOIN sluice.xref x ON x.entity = $1 AND x.source = k.source"
      " AND x.key = k.key JOIN " +
      e.table + " t ON t.sluice_id = x.target_id WHERE x.kind = 'loaded' AND t." + column +
      " IS NULL";
  const std::vector<std::string> params = {e.entity.name, run_id};
  // Before-images: the entry (its hash is cleared), then the row.
  SLUICE_RETURN_IF_ERROR(conn->Query("INSERT INTO sluice.rollback(run_id, entity, target_id, op,"
                                     " before) SELECT $2, $1, x.target_id, 'xref_update',"
                                     " to_jsonb(x) FROM" +
                                         open,
                                     params)
                             .status());
  SLUICE_RETURN_IF_ERROR(conn->Query("INSERT INTO sluice.rollback(run_id, entity, target_id, op,"
                                     " before) SELECT $2, $1, t.sluice_id, 'update', to_jsonb(t)"
                                     " FROM" +
                                         open,
                                     params)
                             .status());
  // A record that comes back at its source differs from the cleared hash:
  // it is written again, the field with it.
  SLUICE_RETURN_IF_ERROR(conn->Query("UPDATE sluice.xref u SET content_hash = 0 FROM (SELECT"
                                     " x.source, x.key FROM" +
                                         open +
                                         ") m WHERE u.entity = $1 AND u.source = m.source"
                                         " AND u.key = m.key",
                                     {e.entity.name})
                             .status());
  SLUICE_ASSIGN_OR_RETURN(
      PgResult marked,
      conn->Query("UPDATE " + e.table + " d SET " + column +
                      " = $2 FROM (SELECT x.source, x.key,"
                      " t.sluice_id FROM" +
                      open +
                      ") m WHERE d.sluice_id = m.sluice_id RETURNING m.source, m.key,"
                      " m.sluice_id",
                  {e.entity.name, at}));
  for (int r = 0; r < marked.rows(); ++r) {
    out.push_back(
        {std::string(marked.Text(r, 0)), std::string(marked.Text(r, 1)), marked.Int(r, 2)});
  }
  return out;
}

}  // namespace sluice
