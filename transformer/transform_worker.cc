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
        auto mapper, EntityTransformer::Create(ctx_.plan, key.first, key.second, batch.schema,
                                               &ctx_.review_decisions));
    it = mappers_.emplace(key, std::move(mapper)).first;
  }
  RecordBatch& mapped = mapped_;
  std::vector<v1::Fate> fates;
  std::vector<v1::ReviewItem> items;
  it->second->Apply(batch, &mapped, &fates, &lineage_, &items);
  v1::Commit commit = MakeCommit(stage(), batch, mapped.records, fates);
  commit.set_lineage(lineage_.Finish());
  for (v1::ReviewItem& item : items) *commit.add_review_items() = std::move(item);
  std::vector<RecordBatch> parts;
  if (ctx_.dedup_shards > 1) {
    SLUICE_ASSIGN_OR_RETURN(const ShardRouter* router, RouterFor(key.first, mapped.schema));
    parts = Route(*router, mapped, &commit);
  }
  out.Commit(std::move(commit));
  // Test-only fault, set by `sluice run --test-fault transformer:drop_key=K`.
  if (ctx_.faults.drop_key) {
    // Loses one record between this stage and the next without saying so.
    const std::string& victim = *ctx_.faults.drop_key;
    std::erase_if(mapped.records, [&](const Record& r) { return r.key == victim; });
    for (RecordBatch& part : parts) {
      for (size_t i = 0; i < part.records.size(); ++i) {
        if (part.records[i].key != victim) continue;
        part.records.erase(part.records.begin() + static_cast<long>(i));
        part.positions.erase(part.positions.begin() + static_cast<long>(i));
        part.guest_rows.clear();  // its home rows name records by index
        break;
      }
    }
  }
  if (ctx_.dedup_shards <= 1) {
    out.Emit(0, mapped);
    return Status::Ok();
  }
  for (uint32_t s = 0; s < parts.size(); ++s) out.Emit(s, parts[s]);
  return Status::Ok();
}

Result<const ShardRouter*> TransformLogic::RouterFor(const std::string& entity,
                                                     const Schema& schema) {
  auto it = routers_.find(entity);
  if (it == routers_.end()) {
    const ShardMap shards(ctx_.dedup_shard_map, ctx_.dedup_shards, 0);
    SLUICE_ASSIGN_OR_RETURN(ShardRouter router,
                            ShardRouter::Create(ctx_.plan, entity, schema, shards));
    // Home records and their rows only: the coordinator relays the
    // pre-round that sends guest rows where blocks pair (docs/dedup.md).
    router.set_guests_by_request(true);
    it = routers_.emplace(entity, std::move(router)).first;
  }
  return &it->second;
}

std::vector<RecordBatch> TransformLogic::Route(const ShardRouter& router, const RecordBatch& mapped,
                                               v1::Commit* commit) {
  std::vector<RecordBatch> parts = router.Split(mapped);
  for (size_t s = 0; s < parts.size(); ++s) {
    v1::DedupRoute* route = commit->add_dedup_routes();
    route->set_shard(static_cast<uint32_t>(s));
    route->set_records(parts[s].records.size());
    route->set_checksum(parts[s].KeyChecksumValue());
  }
  return parts;
}

}  // namespace sluice
