// Rows of an entity's table that no cross-reference entry owns (issue 17):
// written by something other than a load, or left by one that lost its
// entry. The reconciler reports each as UNEXPECTED_TARGET.
#include "common/connectors/sqlite/sqlite_target_impl.h"

namespace sluice::sqlite_target {

Status SqliteTarget::ScanRowsWithoutEntry(const Entity& entity,
                                          const std::function<void(const TargetRow&)>& fn) {
  SLUICE_RETURN_IF_ERROR(PrepareEntity(entity));
  const Schema schema = entity.ToSchema();
  std::string sql = "SELECT t.sluice_id";
  for (const auto& f : schema.fields) sql += ", t." + QuoteIdentifier(f.name);
  sql += " FROM " + QuoteIdentifier(entity.name) +
         // NOT IN over a subquery that does not depend on the row: SQLite
         // builds a transient index of the owned ids once, instead of
         // searching the cross-reference (keyed by source key, not by
         // target id) for every row.
         " t WHERE t.sluice_id NOT IN (SELECT target_id FROM sluice_xref WHERE entity = ?1"
         " AND kind <> 'merged') ORDER BY t.sluice_id";
  SLUICE_ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
  SLUICE_RETURN_IF_ERROR(s.Bind(1, entity.name));
  TargetRow row;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool more, s.Step());
    if (!more) break;
    row.target_id = s.ColumnInt64(0);
    row.values.assign(schema.fields.size(), Value::Null());
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      sqlite3_value* cell = sqlite3_column_value(s.raw(), static_cast<int>(i) + 1);
      if (sqlite3_value_type(cell) == SQLITE_NULL) continue;
      const FieldSpec& f = schema.fields[i];
      if (!IsIntegral(f.type)) {
        row.values[i] = Value::Str(std::string(CellText(cell)));
      } else if (sqlite3_value_type(cell) == SQLITE_INTEGER) {
        row.values[i] = Value::Int(sqlite3_value_int64(cell));
      } else if (auto parsed = ParseCanonical(f, CellText(cell)); parsed.ok()) {
        row.values[i] = *parsed;
      } else {
        // Not readable as its type: shown as it is stored.
        row.values[i] = Value::Str(std::string(CellText(cell)));
      }
    }
    fn(row);
  }
  return Status::Ok();
}

}  // namespace sluice::sqlite_target
