#include "transformer/transform_worker.h"

namespace sluice {

Status TransformLogic::Start(const WorkerContext& ctx) {
  ctx_ = ctx;
  return Status::Ok();
}

Status TransformLogic::OnBatch(RecordBatch batch, StageEmitter& out) {
  auto key = std::make_pair(batch.id.entity(), batch.id.source());
  auto it = mappers_.find(key);
  if (it == mappers_.end()) {
    SLUICE_ASSIGN_OR_RETURN(
        auto mapper, EntityTransformer::Create(ctx_.plan, key.first, key.second, batch.schema));
    it = mappers_.emplace(key, std::move(mapper)).first;
  }
  RecordBatch mapped;
  std::vector<v1::Fate> fates;
  it->second->Apply(batch, &mapped, &fates, &lineage_);
  v1::Commit commit = MakeCommit(stage(), batch, mapped.records, fates);
  commit.set_lineage(lineage_.Finish());
  out.Commit(std::move(commit));
  // Test-only fault, set by `sluice run --test-fault transformer:drop_key=K`.
  if (ctx_.fault.rfind("drop_key=", 0) == 0) {
    // Loses one record between this stage and the next without saying so.
    std::string victim = ctx_.fault.substr(9);
    std::erase_if(mapped.records, [&](const Record& r) { return r.key == victim; });
  }
  // Every dedup shard gets every batch (docs/dedup.md#scale-out): the
  // golden record of a cluster needs all its members in one process.
  out.EmitToAll(ctx_.dedup_shards, mapped);
  return Status::Ok();
}

}  // namespace sluice
