// A source that wraps another and passes on part of what it reads (a delta
// above its mark, residents by key): the read of one batch's stretch, shared.
#pragma once

#include <vector>

#include "common/connectors/connector.h"

namespace sluice {

// Reads `inner` part by part into `out` until `max_rows` records and rejects
// are passed on or the source ends. `keep(part, part_rejects)` moves what is
// passed on of one part into `out` and `rejects` and returns how many rows it
// left out. `out`'s range covers the whole stretch read, its `skipped` counts
// the rows left out. False when the source had nothing more.
template <typename Keep>
Result<bool> ReadStretch(Source& inner, size_t max_rows, RecordBatch* out,
                         std::vector<v1::Fate>* rejects, Keep keep) {
  uint64_t skipped = 0;
  bool any = false;
  const size_t rejects_before = rejects->size();
  size_t kept = 0;
  while (kept < max_rows) {
    RecordBatch part;
    std::vector<v1::Fate> part_rejects;
    SLUICE_ASSIGN_OR_RETURN(bool got, inner.Next(max_rows - kept, &part, &part_rejects));
    if (!got) break;
    if (!any) {
      out->schema = part.schema;
      out->range = part.range;
      any = true;
    }
    out->range.set_end_offset(part.range.end_offset());
    skipped += keep(part, part_rejects);
    kept = out->records.size() + (rejects->size() - rejects_before);
  }
  if (!any) return false;
  out->range.set_skipped(skipped);
  return true;
}

}  // namespace sluice
