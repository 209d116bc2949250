// Distributions by segment (issue 17, docs/reconciliation.md#segments): per
// value of each segment field, the records and the sum of each decimal field
// on the source side (what the fates say was loaded, from the loaded values)
// and on the target side (the rows of those records in the target).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/core/value.h"

namespace sluice {

struct SegmentSide {
  uint64_t records = 0;
  std::map<std::string, int64_t> sums;  // decimal field -> units
  bool operator==(const SegmentSide& o) const { return records == o.records && sums == o.sums; }
};

// One value of one segment field.
struct SegmentRow {
  std::string field;
  std::string value;  // as reports show it; "NULL" for NULL
  SegmentSide source, target;
  bool differs() const { return !(source == target); }
};

// Tallies both sides. Not thread-safe.
class SegmentTally {
 public:
  // `fields` not in `schema` are ignored; `schema` must outlive the tally.
  SegmentTally(const Schema& schema, const std::vector<std::string>& fields);
  bool empty() const { return fields_.empty(); }
  // One record of each side, its values in `schema`'s order.
  void AddSource(const std::vector<Value>& values) { Add(values, true); }
  void AddTarget(const std::vector<Value>& values) { Add(values, false); }
  // Every (field, value) seen on either side, by field (in the order given)
  // then value.
  std::vector<SegmentRow> Rows() const;

 private:
  void Add(const std::vector<Value>& values, bool source);
  const Schema& schema_;
  std::vector<size_t> fields_;
  std::vector<size_t> decimals_;
  std::vector<std::map<std::string, std::pair<SegmentSide, SegmentSide>>> by_field_;
};

}  // namespace sluice
