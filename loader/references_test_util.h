// Test support for the loader's reference tests: a target whose
// cross-reference is a map.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "common/connectors/connector.h"

namespace sluice {

// A target whose cross-reference is a map (entity, source, key) -> target
// id; nothing else is used.
class XrefTarget : public Target {
 public:
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> xref;
  int lookups = 0;  // ResolveKeys calls
  Status Prepare(const Entity&) override { return Status::Ok(); }
  Result<LoadOutcome> Load(const std::string&, const Entity&, const RecordBatch&) override {
    return LoadOutcome{};
  }
  Status ScanRows(const Entity&, const std::function<void(const TargetRow&)>&) override {
    return Status::Ok();
  }
  Result<std::vector<int64_t>> ResolveKeys(const std::string& entity, const std::string& source,
                                           const std::vector<std::string>& keys) override {
    ++lookups;
    std::vector<int64_t> ids;
    for (const auto& k : keys) {
      auto it = xref.find({entity, source, k});
      ids.push_back(it == xref.end() ? 0 : it->second);
    }
    return ids;
  }
};

}  // namespace sluice
