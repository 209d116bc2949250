// Retiring the rows of records an earlier run loaded and this run rejected
// or held (issue 23, DESIGN.md invariant 6; docs/review.md).
#include "common/connectors/sqlite/sqlite_target_impl.h"

namespace sluice::sqlite_target {

Result<std::vector<RetiredRow>> SqliteTarget::RetireRows(const std::string& run_id,
                                                         const Entity& entity,
                                                         const std::vector<SourceKey>& keys) {
  auto out = RetireRowsOf(run_id, entity, keys);
  if (!out.ok()) {
    return NameFault(out.status().WithContext(spec_.yaml_path + ": retiring rows of entity '" +
                                              entity.name + "'"));
  }
  return out;
}

Result<std::vector<RetiredRow>> SqliteTarget::RetireRowsOf(const std::string& run_id,
                                                           const Entity& entity,
                                                           const std::vector<SourceKey>& keys) {
  SLUICE_RETURN_IF_ERROR(PrepareEntity(entity));
  EntityStatements* st = entities_[entity.name].get();
  std::vector<RetiredRow> retired;
  if (keys.empty()) return retired;
  SLUICE_ASSIGN_OR_RETURN(
      Statement drop_entry,
      db_->Prepare("DELETE FROM sluice_xref WHERE entity = ?1 AND source = ?2 AND key = ?3"));
  SLUICE_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  for (const SourceKey& k : keys) {
    SLUICE_ASSIGN_OR_RETURN(XrefEntry e, Lookup(st, entity.name, k.source, k.key));
    if (!e.found) continue;
    // The entry's before-image (a kind it never has, so that it is saved);
    // rollback restores it.
    SLUICE_RETURN_IF_ERROR(
        SaveXref(entity.name, run_id, XrefWrite{k.source, k.key, 0, 0, "retired", true}));
    if (e.merged) {
      // A merged entry points at its survivor's row, which stays (the
      // survivor's own fate decides it): only the entry goes, so that the
      // record is no longer said to be in that row. No row is retired.
      SLUICE_RETURN_IF_ERROR(drop_entry.Reset());
      SLUICE_RETURN_IF_ERROR(drop_entry.BindView(1, entity.name));
      SLUICE_RETURN_IF_ERROR(drop_entry.BindView(2, k.source));
      SLUICE_RETURN_IF_ERROR(drop_entry.BindView(3, k.key));
      SLUICE_RETURN_IF_ERROR(drop_entry.Run());
      continue;
    }
    // Then the row's before-image; rollback restores the row, then the entry.
    Statement& save = st->save_deleted;
    SLUICE_RETURN_IF_ERROR(save.Reset());
    SLUICE_RETURN_IF_ERROR(save.BindView(1, run_id));
    SLUICE_RETURN_IF_ERROR(save.BindView(2, entity.name));
    SLUICE_RETURN_IF_ERROR(save.Bind(3, e.target_id));
    SLUICE_RETURN_IF_ERROR(save.Run());
    Statement& del = st->delete_row;
    SLUICE_RETURN_IF_ERROR(del.Reset());
    SLUICE_RETURN_IF_ERROR(del.Bind(1, e.target_id));
    Status deleted = del.Run();
    if (!deleted.ok()) return deleted.WithContext("retiring the row of " + k.source + "/" + k.key);
    SLUICE_RETURN_IF_ERROR(drop_entry.Reset());
    SLUICE_RETURN_IF_ERROR(drop_entry.BindView(1, entity.name));
    SLUICE_RETURN_IF_ERROR(drop_entry.BindView(2, k.source));
    SLUICE_RETURN_IF_ERROR(drop_entry.BindView(3, k.key));
    SLUICE_RETURN_IF_ERROR(drop_entry.Run());
    retired.push_back({k.source, k.key, e.target_id});
  }
  SLUICE_RETURN_IF_ERROR(tx.Commit());
  return retired;
}

Status SqliteTarget::MoveReferences(const std::string& run_id, const std::string& entity,
                                    int64_t from, int64_t to) {
  // References are stored as the text of the row id (SqlType: TEXT).
  const std::string old_id = std::to_string(from), new_id = std::to_string(to);
  for (const auto& [child, statements] : entities_) {
    for (const auto& [field, parent] : statements->references) {
      if (parent != entity) continue;
      const std::string table = QuoteIdentifier(child), column = QuoteIdentifier(field);
      // The before-image RollbackRun restores (PrepareEntity's form).
      std::string image;
      for (const auto& f : statements->schema.fields) {
        image += (image.empty() ? "" : ", ") + SqlString(f.name) + ", " + QuoteIdentifier(f.name);
      }
      SLUICE_ASSIGN_OR_RETURN(
          Statement save,
          db_->Prepare("INSERT INTO sluice_rollback(run_id, entity, target_id, op, before)"
                       " SELECT ?1, ?2, sluice_id, 'update', json_object(" +
                       image + ") FROM " + table + " WHERE " + column + " = ?3"));
      SLUICE_RETURN_IF_ERROR(save.BindView(1, run_id));
      SLUICE_RETURN_IF_ERROR(save.BindView(2, child));
      SLUICE_RETURN_IF_ERROR(save.BindView(3, old_id));
      SLUICE_RETURN_IF_ERROR(save.Run());
      SLUICE_ASSIGN_OR_RETURN(Statement move, db_->Prepare("UPDATE " + table + " SET " + column +
                                                           " = ?1 WHERE " + column + " = ?2"));
      SLUICE_RETURN_IF_ERROR(move.BindView(1, new_id));
      SLUICE_RETURN_IF_ERROR(move.BindView(2, old_id));
      Status moved = move.Run();
      if (!moved.ok()) {
        return moved.WithContext("moving " + child + "." + field + " to row " + new_id);
      }
    }
  }
  return Status::Ok();
}

}  // namespace sluice::sqlite_target
