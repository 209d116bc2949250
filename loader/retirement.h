// Issue 23, "a stale row cannot outlive its fate": once an entity's wave is
// loaded and balanced, the coordinator sends the loaders the records of the
// entity this run rejected or held (v1::ParentFates, the message children
// read their parents' fates from). A row an earlier run loaded for one of
// them is retired from the target, with rollback data, and the loader
// answers with a `retire` commit naming each row removed, which the
// coordinator records (the audit trail) before the wave reconciles.
#pragma once

#include "common/connectors/connector.h"
#include "common/plan/plan.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// Retires the target rows of the records `fates` names (rejected or held
// this run) and returns the `retire` commit: batch {run, entity, source
// "retire"}, one fate per row removed (its kind, target_id = the row,
// rule `row_retired`). An entity the model lacks is an error.
// A record deleted at a source whose plan says `deletions: {mode:
// propagate, soft_delete: FIELD}` keeps its row: FIELD is set to
// `now_micros` (Target::SoftDeleteRows; rule `row_soft_deleted`), and a
// target that cannot fails rather than remove the row.
Result<v1::Commit> RetireUnloadedRows(const Plan& plan, const std::string& run_id,
                                      const v1::ParentFates& fates, Target* target,
                                      int64_t now_micros);
// The same at the system clock's time.
Result<v1::Commit> RetireUnloadedRows(const Plan& plan, const std::string& run_id,
                                      const v1::ParentFates& fates, Target* target);

}  // namespace sluice
