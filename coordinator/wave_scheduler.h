// The wave scheduler: which wave the run is in, which of its entities are
// in flight and in which phase (ingest, resolve, output), which may start
// (parents before children, entity_run.h's ReadyEntities), and when the wave
// is ready to reconcile. It names every batch of an entity and reads the
// ledger to tell when a phase is complete; leases, epochs and messages are
// the coordinator's. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/core/stage.h"
#include "common/plan/plan.h"
#include "coordinator/entity_run.h"
#include "coordinator/ledger.h"
#include "sluice/v1/batch.pb.h"

namespace sluice::coordination {

class WaveScheduler {
 public:
  // `plan` must outlive the scheduler; `dedup_shards` is the run's count.
  WaveScheduler(const Plan& plan, std::string run_id, uint32_t dedup_shards);

  // ---- waves ----

  // Makes `wave` (0-based) the current one, nothing of it started. False
  // when the plan has no such wave: the run is done.
  bool StartWave(int wave);
  int wave() const { return wave_; }
  // The current wave's spec; StartWave must have returned true.
  const WaveSpec& spec() const { return plan_.waves[wave_]; }
  bool last_wave() const { return wave_ + 1 >= static_cast<int>(plan_.waves.size()); }
  // The entities of the wave that may start now, in load order.
  std::vector<std::string> Ready() const;
  // Puts `entity` in flight, ingesting from every source the plan maps
  // onto it (none extracted yet).
  EntityRun& Start(const std::string& entity);
  // The entity loaded and balanced: it leaves the entities in flight.
  void Finish(const std::string& entity);
  // An entity of the wave that finished under a coordinator before this one
  // (a run continued after its coordinator died, issue 15): started and
  // finished without being in flight here.
  void MarkFinished(const std::string& entity);
  // True once, when every entity of the wave has finished: the
  // reconciliation is due (and from then on in progress).
  bool StartReconcile();
  bool reconciling() const { return reconciling_; }
  void EndReconcile() { reconciling_ = false; }

  // ---- entities in flight ----

  std::map<std::string, EntityRun>& runs() { return runs_; }
  const std::map<std::string, EntityRun>& runs() const { return runs_; }
  // The entity in flight that batch `id` belongs to, or null (a straggler
  // of another run, wave, or a finished entity).
  EntityRun* RunOf(const v1::BatchId& id);
  // The entity resolved: it goes on to output, with the resolution's
  // output batches (on N shards, those its rounds counted).
  void Resolved(EntityRun& run, const v1::Commit& resolution);

  // ---- batches ----

  // Batch `seq` of the entity's `source`, in the current wave.
  v1::BatchId IngestId(const std::string& entity, const std::string& source, uint64_t seq) const;
  // The entity's output batch `seq`: on N dedup shards each numbers its
  // own (dedup_shards.h), else "dedup/0".
  v1::BatchId OutputId(const EntityRun& run, uint64_t seq) const;
  // The names of every ingest batch, every output batch, of the entity.
  std::vector<std::string> IngestBatches(const EntityRun& run) const;
  std::vector<std::string> OutputBatches(const EntityRun& run) const;

  // ---- phases, read from the ledger ----

  // Every source extracted, and each of its batches ingested by every
  // dedup shard.
  bool Ingested(const EntityRun& run, const Ledger& ledger) const;
  // Every output batch of the resolved entity has a commit at `stage`.
  bool OutputsAt(const EntityRun& run, Stage stage, const Ledger& ledger) const;
  // What the wave waits for: every entity in flight and its phase.
  std::string Waiting(const Ledger& ledger) const;

 private:
  const Plan& plan_;
  std::string run_id_;
  uint32_t dedup_shards_;
  int wave_ = 0;
  std::map<std::string, EntityRun> runs_;  // in flight, by entity
  std::set<std::string> started_;          // in flight or finished
  std::set<std::string> finished_;         // loaded and balanced
  bool reconciling_ = false;
};

}  // namespace sluice::coordination
