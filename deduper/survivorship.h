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

#include "common/plan/plan.h"
#include "common/core/record.h"

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
  // `members` ordered best first (the survivor first).
  virtual std::vector<uint32_t> Rank(const std::vector<Record>& records,
                                     std::span<const uint32_t> members) const = 0;
};

// The plan's survivorship: the earlier source in `source_priority` wins
// (unlisted sources rank after listed ones, by name; an empty list skips
// this step), then the larger `most_recent_field` (NULL loses), then the
// smaller (source, key). `schema` must hold `most_recent_field` when set.
std::unique_ptr<SurvivorshipRule> MakePrioritySurvivorship(const DedupSpec& spec,
                                                           const Schema& schema);

// Builds the golden record field by field (DedupSpec::field_rules): the
// survivor's values, replaced where a field's rule picks another member's.
// Rules: survivor, non_null (the best-ranked member with a value),
// most_complete (the longest text; ties by rank), most_recent (the value
// of the member with the latest `most_recent_field` among those with one),
// source_priority (the value from the most trusted source that has one).
class GoldenRecordBuilder {
 public:
  GoldenRecordBuilder(const DedupSpec& spec, const Schema& schema);
  // True when every field keeps the survivor's value: Build is a no-op.
  bool trivial() const { return trivial_; }
  // Overwrites records[ranked[0]]'s values (ranked: best first). Returns
  // the fields taken from another member, "email<-crm:42", for the audit.
  std::vector<std::string> Build(std::vector<Record>& records,
                                 std::span<const uint32_t> ranked) const;

 private:
  enum class FieldRule : uint8_t { kSurvivor, kNonNull, kMostComplete, kMostRecent, kSource };
  const Schema& schema_;
  std::vector<FieldRule> rules_;  // per schema field
  std::vector<std::string> priority_;
  int recent_index_ = -1;
  bool trivial_ = true;
};

}  // namespace sluice
