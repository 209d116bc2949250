#include "extractor/delta_source.h"

#include "common/core/watermark.h"
#include "extractor/stretch_read.h"

namespace sluice {

Result<std::unique_ptr<Source>> DeltaSource::Wrap(const SourceSpec& spec,
                                                  std::unique_ptr<Source> inner) {
  const int column = inner->schema().IndexOf(spec.incremental_column);
  if (column < 0) {
    return Status::InvalidArgument(spec.yaml_path + ".incremental.column: column '" +
                                   spec.incremental_column + "' not found in " + spec.name);
  }
  return std::unique_ptr<Source>(new DeltaSource(std::move(inner), column, spec.extract_above));
}

uint64_t DeltaSource::Keep(RecordBatch* part, RecordBatch* out, std::string* high) const {
  uint64_t skipped = 0;
  for (Record& r : part->records) {
    const Value& v = r.values[static_cast<size_t>(column_)];
    // A NULL or empty column is never above a mark: full runs read it.
    const bool blank = v.is_null || v.s.empty();
    if (mark_ && (blank || !AboveMark(v.s, *mark_))) {
      ++skipped;
      continue;
    }
    if (!blank) *high = HigherMark(*high, v.s);
    out->records.push_back(std::move(r));
  }
  return skipped;
}

Result<bool> DeltaSource::Next(size_t max_rows, RecordBatch* out, std::vector<v1::Fate>* rejects) {
  std::string high;
  SLUICE_ASSIGN_OR_RETURN(bool any,
                          ReadStretch(*inner_, max_rows, out, rejects,
                                      [&](RecordBatch& part, std::vector<v1::Fate>& part_rejects) {
                                        for (v1::Fate& f : part_rejects)
                                          rejects->push_back(std::move(f));
                                        return Keep(&part, out, &high);
                                      }));
  if (!any) return false;
  out->range.set_watermark_above(mark_.value_or(""));
  out->range.set_watermark_high(high);
  return true;
}

Status DeltaSource::Seek(const v1::BatchRange& range) { return inner_->Seek(range); }

}  // namespace sluice
