// Lineage: the value changes a transformation made, (key, field, before,
// after, rule), packed per batch into one compact blob that travels in the
// transformer's Commit (field `lineage`) and is stored as is in the audit
// store (common/audit/audit_lineage.cc). Field and rule names and before/after
// values are interned once per blob; consecutive changes of the same record
// share its key.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/core/status.h"

namespace sluice {

// One changed value. NULL before or after is nullopt.
struct LineageChange {
  std::string key;
  std::string field;
  std::string rule;
  std::optional<std::string> before;
  std::optional<std::string> after;
};

// Builds one blob. Not thread-safe.
class LineageWriter {
 public:
  void Add(std::string_view key, std::string_view field, std::string_view rule,
           const std::optional<std::string_view>& before,
           const std::optional<std::string_view>& after);
  size_t size() const { return count_; }
  // The packed blob ("" when nothing was added); the writer is then empty.
  std::string Finish();

 private:
  uint32_t Intern(std::string_view name);

  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, TextHash, std::equal_to<>> ids_;
  std::vector<std::string> names_;
  std::string entries_;
  std::string last_key_;
  size_t count_ = 0;
};

// Unpacks a blob made by LineageWriter; Corruption when it is malformed.
Result<std::vector<LineageChange>> DecodeLineage(std::string_view blob);

}  // namespace sluice
