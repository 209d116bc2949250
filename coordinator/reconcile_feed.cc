#include "coordinator/reconcile_feed.h"

#include <algorithm>
#include <utility>

#include "common/audit/loaded_pack.h"
#include "common/core/hash.h"

namespace sluice::coordination {
namespace {

v1::FateKind KindOf(std::string_view kind) {
  if (kind == "loaded") return v1::FATE_LOADED;
  if (kind == "merged") return v1::FATE_MERGED;
  if (kind == "rejected") return v1::FATE_REJECTED;
  if (kind == "review") return v1::FATE_REVIEW;
  // A warning, or deleted_at_source (issue 18): the key was not extracted,
  // so it is outside the extracted records' balance.
  return v1::FATE_WARNING;
}

}  // namespace

ReconcileFeed::ReconcileFeed(AuditStore* audit, std::string run_id, int wave,
                             std::vector<std::string> entities, uint64_t epoch, size_t chunk_fates)
    : audit_(audit),
      run_id_(std::move(run_id)),
      wave_(wave),
      entities_(std::move(entities)),
      epoch_(epoch),
      chunk_fates_(std::max<size_t>(1, chunk_fates)) {}

void ReconcileFeed::Grant(uint32_t credits) {
  credit_ = std::min(kMaxCredit, credit_ + std::min(credits, kMaxCredit));
}

Result<v1::ReconcileInput> ReconcileFeed::Next() {
  v1::ReconcileInput chunk;
  chunk.set_wave(static_cast<uint32_t>(wave_));
  chunk.set_epoch(epoch_);
  chunk.set_sequence(sequence_++);
  if (credit_ > 0) --credit_;
  if (entity_ >= entities_.size()) {  // a wave without entities
    chunk.set_wave_done(true);
    done_ = true;
    return chunk;
  }
  const std::string& entity = entities_[entity_];
  chunk.set_entity(entity);
  Sent& sent = sent_[entity];
  if (!entity_begun_) {
    SLUICE_ASSIGN_OR_RETURN(auto ledger, audit_->Ledger(run_id_, wave_));
    for (const LedgerRow& row : ledger) {
      if (row.entity != entity) continue;
      v1::ReconcileLedgerRow* r = chunk.add_ledger();
      r->set_source(row.source);
      r->set_extracted(row.extracted);
      r->set_extracted_checksum(row.extracted_checksum);
      r->set_loaded(row.loaded);
    }
    SLUICE_ASSIGN_OR_RETURN(auto sums, audit_->DecimalSums(run_id_, wave_, entity));
    for (const auto& [field, units] : sums) (*chunk.mutable_decimal_sums())[field] = units;
    entity_begun_ = true;
  }
  size_t rows = 0;
  KeyChecksum checksum;
  // A loader commit's packed LOADED fates go on as the store keeps them,
  // one string each (issue 20); their keys are counted and summed here as
  // the fates below are.
  auto pack = [&](std::string_view bytes) -> Status {
    LoadedPackReader reader(bytes);
    PackedLoad load;
    while (reader.Next(&load)) {
      ++rows;  // a page's size counts its packs' fates (the store's limit)
      checksum.Add(load.source, load.key);
      ++sent.loaded;
      ++sent.fates;
    }
    if (reader.corrupt()) {
      return Status::Corruption("audit store: a loaded pack of " + entity + " is damaged");
    }
    chunk.add_loaded_packs(bytes.data(), bytes.size());
    return Status::Ok();
  };
  SLUICE_ASSIGN_OR_RETURN(
      after_, audit_->ForEachFateOrPackAfter(
                  run_id_, wave_, entity, after_, chunk_fates_,
                  [&](const FateSummary& f) {
                    ++rows;
                    const v1::FateKind kind = KindOf(f.kind);
                    if (kind == v1::FATE_WARNING) return;
                    v1::FateDigest* d = chunk.add_fates();
                    d->set_source(f.source.data(), f.source.size());
                    d->set_key(f.key.data(), f.key.size());
                    d->set_kind(kind);
                    if (kind == v1::FATE_LOADED) {
                      d->set_target_id(f.target_id);
                      d->set_content_hash(f.content_hash);
                      d->set_loaded_values(f.loaded_values.data(), f.loaded_values.size());
                      ++sent.loaded;
                    } else if (kind == v1::FATE_MERGED) {
                      d->set_survivor_source(f.survivor_source.data(), f.survivor_source.size());
                      d->set_survivor_key(f.survivor_key.data(), f.survivor_key.size());
                    } else {
                      d->set_rule(f.rule.data(), f.rule.size());
                    }
                    checksum.Add(f.source, f.key);
                    ++sent.fates;
                  },
                  pack));
  sent.checksum += checksum.value();
  if (rows < chunk_fates_) {  // the entity's last page
    chunk.set_entity_done(true);
    ++entity_;
    entity_begun_ = false;
    after_ = 0;
    if (entity_ == entities_.size()) {
      chunk.set_wave_done(true);
      done_ = true;
    }
  }
  return chunk;
}

Status CheckReconcileClaims(const ReconcileFeed& feed, const v1::ReconcileResult& result) {
  if (!feed.done()) {
    return Status::FailedPrecondition("a result before its input was all sent");
  }
  std::map<std::string, const v1::ReconciledEntity*> claimed;
  for (const auto& e : result.entities()) claimed[e.entity()] = &e;
  for (const auto& [entity, sent] : feed.sent()) {
    auto it = claimed.find(entity);
    if (it == claimed.end()) return Status::FailedPrecondition("no verdict for " + entity);
    const v1::ReconciledEntity& c = *it->second;
    if (c.fates() != sent.fates || c.fates_checksum() != sent.checksum) {
      return Status::FailedPrecondition(
          entity + ": it says it received " + std::to_string(c.fates()) + " fates (checksum " +
          std::to_string(c.fates_checksum()) + "), it was sent " + std::to_string(sent.fates) +
          " (checksum " + std::to_string(sent.checksum) + ")");
    }
    if (c.expected_rows() != sent.loaded) {
      return Status::FailedPrecondition(entity + ": it expected " +
                                        std::to_string(c.expected_rows()) + " rows, the ledger " +
                                        std::to_string(sent.loaded) + " loaded");
    }
    if (result.passed() &&
        (!c.passed() || c.matched_rows() != c.expected_rows() || c.differences() != 0)) {
      return Status::FailedPrecondition(entity + ": a pass with " +
                                        std::to_string(c.matched_rows()) + " of " +
                                        std::to_string(c.expected_rows()) + " rows matched and " +
                                        std::to_string(c.differences()) + " differences");
    }
  }
  if (claimed.size() != feed.sent().size()) {
    return Status::FailedPrecondition("verdicts for entities it was not sent");
  }
  return Status::Ok();
}

}  // namespace sluice::coordination
