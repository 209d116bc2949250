// Survivorship: which record of a duplicate cluster survives, and why.
//
// The deduper asks a SurvivorshipRule for each cluster's survivor and for
// the reason each other member lost to it. Today the survivor keeps its own
// values; a field-level golden-record builder implements the same interface.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/record.h"
#include "common/plan/plan.h"

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

// Where one field of a golden record came from.
struct GoldenChoice {
  uint32_t member = 0;   // index (into the records) of the member whose value it holds
  const char* strategy;  // the field's strategy: "survivor", "non_null", "most_complete",
                         // "most_frequent", "longest", "most_recent", "source_priority"
  std::string note;      // why the survivor kept its own value, when a strategy chose another's
};

// Builds the golden record field by field (DedupSpec::field_rules; unlisted
// fields use `default_field_rule`): the survivor's values, replaced where a
// field's strategy picks another member's. Among the members with a value
// (non-NULL, and non-empty text), in survivorship order:
//   survivor         the survivor's own value (even NULL)
//   non_null         the first
//   most_complete    the value of the member with the most non-NULL fields
//   most_frequent    the value most members hold (ties: the first in order)
//   longest          the longest text, in code points (numbers: as non_null)
//   most_recent      the value of the member with the latest most_recent field
//   source_priority  the value from the most trusted source
// Ties go to the earlier member in survivorship order.
class GoldenRecordBuilder {
 public:
  GoldenRecordBuilder(const DedupSpec& spec, const Schema& schema);
  // True when every field keeps the survivor's value: Build changes nothing.
  bool trivial() const { return trivial_; }
  // Overwrites records[ranked[0]]'s values (ranked: the survivor first,
  // then the others best first) and returns each field's provenance, in
  // schema order. A value for which `accept` (when given) says false of the
  // golden record holding it is not taken: the survivor keeps its own, and
  // the choice's note says why. The content hash is recomputed when a value
  // changed.
  using Accept = std::function<bool(const Record& golden)>;
  std::vector<GoldenChoice> Build(std::vector<Record>& records, std::span<const uint32_t> ranked,
                                  const Accept& accept = {}) const;

 private:
  enum class FieldRule : uint8_t {
    kSurvivor,
    kNonNull,
    kMostComplete,
    kMostFrequent,
    kLongest,
    kMostRecent,
    kSource
  };
  static const char* Name(FieldRule rule);
  const Schema& schema_;
  std::vector<FieldRule> rules_;  // per schema field
  std::vector<std::string> priority_;
  int recent_index_ = -1;
  bool trivial_ = true;
};

}  // namespace sluice
