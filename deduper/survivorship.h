// Survivorship: which record of a duplicate cluster survives, and why.
//
// The deduper asks a SurvivorshipRule for each cluster's survivor and for
// the reason each other member lost to it. Today the survivor keeps its own
// values; a field-level golden-record builder implements the same interface.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/plan.h"
#include "common/record.h"

namespace sluice {

class SurvivorshipRule {
 public:
  virtual ~SurvivorshipRule() = default;
  // The index (into `records`) of the survivor among `members`, which is
  // not empty and holds no two records with the same (source, key).
  virtual uint32_t ChooseSurvivor(const std::vector<Record>& records,
                                  std::span<const uint32_t> members) const = 0;
  // The criterion that put `survivor` ahead of `member`, for the MERGED
  // fate: "source_priority", "most_recent:updated_at", "smallest_source_key".
  // The text lives as long as the rule.
  virtual std::string_view Reason(const Record& survivor, const Record& member) const = 0;
};

// The plan's survivorship: the earlier source in `source_priority` wins
// (unlisted sources rank after listed ones, by name; an empty list skips
// this step), then the larger `most_recent_field` (NULL loses), then the
// smaller (source, key). `schema` must hold `most_recent_field` when set.
std::unique_ptr<SurvivorshipRule> MakePrioritySurvivorship(const DedupSpec& spec,
                                                           const Schema& schema);

}  // namespace sluice
