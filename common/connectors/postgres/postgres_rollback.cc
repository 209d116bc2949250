// Rollback of a run in the PostgreSQL target, from sluice.rollback (see
// postgres_load.cc for what Load records there).
#include "common/connectors/postgres/postgres_load.h"

namespace sluice {

Status RollbackRun(PgConn* conn, const PgEntity& e, const std::string& run_id) {
  const std::vector<std::string> params = {e.entity.name, run_id};
  const std::string of_run = " FROM sluice.rollback WHERE entity = $1 AND run_id = $2";
  // The ids the run inserted, as one multirange: `id <@` it is a binary
  // search per row (a list of a million ids made the planner probe the
  // index a million times: 7 s).
  const std::string inserted_ids =
      "(SELECT coalesce(range_agg(r), '{}') FROM sluice.rollback b, unnest(b.ids) r"
      " WHERE b.entity = $1 AND b.run_id = $2 AND b.op = 'insert')";
  // The earliest before-image of a row or an entry is its state before the
  // run; later ones were written by the run itself. Restoring those and
  // deleting what the run inserted is the reverse replay of the log, done
  // set-wise.
  if (!e.schema.fields.empty()) {
    std::string sets;
    for (size_t i = 0; i < e.schema.fields.size(); ++i) {
      const std::string col = PgQuoteIdent(e.schema.fields[i].name);
      sets += (i ? ", " : "") + col + " = r." + col;
    }
    SLUICE_RETURN_IF_ERROR(
        conn->Query("UPDATE " + e.table + " t SET " + sets +
                        " FROM (SELECT DISTINCT ON (target_id) target_id, before" + of_run +
                        " AND op = 'update' ORDER BY target_id, seq) b,"
                        " LATERAL jsonb_populate_record(NULL::" +
                        e.table + ", b.before) r WHERE t.sluice_id = b.target_id",
                    params)
            .status());
  }
  SLUICE_RETURN_IF_ERROR(
      conn->Query("DELETE FROM " + e.table + " WHERE sluice_id <@ " + inserted_ids, params)
          .status());
  // Rows the run retired (issue 23: records merged, rejected or held later)
  // come back from their before-images.
  SLUICE_RETURN_IF_ERROR(conn->Query("INSERT INTO " + e.table +
                                         " SELECT r.* FROM (SELECT DISTINCT ON (target_id)"
                                         " target_id, before" +
                                         of_run +
                                         " AND op = 'delete' ORDER BY target_id, seq) b,"
                                         " LATERAL jsonb_populate_record(NULL::" +
                                         e.table +
                                         ", b.before) r ON CONFLICT (sluice_id) DO NOTHING",
                                     params)
                             .status());
  // Entries pointing at deleted rows were created by the run (those it
  // changed come back from their before-images below).
  SLUICE_RETURN_IF_ERROR(
      conn->Query("DELETE FROM sluice.xref WHERE entity = $1 AND target_id <@ " + inserted_ids,
                  params)
          .status());
  const std::string first_images =
      "(SELECT DISTINCT ON (before->>'source', before->>'key') op, before" + of_run +
      " AND op IN ('xref_update', 'xref_insert')"
      " ORDER BY before->>'source', before->>'key', seq) f";
  SLUICE_RETURN_IF_ERROR(
      conn->Query("DELETE FROM sluice.xref x USING " + first_images +
                      " WHERE f.op = 'xref_insert' AND x.entity = $1"
                      " AND x.source = f.before->>'source' AND x.key = f.before->>'key'",
                  params)
          .status());
  SLUICE_RETURN_IF_ERROR(
      conn->Query("INSERT INTO sluice.xref AS x SELECT r.* FROM " + first_images +
                      ", LATERAL jsonb_populate_record(NULL::sluice.xref, f.before) r"
                      " WHERE f.op = 'xref_update' ON CONFLICT (entity, source, key) DO UPDATE"
                      " SET target_id = excluded.target_id, content_hash = excluded.content_hash,"
                      " kind = excluded.kind, run_id = excluded.run_id",
                  params)
          .status());
  SLUICE_RETURN_IF_ERROR(
      conn->Query("DELETE FROM sluice.batches WHERE entity = $1 AND run_id = $2", params).status());
  return conn->Query("DELETE" + of_run, params).status();
}

}  // namespace sluice
