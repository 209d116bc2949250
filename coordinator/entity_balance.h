// An entity's conservation once it is loaded (DESIGN.md §5.1): per source,
// extracted = merged + rejected + review + loaded, key checksums included,
// from the ledger's totals over its batches and its resolution; as the
// audit store's ledger rows and as the rows of the run's summary.
#pragma once

#include <string>
#include <vector>

#include "common/audit/audit_store.h"
#include "coordinator/ledger.h"
#include "coordinator/run_controller.h"

namespace sluice::coordination {

struct EntityBalance {
  std::vector<LedgerRow> rows;               // for AuditStore::WriteLedger
  std::vector<EntitySourceSummary> summary;  // for RunSummary::rows
  // "<source>: extracted N but accounted for M; " for each source that does
  // not balance; empty when every one does.
  std::string unbalanced;
};

// `batches`: every ingest and output batch of the entity; `resolution`: the
// name of its dedup resolution, whose decisions count too.
EntityBalance BalanceEntity(const Ledger& ledger, const std::string& run_id, int wave,
                            const std::string& entity, const std::vector<std::string>& batches,
                            const std::string& resolution);

// The summary row of a ledger row (not yet reconciled).
EntitySourceSummary SummaryRowOf(const LedgerRow& r);

}  // namespace sluice::coordination
