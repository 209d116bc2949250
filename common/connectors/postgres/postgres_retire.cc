// The PostgreSQL target's side of "a stale row cannot outlive its fate"
// (issue 23; docs/review.md): rows of records an earlier run loaded that a
// later run merges, rejects or holds are removed with their before-images
// kept in sluice.rollback (op 'delete'), and the table's rows are counted
// for the reconciler. Parity with common/connectors/sqlite/.
#include "common/connectors/postgres/postgres_load.h"

namespace sluice {

namespace {

// A row of its own, in sluice.xref, of a key of `keys` (a table of source,
// key[, target_id]) aliased k: "x" joined to "t", the entity's row.
//
// Each key probes sluice.xref by its primary key (the LATERAL subquery, kept
// from being flattened by OFFSET 0). Joined plainly, the planner of a first
// load, whose statistics still took sluice.xref for a few rows, walked the
// entity's whole part of it and compared every entry with every key: each
// batch slower than the last (120 ms to 830 ms a statement at 200,000 rows).
std::string OwnRowsOf(const PgEntity& e, const std::string& keys, const std::string& also) {
  return keys +
         " k CROSS JOIN LATERAL (SELECT * FROM sluice.xref x WHERE x.entity = $1 AND"
         " x.source = k.source AND x.key = k.key AND x.kind = 'loaded' OFFSET 0) x JOIN " +
         e.table + " t ON t.sluice_id = x.target_id WHERE TRUE" + also;
}

// The rows of e.referrers whose reference names one of `rows` (OwnRowsOf,
// with the survivor's id in k.target_id) name the survivor's row instead,
// each before-image kept (op 'update', under the referring entity).
Status MoveReferences(PgConn* conn, const PgEntity& e, const std::string& run_id,
                      const std::string& rows) {
  if (e.referrers.empty()) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(PgResult retiring,
                          conn->Query("SELECT count(*) FROM " + rows, {e.entity.name}));
  if (retiring.rows() == 0 || retiring.Int(0, 0) == 0) return Status::Ok();
  // References are the text of a row id (PgColumnType).
  const std::string moves =
      "(SELECT t.sluice_id::text AS old_id, k.target_id::text AS new_id FROM " + rows + ") m";
  for (const auto& [child, field] : e.referrers) {
    const std::string table = e.db_schema + "." + PgQuoteIdent(child);
    const std::string column = PgQuoteIdent(field);
    SLUICE_RETURN_IF_ERROR(conn->Query("INSERT INTO sluice.rollback(run_id, entity, target_id,"
                                       " op, before) SELECT $2, $3, c.sluice_id, 'update',"
                                       " to_jsonb(c) FROM " +
                                           table + " c JOIN " + moves + " ON c." + column +
                                           " = m.old_id",
                                       {e.entity.name, run_id, child})
                               .status());
    SLUICE_RETURN_IF_ERROR(conn->Query("UPDATE " + table + " c SET " + column +
                                           " = m.new_id FROM " + moves + " WHERE c." + column +
                                           " = m.old_id",
                                       {e.entity.name})
                               .status());
  }
  return Status::Ok();
}

}  // namespace

Status RetireMergedRows(PgConn* conn, const PgEntity& e, const std::string& run_id,
                        const std::string& merged) {
  const std::vector<std::string> params = {e.entity.name, run_id};
  // Not the survivor's own row (a key merged into the row it already has).
  const std::string rows = OwnRowsOf(e, merged, " AND x.target_id <> k.target_id");
  // Before the rows go, the references to them move to the survivors' rows.
  SLUICE_RETURN_IF_ERROR(MoveReferences(conn, e, run_id, rows));
  SLUICE_RETURN_IF_ERROR(conn->Query("INSERT INTO sluice.rollback(run_id, entity, target_id, op,"
                                     " before) SELECT $2, $1, t.sluice_id, 'delete', to_jsonb(t)"
                                     " FROM " +
                                         rows,
                                     params)
                             .status());
  return conn
      ->Query("DELETE FROM " + e.table + " d USING (SELECT t.sluice_id FROM " + rows +
                  ") r WHERE d.sluice_id = r.sluice_id",
              {e.entity.name})
      .status();
}

Status StagePgKeys(PgConn* conn, const std::vector<SourceKey>& keys) {
  std::string rows;
  for (size_t i = 0; i < keys.size(); ++i) {
    rows += std::to_string(i) + '\t';
    AppendCopyText(keys[i].source, &rows);
    rows += '\t';
    AppendCopyText(keys[i].key, &rows);
    rows += '\n';
  }
  return conn->CopyIn("COPY pg_temp.sluice_keys FROM STDIN", rows);
}

Result<std::vector<RetiredRow>> RetirePgRows(PgConn* conn, const PgEntity& e,
                                             const std::string& run_id,
                                             const std::vector<SourceKey>& keys) {
  std::vector<RetiredRow> out;
  if (keys.empty()) return out;
  SLUICE_RETURN_IF_ERROR(StagePgKeys(conn, keys));
  const std::vector<std::string> params = {e.entity.name, run_id};
  const std::string own = OwnRowsOf(e, "pg_temp.sluice_keys", "");
  // Before-images: the entry, then the row (rollback restores both).
  SLUICE_RETURN_IF_ERROR(
      conn->Query("INSERT INTO sluice.rollback(run_id, entity, target_id, op, before)"
                  " SELECT $2, $1, x.target_id, 'xref_update', to_jsonb(x) FROM"
                  " pg_temp.sluice_keys k JOIN sluice.xref x ON x.entity = $1 AND"
                  " x.source = k.source AND x.key = k.key",
                  params)
          .status());
  SLUICE_RETURN_IF_ERROR(conn->Query("INSERT INTO sluice.rollback(run_id, entity, target_id, op,"
                                     " before) SELECT $2, $1, t.sluice_id, 'delete', to_jsonb(t)"
                                     " FROM " +
                                         own,
                                     params)
                             .status());
  SLUICE_RETURN_IF_ERROR(conn->Query("DELETE FROM " + e.table +
                                         " d USING (SELECT t.sluice_id FROM " + own +
                                         ") r WHERE d.sluice_id = r.sluice_id",
                                     {e.entity.name})
                             .status());
  SLUICE_ASSIGN_OR_RETURN(
      PgResult gone,
      conn->Query("DELETE FROM sluice.xref x USING pg_temp.sluice_keys k WHERE x.entity = $1"
                  " AND x.source = k.source AND x.key = k.key AND x.kind = 'loaded'"
                  " RETURNING x.source, x.key, x.target_id",
                  {e.entity.name}));
  for (int r = 0; r < gone.rows(); ++r) {
    out.push_back({std::string(gone.Text(r, 0)), std::string(gone.Text(r, 1)), gone.Int(r, 2)});
  }
  // A merged entry points at its survivor's row, which stays (the survivor's
  // own fate decides it): only the entry goes (its before-image is above), so
  // that the record is no longer said to be in that row. No row is retired.
  SLUICE_RETURN_IF_ERROR(
      conn->Query("DELETE FROM sluice.xref x USING pg_temp.sluice_keys k WHERE x.entity = $1"
                  " AND x.source = k.source AND x.key = k.key AND x.kind <> 'loaded'",
                  {e.entity.name})
          .status());
  return out;
}

Result<uint64_t> CountPgRows(PgConn* conn, const PgEntity& e) {
  SLUICE_ASSIGN_OR_RETURN(PgResult r, conn->Query("SELECT count(*) FROM " + e.table, {}));
  return static_cast<uint64_t>(r.Int(0, 0));
}

}  // namespace sluice
