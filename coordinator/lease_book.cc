#include "coordinator/lease_book.h"

#include "common/core/record.h"

namespace sluice::coordination {

LeaseBook::EntityKey LeaseBook::EntityOf(const v1::BatchId& id) {
  return {id.run_id(), id.wave(), id.entity()};
}

LeaseBook::StreamKey LeaseBook::StreamOf(const v1::BatchId& id) {
  return {id.run_id(), id.wave(), id.entity(), id.source()};
}

uint64_t LeaseBook::LeaseStream(const v1::BatchId& first, const v1::BatchRange& from) {
  const uint64_t epoch = NextEpoch();
  streams_[StreamOf(first)].emplace_back(first.sequence(), epoch);
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_EXTRACT_SOURCE);
  *lease.mutable_batch() = first;
  lease.mutable_batch()->set_sequence(0);
  lease.set_epoch(epoch);
  *lease.mutable_range() = from;
  lease.set_next_sequence(first.sequence());
  Queue("extractor", std::move(lease));
  return epoch;
}

uint64_t LeaseBook::StreamEpoch(const v1::BatchId& id) const {
  auto it = streams_.find(StreamOf(id));
  return it == streams_.end() || it->second.empty() ? 0 : it->second.back().second;
}

uint64_t LeaseBook::OpenResolve(const v1::BatchId& id) {
  return resolves_[EntityOf(id)] = NextEpoch();
}

uint64_t LeaseBook::ResolveEpoch(const v1::BatchId& id) const {
  auto it = resolves_.find(EntityOf(id));
  return it == resolves_.end() ? 0 : it->second;
}

v1::Lease LeaseBook::Reissue(const v1::BatchId& id, v1::Lease::Kind kind) {
  const uint64_t epoch = NextEpoch();
  reissued_[BatchName(id)] = epoch;
  v1::Lease lease;
  lease.set_kind(kind);
  *lease.mutable_batch() = id;
  lease.set_epoch(epoch);
  return lease;
}

uint64_t LeaseBook::ExpectedEpoch(Stage stage, const v1::BatchId& id) const {
  if (InfoOf(stage).phase == BatchPhase::kWhole) return ResolveEpoch(id);
  auto again = reissued_.find(BatchName(id));
  if (again != reissued_.end()) return again->second;
  auto stream = streams_.find(StreamOf(id));
  if (stream == streams_.end()) return ResolveEpoch(id);  // a deduper output batch
  uint64_t epoch = 0;
  for (const auto& [first, e] : stream->second) {
    if (id.sequence() >= first) epoch = e;
  }
  return epoch;
}

void LeaseBook::ForgetEntity(const v1::BatchId& id) {
  const EntityKey entity = EntityOf(id);
  resolves_.erase(entity);
  std::erase_if(streams_, [&entity](const auto& s) {
    const auto& [run, wave, name, source] = s.first;
    return EntityKey(run, wave, name) == entity;
  });
}

void LeaseBook::Queue(std::string to, v1::Lease lease) {
  pending_.emplace_back(std::move(to), std::move(lease));
}

std::vector<std::pair<std::string, v1::Lease>> LeaseBook::Assign(const Roster& roster) {
  std::vector<std::pair<std::string, v1::Lease>> out;
  std::deque<std::pair<std::string, v1::Lease>> waiting;
  for (auto& [to, lease] : pending_) {
    std::vector<const Worker*> ready = roster.Ready(to);
    if (ready.empty()) {
      waiting.emplace_back(std::move(to), std::move(lease));
      continue;
    }
    const std::string& identity = ready[rotation_++ % ready.size()]->identity;
    holders_[lease.epoch()].insert(identity);
    out.emplace_back(identity, std::move(lease));
  }
  pending_ = std::move(waiting);
  return out;
}

bool LeaseBook::Holds(const std::string& identity, uint64_t epoch) const {
  auto it = holders_.find(epoch);
  return it != holders_.end() && it->second.count(identity) > 0;
}

Status LeaseBook::Admit(const Worker* sender, Stage stage, uint64_t epoch,
                        uint32_t dedup_shard) const {
  const StageInfo& info = InfoOf(stage);
  if (sender == nullptr) return Status::FailedPrecondition("not a worker of the run");
  if (sender->role != info.role) {
    return Status::FailedPrecondition(sender->identity + " is no " + std::string(info.role));
  }
  if (sender->role == "deduper" && sender->ordinal != dedup_shard) {
    return Status::FailedPrecondition(sender->identity + " committed as dedup shard " +
                                      std::to_string(dedup_shard));
  }
  if (info.leased && !Holds(sender->identity, epoch)) {
    return Status::FailedPrecondition(sender->identity + " holds no lease at epoch " +
                                      std::to_string(epoch));
  }
  return Status::Ok();
}

}  // namespace sluice::coordination
