// Extraction of residents by key (issue 18 item 3, docs/incremental_dedup.md):
// a Source that passes on only the rows whose key is in a list. A SQLite or
// PostgreSQL source opened by OpenSourceByKeys already selects them by key;
// a file source reads every row and this leaves the others out as they are
// read.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/connectors/connector.h"

namespace sluice {

// A source of `spec` reading only the rows whose key is one of `keys`: the
// SQLite and PostgreSQL kinds select them in their query (a temporary table
// of the keys), every kind is filtered by a KeyListSource.
Result<std::unique_ptr<Source>> OpenSourceByKeys(const SourceSpec& spec,
                                                 const std::vector<std::string>& keys);

class KeyListSource : public Source {
 public:
  // Wraps `inner`, keeping the rows whose key is one of `keys`.
  KeyListSource(std::unique_ptr<Source> inner, const std::vector<std::string>& keys)
      : inner_(std::move(inner)), keys_(keys.begin(), keys.end()) {}

  const Schema& schema() const override { return inner_->schema(); }
  // Reads until `max_rows` rows are kept or the source ends; the batch's
  // range covers the whole stretch read, its `skipped` counts the rows left
  // out. A row rejected as malformed is passed on only when its key is
  // listed: the run's own extraction of the source rejects the others.
  Result<bool> Next(size_t max_rows, RecordBatch* out, std::vector<v1::Fate>* rejects) override;
  Status Seek(const v1::BatchRange& range) override { return inner_->Seek(range); }

 private:
  std::unique_ptr<Source> inner_;
  std::unordered_set<std::string> keys_;
};

}  // namespace sluice
