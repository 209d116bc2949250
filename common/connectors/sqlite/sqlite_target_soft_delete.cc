// Soft deletion of the rows of records deleted at their source (issue 18,
// docs/delta.md "Deletions at the source"): the row stays, its
// `soft_delete` field says when the source lost it.
#include "common/connectors/sqlite/sqlite_target_impl.h"

namespace sluice::sqlite_target {

Result<std::vector<RetiredRow>> SqliteTarget::SoftDeleteRows(const std::string& run_id,
                                                             const Entity& entity,
                                                             const std::string& field,
                                                             const std::vector<SourceKey>& keys,
                                                             int64_t at_micros) {
  SLUICE_RETURN_IF_ERROR(PrepareEntity(entity));
  EntityStatements* st = entities_[entity.name].get();
  const FieldSpec* spec = nullptr;
  for (const FieldSpec& f : st->schema.fields) {
    if (f.name == field) spec = &f;
  }
  if (spec == nullptr || (spec->type != FieldType::kTimestamp && spec->type != FieldType::kDate)) {
    return Status::InvalidArgument(spec_.yaml_path + ": entity '" + entity.name +
                                   "' has no timestamp or date field '" + field + "'");
  }
  std::vector<RetiredRow> marked;
  if (keys.empty()) return marked;
  constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;
  const Value at = Value::Int(
      spec->type == FieldType::kDate
          ? (at_micros >= 0 ? at_micros / kMicrosPerDay : (at_micros + 1) / kMicrosPerDay - 1)
          : at_micros);
  const std::string text = *FormatValue(*spec, at);
  const std::string table = QuoteIdentifier(entity.name), column = QuoteIdentifier(field);
  SLUICE_ASSIGN_OR_RETURN(
      Statement unmarked,
      db_->Prepare("SELECT 1 FROM " + table + " WHERE sluice_id = ?1 AND " + column + " IS NULL"));
  SLUICE_ASSIGN_OR_RETURN(Statement mark, db_->Prepare("UPDATE " + table + " SET " + column +
                                                       " = ?1 WHERE sluice_id = ?2"));
  SLUICE_ASSIGN_OR_RETURN(
      Statement clear_hash,
      db_->Prepare("UPDATE sluice_xref SET content_hash = 0 WHERE entity = ?1 AND source = ?2"
                   " AND key = ?3"));
  SLUICE_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  for (const SourceKey& k : keys) {
    SLUICE_ASSIGN_OR_RETURN(XrefEntry e, Lookup(st, entity.name, k.source, k.key));
    // Only a row of its own: a merged entry points at its survivor's row.
    if (!e.found || e.merged) continue;
    SLUICE_RETURN_IF_ERROR(unmarked.Reset());
    SLUICE_RETURN_IF_ERROR(unmarked.Bind(1, e.target_id));
    SLUICE_ASSIGN_OR_RETURN(bool open, unmarked.Step());
    if (!open) continue;  // marked by an earlier run (or the row is gone)
    // Before-images: the entry (its hash changes), then the row.
    SLUICE_RETURN_IF_ERROR(
        SaveXref(entity.name, run_id, XrefWrite{k.source, k.key, e.target_id, 0, "loaded", true}));
    Statement& save = st->save_row;
    SLUICE_RETURN_IF_ERROR(save.Reset());
    SLUICE_RETURN_IF_ERROR(save.BindView(1, run_id));
    SLUICE_RETURN_IF_ERROR(save.BindView(2, entity.name));
    SLUICE_RETURN_IF_ERROR(save.Bind(3, e.target_id));
    SLUICE_RETURN_IF_ERROR(save.Run());
    SLUICE_RETURN_IF_ERROR(mark.Reset());
    SLUICE_RETURN_IF_ERROR(mark.BindView(1, text));
    SLUICE_RETURN_IF_ERROR(mark.Bind(2, e.target_id));
    Status done = mark.Run();
    if (!done.ok()) return done.WithContext("marking the row of " + k.source + "/" + k.key);
    SLUICE_RETURN_IF_ERROR(clear_hash.Reset());
    SLUICE_RETURN_IF_ERROR(clear_hash.BindView(1, entity.name));
    SLUICE_RETURN_IF_ERROR(clear_hash.BindView(2, k.source));
    SLUICE_RETURN_IF_ERROR(clear_hash.BindView(3, k.key));
    SLUICE_RETURN_IF_ERROR(clear_hash.Run());
    marked.push_back({k.source, k.key, e.target_id});
  }
  SLUICE_RETURN_IF_ERROR(tx.Commit());
  return marked;
}

}  // namespace sluice::sqlite_target
