// Incremental dedup (issue 18 item 3, docs/incremental_dedup.md), the
// coordinator's side: the population's blocks, stored from the deduper's
// ingest commits, and the phase between the ingest of a delta and its
// resolve, in which the residents of the delta's blocks and clusters are
// extracted by key. They are records of the run like any other (one fate
// each), so the resolve decides delta and residents as a full run over the
// same records would.
#include <filesystem>

#include "common/plan/incremental_dedup.h"
#include "coordinator/coordinator.h"

namespace sluice::coordination {

Result<PopulationStore*> Coordinator::Population() {
  if (!population_) {
    SLUICE_ASSIGN_OR_RETURN(
        population_,
        PopulationStore::Open((std::filesystem::path(plan_.state_dir) / "audit.db").string()));
  }
  return population_.get();
}

Result<std::string> Coordinator::ReadWholeReason(const std::string& entity) {
  std::string why = IncrementalDedupBlocker(plan_, entity);
  if (!why.empty()) return why;
  SLUICE_ASSIGN_OR_RETURN(PopulationStore * population, Population());
  SLUICE_ASSIGN_OR_RETURN(
      bool stored,
      population->HasPopulation(entity, PopulationSpec(plan_.dedup.at(entity)), summary_.run_id));
  if (!stored) {
    return std::string(
        "no run that read it whole stored its population under its current blocking "
        "(its first delta run, or the blocking changed)");
  }
  return std::string();
}

Status Coordinator::NotePopulationRun(const std::string& entity) {
  auto spec = plan_.dedup.find(entity);
  if (spec == plan_.dedup.end() || !IncrementalDedupBlocker(plan_, entity).empty()) {
    return Status::Ok();  // the deduper sends no blocks
  }
  SLUICE_ASSIGN_OR_RETURN(PopulationStore * population, Population());
  return population->RecordPopulationRun(summary_.run_id, waves_.wave(), entity,
                                         PopulationSpec(spec->second),
                                         /*whole=*/!delta_.IncrementalDedup(entity));
}

Status Coordinator::RecordPopulation(const v1::Commit& c) {
  if (c.population_blocks_size() == 0) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(PopulationStore * population, Population());
  return population->RecordPopulation(summary_.run_id, waves_.wave(), c);
}

Result<bool> Coordinator::LeaseResidents(EntityRun& run) {
  if (run.residents_leased || !delta_.IncrementalDedup(run.entity)) return false;
  // A survivor deleted at its source hands its role over: its cluster is
  // read too, so the scans must have answered.
  if (!DeletionsScanned(run.entity)) return true;
  run.residents_leased = true;
  std::map<std::string, std::vector<std::string>> deleted = delta_.Deleted(run.entity);
  // Records a steward decided: read again while they are held for review.
  std::vector<std::pair<std::string, std::string>> decided;
  for (const v1::PairDecision& d : review_decisions_.pairs()) {
    if (d.entity() != run.entity) continue;
    decided.emplace_back(d.source(), d.key());
    decided.emplace_back(d.other_source(), d.other_key());
  }
  for (const v1::RecordDecision& d : review_decisions_.records()) {
    if (d.entity() == run.entity) decided.emplace_back(d.source(), d.key());
  }
  SLUICE_ASSIGN_OR_RETURN(PopulationStore * population, Population());
  SLUICE_ASSIGN_OR_RETURN(
      auto residents,
      population->ResidentsOf(summary_.run_id, waves_.wave(), run.entity,
                              PopulationSpec(plan_.dedup.at(run.entity)), deleted, decided));
  bool leased = false;
  for (auto& [source, keys] : residents) {
    auto stream = run.streams.find(source);
    if (stream == run.streams.end() || keys.empty()) continue;  // not a source of this run
    const uint64_t first = stream->second.batches;
    LogInfo(EntityLog(run.entity), "incremental dedup: " + std::to_string(keys.size()) +
                                       " resident(s) of " + run.entity + " from " + source +
                                       " share a block or a cluster with the delta: read by key "
                                       "as batches " +
                                       std::to_string(first) + " on");
    delta_.SetResidents(run.entity, source, first, std::move(keys));
    stream->second.done = false;
    leases_.LeaseStream(waves_.IngestId(run.entity, source, first), v1::BatchRange());
    progress_.SetPhase(run.entity, "ingest");
    leased = true;
  }
  if (!leased) {
    LogInfo(EntityLog(run.entity),
            "incremental dedup: no resident of " + run.entity + " shares a block with the delta");
  }
  if (leased) SLUICE_RETURN_IF_ERROR(DispatchLeases());
  // The delta's blocks, held since its ingest (ResidentsOf read them from
  // memory), are written now, while the residents are extracted, instead of
  // before they are looked up: off the path from the delta to its resolve.
  SLUICE_RETURN_IF_ERROR(population->Flush());
  return leased;
}

}  // namespace sluice::coordination
