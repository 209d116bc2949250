#include "reconciler/segments.h"

#include "reconciler/differences.h"

namespace sluice {

SegmentTally::SegmentTally(const Schema& schema, const std::vector<std::string>& fields)
    : schema_(schema) {
  for (const std::string& name : fields) {
    const int at = schema.IndexOf(name);
    if (at >= 0) fields_.push_back(static_cast<size_t>(at));
  }
  for (size_t f = 0; f < schema.fields.size(); ++f) {
    if (schema.fields[f].type == FieldType::kDecimal) decimals_.push_back(f);
  }
  by_field_.resize(fields_.size());
}

void SegmentTally::Add(const std::vector<Value>& values, bool source) {
  if (values.size() != schema_.fields.size()) return;
  for (size_t s = 0; s < fields_.size(); ++s) {
    const size_t f = fields_[s];
    auto& [source_side, target_side] = by_field_[s][ShowValue(schema_.fields[f], values[f])];
    SegmentSide& side = source ? source_side : target_side;
    ++side.records;
    for (size_t d : decimals_) {
      // Wrapping, as the entity's sums: both sides wrap alike.
      int64_t& sum = side.sums[schema_.fields[d].name];
      if (!values[d].is_null) {
        sum = static_cast<int64_t>(static_cast<uint64_t>(sum) + static_cast<uint64_t>(values[d].i));
      }
    }
  }
}

std::vector<SegmentRow> SegmentTally::Rows() const {
  std::vector<SegmentRow> rows;
  for (size_t s = 0; s < fields_.size(); ++s) {
    for (const auto& [value, sides] : by_field_[s]) {
      SegmentRow row{schema_.fields[fields_[s]].name, value, sides.first, sides.second};
      // A side that saw no record of the value has every sum at zero.
      for (size_t d : decimals_) {
        row.source.sums.try_emplace(schema_.fields[d].name, 0);
        row.target.sums.try_emplace(schema_.fields[d].name, 0);
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace sluice
