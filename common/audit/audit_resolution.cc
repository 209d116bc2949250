// A dedup resolution arrives in parts (proto/sluice/v1/resolve.proto), each
// recorded as it comes (RecordCommit): one that did not arrive whole, or that
// starts again under a new lease, is forgotten here before anything counts
// it.
#include "common/audit/audit_store.h"

namespace sluice {

Status AuditStore::ForgetResolution(const std::string& run_id, int wave, const std::string& entity,
                                    const std::string& batch) {
  SLUICE_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get()));
  struct Delete {
    const char* sql;
    bool by_batch;
  };
  // The run, wave and entity first: the fates' index narrows on them.
  const Delete deletes[] = {
      {"DELETE FROM fates WHERE run_id=?1 AND wave=?2 AND entity=?3 AND batch=?4", true},
      {"DELETE FROM batches WHERE run_id=?1 AND wave=?2 AND entity=?3 AND batch=?4", true},
      {"DELETE FROM match_decisions WHERE run_id=?1 AND wave=?2 AND entity=?3", false},
      {"DELETE FROM golden_records WHERE run_id=?1 AND wave=?2 AND entity=?3", false},
      {"DELETE FROM match_summaries WHERE run_id=?1 AND wave=?2 AND entity=?3", false},
      {"DELETE FROM match_figures WHERE run_id=?1 AND wave=?2 AND entity=?3", false},
      // The deduper's items only (dedup_cluster.cc); the validator's stay.
      {"DELETE FROM review_items WHERE run_id=?1 AND wave=?2 AND entity=?3 AND stage='dedup'",
       false},
  };
  for (const Delete& d : deletes) {
    SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare(d.sql));
    SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
    SLUICE_RETURN_IF_ERROR(st.Bind(3, entity));
    if (d.by_batch) SLUICE_RETURN_IF_ERROR(st.Bind(4, batch));
    SLUICE_RETURN_IF_ERROR(st.Run());
  }
  return tx.Commit();
}

}  // namespace sluice
