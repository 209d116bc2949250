#include "reconciler/reconcile_input.h"

#include <utility>

#include "common/core/stage.h"

namespace sluice {

ReconcileInputBuilder::ReconcileInputBuilder(std::string run_id, int wave, std::string entity) {
  in_.run_id = std::move(run_id);
  in_.wave = wave;
  in_.entity = std::move(entity);
}

void ReconcileInputBuilder::Add(const v1::ReconcileInput& chunk) {
  for (const auto& row : chunk.ledger()) {
    in_.extracted[row.source()] = row.extracted();
    in_.extracted_checksum[row.source()] = row.extracted_checksum();
    // One entry per loaded record: sized once rather than regrown (and
    // copied) about twenty times at a million records.
    in_.loaded.reserve(in_.loaded.size() + row.loaded());
  }
  for (const auto& [field, units] : chunk.decimal_sums()) in_.decimal_sums[field] = units;
  for (const auto& f : chunk.fates()) {
    if (f.kind() == v1::FATE_WARNING) continue;  // not a fate of its own
    const char* kind = FateKindName(f.kind());
    ++fates_;
    checksum_.Add(f.source(), f.key());
    by_source_[f.source()].Add(f.source(), f.key());
    ++in_.fate_counts[f.source()][kind];
    if (f.kind() == v1::FATE_LOADED) {
      in_.loaded.push_back(
          {f.source(), f.key(), f.content_hash(), f.target_id(), f.loaded_values()});
    } else if (f.kind() == v1::FATE_MERGED) {
      in_.merged.push_back({f.source(), f.key(), f.survivor_source(), f.survivor_key()});
    } else {
      RecordFate& u = in_.unloaded[FateKey(f.source(), f.key())];
      u.kind = kind;
      u.rule = f.rule();
    }
  }
}

ReconcileInput ReconcileInputBuilder::Finish() {
  for (const auto& [source, sum] : by_source_) in_.fate_checksum[source] = sum.value();
  return std::move(in_);
}

}  // namespace sluice
