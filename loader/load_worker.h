// The loader stage: upserts validated batches into the target and reports
// each record's target id once the database has committed.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "common/connectors/connector.h"
#include "common/core/stage.h"
#include "common/runtime/worker.h"
#include "loader/load_pipeline.h"
#include "loader/references.h"
#include "loader/self_references.h"

namespace sluice {

class LoadLogic : public StageLogic {
 public:
  std::string stage() const override { return std::string(StageName(Stage::kLoad)); }
  bool produces() const override { return false; }
  Status Start(const WorkerContext& ctx) override;
  Status OnBatch(RecordBatch batch, StageEmitter& out) override;
  // ParentFates from the coordinator: the parents that have no row.
  Status OnControl(const v1::Envelope& message, StageEmitter& out) override;
  // The pipelined loads that have committed since the last turn.
  Status OnTick(StageEmitter& out) override;
  void OnHalt(const std::string& reason) override;

  // The commit for a loaded batch: LOADED fates with target ids and content
  // hashes, target rejections, and the sums of every decimal field.
  // `parents` (per record, may be null): the parents' rows its references
  // point at, kept in its LOADED fate's value for `sluice trace`.
  static v1::Commit MakeLoadCommit(const Entity& entity, const RecordBatch& batch,
                                   const LoadOutcome& outcome,
                                   const std::vector<std::string>* parents = nullptr);

 private:
  // Whether the entity's batches go through pipeline_: the target allows
  // concurrent loads and the entity neither has references nor is
  // referenced, so no batch's load reads what another batch in flight writes.
  bool Pipelined(const Entity& entity) const;
  // Commits of the finished loads; the first failure is returned after the
  // others' commits are emitted.
  Status EmitLoads(std::vector<FinishedLoad> done, StageEmitter& out);
  // Waits for every pipelined load and emits their commits: before the main
  // connection writes anything else.
  Status Drain(StageEmitter& out);

  WorkerContext ctx_;
  std::unique_ptr<Target> target_;
  std::unique_ptr<LoadPipeline> pipeline_;     // null: every batch on target_
  std::unique_ptr<SelfReferences> self_refs_;  // records waiting for their parent
  std::set<std::string> prepared_;
  ParentFates parents_;  // rejected and held parents, per parent entity
  bool halted_ = false;
};

}  // namespace sluice
