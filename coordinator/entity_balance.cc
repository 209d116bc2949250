#include "coordinator/entity_balance.h"

namespace sluice::coordination {

EntitySourceSummary SummaryRowOf(const LedgerRow& r) {
  EntitySourceSummary s;
  s.entity = r.entity;
  s.source = r.source;
  s.wave = r.wave;
  s.extracted = r.extracted;
  s.merged = r.merged;
  s.rejected = r.rejected;
  s.review = r.review;
  s.loaded = r.loaded;
  s.inserted = r.inserted;
  s.updated = r.updated;
  s.unchanged = r.unchanged;
  return s;
}

EntityBalance BalanceEntity(const Ledger& ledger, const std::string& run_id, int wave,
                            const std::string& entity, const std::vector<std::string>& batches,
                            const std::string& resolution) {
  EntityBalance b;
  for (const auto& [source, t] : ledger.Totals(batches, {resolution})) {
    LedgerRow r;
    r.run_id = run_id;
    r.wave = wave;
    r.entity = entity;
    r.source = source;
    r.extracted = t.extracted;
    r.merged = t.fates.merged;
    r.rejected = t.fates.rejected;
    r.review = t.fates.review;
    r.loaded = t.fates.loaded;
    r.inserted = t.fates.inserted;
    r.updated = t.fates.updated;
    r.unchanged = t.fates.unchanged;
    r.extracted_checksum = t.extracted_checksum.value();
    r.fate_checksum = t.fates.checksum.value();
    b.rows.push_back(r);
    b.summary.push_back(SummaryRowOf(r));
    if (!t.Balanced()) {
      b.unbalanced += source + ": extracted " + std::to_string(t.extracted) +
                      " but accounted for " + std::to_string(t.Accounted()) + "; ";
    }
  }
  return b;
}

}  // namespace sluice::coordination
