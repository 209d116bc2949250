// The SQLite target's answer to reference lookups: the cross-reference
// entry of each parent key, in the loader's connection (so that it sees
// every batch this worker committed).
#include "common/connectors/sqlite_target_impl.h"

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
