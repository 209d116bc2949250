// The source side of one entity's reconciliation as it arrives from the
// coordinator (issue 22: the reconciler reads no audit.db), chunk by chunk.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/core/hash.h"
#include "reconciler/reconcile.h"
#include "reconciler/sorted_fates.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// Builds one entity's ReconcileInput from its v1::ReconcileInput chunks,
// counting the fates per source as they come (independently of the
// coordinator's ledger, as the audit store was read before). The LOADED,
// REJECTED and REVIEW fates go to a SortedFates (spilled beyond its budget,
// issue 20 item 3), the MERGED ones into the input's links. Not
// thread-safe.
class ReconcileInputBuilder {
 public:
  ReconcileInputBuilder(std::string run_id, int wave, std::string entity,
                        SortedFates::Options fates_options = {});

  // Adds one chunk of the entity (its ledger rows, decimal sums and fates);
  // fails when the fates cannot be spilled.
  Status Add(const v1::ReconcileInput& chunk);
  // The entity's input and its sorted fates (Finish()ed, for
  // ReconcileSorted); the builder is spent.
  struct Finished {
    ReconcileInput input;
    std::unique_ptr<SortedFates> fates;
  };
  Result<Finished> Finish();

  // Fate rows received, and their key checksum: what the coordinator checks
  // against what it sent (v1::ReconciledEntity).
  uint64_t fates() const { return fates_; }
  uint64_t fates_checksum() const { return checksum_.value(); }

 private:
  ReconcileInput in_;
  std::unique_ptr<SortedFates> sorted_;
  uint64_t fates_ = 0;
  KeyChecksum checksum_;
  std::map<std::string, KeyChecksum> by_source_;
};

}  // namespace sluice
