// A target that reads back the rows of given keys only (issue 18): what the
// reconciler of a delta run asks for, instead of scanning a whole table to
// meet the few thousand records the run decided. A capability beside
// `Target`, found with dynamic_cast, so that adding it touches the targets
// that have it and the reconciler, not every user of connector.h.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/connectors/connector.h"

namespace sluice {

class KeyedRowReader {
 public:
  virtual ~KeyedRowReader() = default;
  // Calls `fn` for the cross-reference entry of each of `keys` (sorted by
  // source, then key, bytewise, without repeats) with the row it points to,
  // exactly as ScanRows hands that entry over, in the same (source, key)
  // order; a key without an entry is skipped.
  virtual Status ScanRowsOfKeys(const Entity& entity, const std::vector<SourceKey>& keys,
                                const std::function<void(const TargetRow&)>& fn) = 0;
  // About how many rows the entity's table holds, found without reading them
  // (SQLite: the largest row id, which bounds the count): what a read by key
  // is weighed against, never a count that a check relies on.
  virtual Result<uint64_t> RowsAtMost(const Entity& entity) = 0;
};

}  // namespace sluice
