// Reference files a mapping reads when the transformer starts: value maps
// from CSV (`map_file`) and enrichment datasets (`enrich`, CSV or SQLite).
// Both are read through the source connectors, so quoting, BOMs and
// encodings behave exactly as for a source.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/core/status.h"
#include "common/plan/plan.h"

namespace sluice {

// The entries of a value-map CSV file: a header line naming the columns
// `from` (source value) and `to` (model value), then one line per entry.
// Fails naming `yaml_path` when the file cannot be read, lacks a column, has
// a malformed line or maps one value twice.
Result<std::vector<std::pair<std::string, std::string>>> LoadValueMapFile(
    const std::string& path, const std::string& yaml_path);

// An enrichment dataset: the `column` value for each `key` value.
class ReferenceDataset {
 public:
  // Reads the whole dataset (`table` set or a .db/.sqlite file: SQLite; else
  // CSV). Empty values are not stored: a lookup of them misses.
  static Result<ReferenceDataset> Load(const FieldMapping::Enrichment& spec,
                                       const std::string& yaml_path);
  // The value for `key`, or nullptr.
  const std::string* Find(const std::string& key) const {
    auto it = values_.find(key);
    return it == values_.end() ? nullptr : &it->second;
  }
  size_t size() const { return values_.size(); }

 private:
  std::unordered_map<std::string, std::string> values_;
};

}  // namespace sluice
