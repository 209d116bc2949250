// The differences a reconciliation finds between what a wave loaded and what
// the target holds (issue 17, docs/reconciliation.md), in the style
// `key, failure type, field, expected, actual`.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <string>
#include <vector>

#include "common/core/value.h"

namespace sluice {

// A loaded record has no row in the target.
inline constexpr char kMissingTarget[] = "MISSING_TARGET";
// A row in the target that no fate of the run put there.
inline constexpr char kUnexpectedTarget[] = "UNEXPECTED_TARGET";
// A loaded record's row differs from what was loaded, in `field`.
inline constexpr char kRecordDiff[] = "RECORD_DIFF";
// A reference in the target points at no row of its parent entity.
inline constexpr char kReferenceBroken[] = "REFERENCE_BROKEN";
// A decimal field's sum over the target's rows is not the loaded sum.
inline constexpr char kSumMismatch[] = "SUM_MISMATCH";

struct FieldDifference {
  std::string source, key;  // "*" for a whole entity (SUM_MISMATCH)
  std::string failure;      // one of the five above
  std::string field;        // "" when the whole record is concerned
  std::string expected, actual;
};

// Receives every difference as it is found, uncapped.
using DifferenceSink = std::function<void(const FieldDifference&)>;

// Differences kept for the report per entity: the smallest by (source, key,
// failure, field). All of them are counted and passed to the sink.
inline constexpr size_t kMaxReportedDifferences = 1000;

// Counts every difference by failure type, keeps the report's sample and
// passes each to a sink. Not thread-safe.
class DifferenceLog {
 public:
  explicit DifferenceLog(DifferenceSink sink = nullptr) : sink_(std::move(sink)) {}
  void Add(FieldDifference d);
  uint64_t count() const { return count_; }
  const std::map<std::string, uint64_t>& counts() const { return counts_; }  // failure -> n
  // The sample, sorted; the log keeps it.
  std::vector<FieldDifference> Sample() const;

 private:
  struct Later {
    bool operator()(const FieldDifference& a, const FieldDifference& b) const;
  };
  DifferenceSink sink_;
  std::priority_queue<FieldDifference, std::vector<FieldDifference>, Later> kept_;  // max-heap
  std::map<std::string, uint64_t> counts_;
  uint64_t count_ = 0;
};

// A value as reports show it: FormatValue's text, "NULL" for NULL.
std::string ShowValue(const FieldSpec& field, const Value& value);
// A content hash or key checksum as reports show it: 16 hex digits.
std::string ShowHash(uint64_t hash);
// "name=value, ..." of every field: a whole record in one cell.
std::string ShowRecord(const Schema& schema, const std::vector<Value>& values);

// One RECORD_DIFF per field whose value in `actual` is not the one in
// `expected` (both in `schema`'s order), with the two values shown.
void AddRecordDiffs(const Schema& schema, const std::string& source, const std::string& key,
                    const std::vector<Value>& expected, const std::vector<Value>& actual,
                    DifferenceLog* log);

}  // namespace sluice
