#include "reconciler/reconcile_input.h"

#include <utility>

#include "common/audit/loaded_pack.h"
#include "common/core/stage.h"

namespace sluice {

ReconcileInputBuilder::ReconcileInputBuilder(std::string run_id, int wave, std::string entity,
                                             SortedFates::Options fates_options)
    : sorted_(std::make_unique<SortedFates>(std::move(fates_options))) {
  in_.run_id = std::move(run_id);
  in_.wave = wave;
  in_.entity = std::move(entity);
}

Status ReconcileInputBuilder::Add(const v1::ReconcileInput& chunk) {
  for (const auto& row : chunk.ledger()) {
    in_.extracted[row.source()] = row.extracted();
    in_.extracted_checksum[row.source()] = row.extracted_checksum();
  }
  for (const auto& [field, units] : chunk.decimal_sums()) in_.decimal_sums[field] = units;
  for (const auto& f : chunk.fates()) {
    if (f.kind() == v1::FATE_WARNING) continue;  // not a fate of its own
    const char* kind = FateKindName(f.kind());
    ++fates_;
    checksum_.Add(f.source(), f.key());
    by_source_[f.source()].Add(f.source(), f.key());
    ++in_.fate_counts[f.source()][kind];
    if (f.kind() == v1::FATE_MERGED) {
      in_.merged.push_back({f.source(), f.key(), f.survivor_source(), f.survivor_key()});
      continue;
    }
    KeyedFate fate{f.source(), f.key(), kind, "", 0, 0, ""};
    if (f.kind() == v1::FATE_LOADED) {
      fate.content_hash = f.content_hash();
      fate.target_id = f.target_id();
      fate.loaded_values = f.loaded_values();
    } else {
      fate.rule = f.rule();
    }
    SLUICE_RETURN_IF_ERROR(sorted_->Add(std::move(fate)));
  }
  // The LOADED fates the store keeps by the pack, sent as they are (issue 20).
  for (const std::string& bytes : chunk.loaded_packs()) {
    LoadedPackReader reader(bytes);
    PackedLoad load;
    while (reader.Next(&load)) {
      ++fates_;
      checksum_.Add(load.source, load.key);
      std::string source(load.source);
      by_source_[source].Add(load.source, load.key);
      const char* kind = FateKindName(v1::FATE_LOADED);
      ++in_.fate_counts[source][kind];
      KeyedFate fate{std::move(source), std::string(load.key), kind, "", 0, 0, ""};
      fate.content_hash = load.content_hash;
      fate.target_id = load.target_id;
      fate.loaded_values = std::string(load.loaded_values);
      SLUICE_RETURN_IF_ERROR(sorted_->Add(std::move(fate)));
    }
    if (reader.corrupt()) {
      return Status::Corruption("reconcile input of " + in_.entity + ": a loaded pack is damaged");
    }
  }
  return Status::Ok();
}

Result<ReconcileInputBuilder::Finished> ReconcileInputBuilder::Finish() {
  for (const auto& [source, sum] : by_source_) in_.fate_checksum[source] = sum.value();
  SLUICE_RETURN_IF_ERROR(sorted_->Finish());
  return Finished{std::move(in_), std::move(sorted_)};
}

}  // namespace sluice
