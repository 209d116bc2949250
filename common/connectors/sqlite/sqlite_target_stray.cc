// Rows of an entity's table that no cross-reference entry owns (issue 17):
// written by something other than a load, or left by one that lost its
// entry. The reconciler reports each as UNEXPECTED_TARGET.
#include <vector>

#include "common/connectors/sqlite/sqlite_target_impl.h"
#include "common/core/target_ids.h"

namespace sluice::sqlite_target {

Status SqliteTarget::ScanRowsWithoutEntry(const Entity& entity,
                                          const std::function<void(const TargetRow&)>& fn) {
  SLUICE_RETURN_IF_ERROR(PrepareEntity(entity));
  // Two passes over narrow columns: the ids that own an entry into a bit
  // set, then the table's ids against it; only the rows left are read whole.
  // SQLite's own anti-join (NOT IN) built a B-tree of the owned ids: about
  // 0.5 s at 1M rows, what a delta run's reconciliation pays for this check
  // (issue 18), as much as reading its own rows.
  TargetIdSet owned;
  {
    SLUICE_ASSIGN_OR_RETURN(Statement ids, db_->Prepare("SELECT target_id FROM sluice_xref WHERE"
                                                        " entity = ?1 AND kind <> 'merged'"));
    SLUICE_RETURN_IF_ERROR(ids.Bind(1, entity.name));
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool more, ids.Step());
      if (!more) break;
      owned.Insert(ids.ColumnInt64(0));
    }
  }
  const std::string table = QuoteIdentifier(entity.name);
  std::vector<int64_t> strays;
  {
    SLUICE_ASSIGN_OR_RETURN(Statement ids,
                            db_->Prepare("SELECT sluice_id FROM " + table + " ORDER BY sluice_id"));
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool more, ids.Step());
      if (!more) break;
      const int64_t id = ids.ColumnInt64(0);
      if (!owned.Contains(id)) strays.push_back(id);
    }
  }
  if (strays.empty()) return Status::Ok();
  const Schema schema = entity.ToSchema();
  std::string sql = "SELECT t.sluice_id";
  for (const auto& f : schema.fields) sql += ", t." + QuoteIdentifier(f.name);
  sql += " FROM " + table + " t WHERE t.sluice_id = ?1";
  SLUICE_ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
  TargetRow row;
  for (int64_t id : strays) {
    SLUICE_RETURN_IF_ERROR(s.Reset());
    SLUICE_RETURN_IF_ERROR(s.Bind(1, id));
    SLUICE_ASSIGN_OR_RETURN(bool found, s.Step());
    if (!found) continue;
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
