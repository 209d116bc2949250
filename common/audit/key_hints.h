// What an audit store holds near a record it has no fate of, so that
// `sluice trace` can say what to type instead of only "not found" (issue
// 20: traces of keys picked by hand exited 1 with nothing to go on).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/audit/sqlite_util.h"
#include "common/core/status.h"

namespace sluice {

// A fate whose key is not the one asked for but is likely the one meant.
struct KeyLookalike {
  std::string run_id, key, kind;
  int64_t target_id = 0;
  uint64_t line = 0;
  bool by_number = false;  // its target id or source line/row is the number asked for
};

struct KeyHints {
  std::vector<std::string> entities;         // the store's entities, when the entity has no fate
  std::vector<std::string> sources;          // the entity's sources, when the source has no fate
  std::optional<std::string> before, after;  // the source's keys either side of the key
  std::vector<KeyLookalike> lookalikes;
};

// In the store `db` (its fates and packed loaded keys): the entities when `entity` has no
// fate, else the entity's sources when `source` has none, else the keys of
// (entity, source) either side of `key` in key order and up to five fates
// whose key is `key` but for ASCII case and surrounding spaces, or whose
// target id or source line/row is `key` read as a number. The first three
// are index seeks; the last scans the source's fates (a failed trace only).
Result<KeyHints> KeyHintsOf(SqliteDb& db, const std::string& entity, const std::string& source,
                            const std::string& key);

}  // namespace sluice
