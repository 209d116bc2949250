// The SQLite target's answer to reference lookups: the cross-reference
// entry of each parent key, in the loader's connection (so that it sees
// every batch this worker committed).
#include "common/connectors/sqlite/sqlite_target_impl.h"

namespace sluice::sqlite_target {

Result<std::vector<int64_t>> SqliteTarget::ResolveKeys(const std::string& entity,
                                                       const std::string& source,
                                                       const std::vector<std::string>& keys) {
  std::vector<int64_t> ids(keys.size(), 0);
  if (keys.empty()) return ids;
  if (resolve_key_.raw() == nullptr) {
    SLUICE_ASSIGN_OR_RETURN(resolve_key_,
                            db_->Prepare("SELECT target_id FROM sluice_xref WHERE entity = ?1"
                                         " AND source = ?2 AND key = ?3"));
  }
  Statement& s = resolve_key_;
  for (size_t i = 0; i < keys.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(s.Reset());
    SLUICE_RETURN_IF_ERROR(s.BindView(1, entity));
    SLUICE_RETURN_IF_ERROR(s.BindView(2, source));
    SLUICE_RETURN_IF_ERROR(s.BindView(3, keys[i]));
    SLUICE_ASSIGN_OR_RETURN(bool found, s.Step());
    if (found) ids[i] = s.ColumnInt64(0);
  }
  SLUICE_RETURN_IF_ERROR(s.Reset());
  return ids;
}

}  // namespace sluice::sqlite_target

namespace sluice::sqlite_target {

Result<uint64_t> SqliteTarget::CountAppliedBatches(const std::string& run_id,
                                                   const std::string& prefix) {
  if (prefix.empty()) return Status::InvalidArgument("count applied batches: empty prefix");
  if (count_batches_.raw() == nullptr) {
    SLUICE_ASSIGN_OR_RETURN(count_batches_,
                            db_->Prepare("SELECT count(*) FROM sluice_batches WHERE run_id = ?1"
                                         " AND batch >= ?2 AND batch < ?3"));
  }
  // Names starting with `prefix` sort in [prefix, prefix with its last byte
  // raised by one), SQLite comparing text bytewise (BINARY collation).
  std::string end = prefix;
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  Statement& s = count_batches_;
  SLUICE_RETURN_IF_ERROR(s.Reset());
  SLUICE_RETURN_IF_ERROR(s.BindView(1, run_id));
  SLUICE_RETURN_IF_ERROR(s.BindView(2, prefix));
  SLUICE_RETURN_IF_ERROR(s.BindView(3, end));
  SLUICE_ASSIGN_OR_RETURN(bool row, s.Step());
  const uint64_t n = row ? static_cast<uint64_t>(s.ColumnInt64(0)) : 0;
  SLUICE_RETURN_IF_ERROR(s.Reset());
  return n;
}

}  // namespace sluice::sqlite_target
