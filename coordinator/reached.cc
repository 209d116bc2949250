// What a run reached: when a run halts or pauses, the figures of the
// entities still in flight, and which waves reconciled (issue 14: a halted
// run tells the truth, never "holds" over zeros).
#include "coordinator/coordinator.h"
#include "coordinator/entity_balance.h"

namespace sluice::coordination {

void Coordinator::AddReachedRows() {
  for (const auto& [entity, run] : waves_.runs()) {
    // Every batch the ledger tracks: a stream still extracting has no
    // count yet, so its batches are those committed so far.
    std::vector<std::string> batches;
    for (const auto& [source, s] : run.streams) {
      for (uint64_t seq = 0;; ++seq) {
        const std::string name = BatchName(waves_.IngestId(entity, source, seq));
        if (s.done ? seq >= s.batches : ledger_.Epoch(name) == 0) break;
        batches.push_back(name);
      }
    }
    if (run.output_known) {
      for (const std::string& name : waves_.OutputBatches(run)) batches.push_back(name);
    }
    const std::string resolution = run.resolved ? BatchName(run.resolution_id) : "";
    EntityBalance reached =
        BalanceEntity(ledger_, summary_.run_id, waves_.wave(), entity, batches, resolution);
    for (EntitySourceSummary& row : reached.summary) {
      row.finished = false;
      summary_.rows.push_back(std::move(row));
    }
  }
}

void Coordinator::SummarizeWaves() {
  auto recorded = audit_->Waves(summary_.run_id);
  for (int w = 0; w < static_cast<int>(plan_.waves.size()); ++w) {
    const std::string& name = plan_.waves[w].name;
    std::string status;
    if (recorded.ok()) {
      auto it = recorded->find(w);
      if (it != recorded->end()) status = it->second.second;
    }
    if (status != "completed") {
      summary_.waves_not_reconciled.push_back(name);
    } else if (w < options_.start_wave && !options_.resumed_from.empty()) {
      summary_.waves_reconciled.push_back(name + " (in " + options_.resumed_from + ")");
    } else {
      summary_.waves_reconciled.push_back(name);
    }
  }
}

}  // namespace sluice::coordination
