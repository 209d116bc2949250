// The pieces of the fuzzy matcher that tools outside the resolve path use:
// the per-record field columns it compares, blocking keys and the estimate of
// candidate pairs per blocking rule (`sluice dedup estimate`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/plan.h"
#include "common/record.h"
#include "common/status.h"

namespace sluice {

// One field of every record, prepared once for comparing: text folded
// (FoldText) into one arena, integral values as they are.
class FieldColumn {
 public:
  FieldColumn() = default;
  FieldColumn(const Schema& schema, int index, const std::vector<Record>& records);
  bool null(size_t i) const { return null_[i] != 0; }
  std::string_view text(size_t i) const {
    return std::string_view(arena_).substr(offset_[i], offset_[i + 1] - offset_[i]);
  }
  int64_t integer(size_t i) const { return integers_[i]; }
  bool integral() const { return integral_; }
  FieldType type() const { return type_; }
  int scale() const { return scale_; }
  // The Soundex code of text(i) as a 32-bit word; 0 when it has no letter.
  uint32_t soundex(size_t i) const { return soundex_.empty() ? 0 : soundex_[i]; }
  void ComputeSoundex();

 private:
  FieldType type_ = FieldType::kString;
  int scale_ = 0;
  bool integral_ = false;
  std::string arena_;
  std::vector<uint32_t> offset_;  // n + 1 offsets into arena_
  std::vector<int64_t> integers_;
  std::vector<uint8_t> null_;
  std::vector<uint32_t> soundex_;
};

// Computes the blocking keys of one rule for every record: a 64-bit hash
// of the transformed parts, 0 when a part is NULL, empty or a placeholder
// (such a record is not blocked by the rule). Fails when a part names a
// field `schema` lacks.
Result<std::vector<uint64_t>> BlockingKeys(const BlockingRule& rule,
                                           const std::vector<std::string>& placeholders,
                                           const Schema& schema,
                                           const std::vector<Record>& records);

// What blocking would give on `records`, per rule: records blocked, blocks,
// new candidate pairs (pairs an earlier rule already yields count once),
// oversize blocks. For `sluice dedup estimate`, before a run.
struct BlockingEstimate {
  std::string rule;
  uint64_t blocked = 0, blocks = 0, pairs = 0, oversize_blocks = 0, oversize_records = 0;
  uint64_t largest_block = 0;
};
Result<std::vector<BlockingEstimate>> EstimateBlocking(const DedupSpec& spec, const Schema& schema,
                                                       const std::vector<Record>& records);

}  // namespace sluice
