// The loaded values of a batch in the audit store (issue 20,
// common/audit/audit_values.cc): one row per loader commit instead of a
// column of every LOADED fate row.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/audit/sqlite_util.h"
#include "common/core/status.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// One LOADED fate's values as stored; views into the decoded buffer.
struct BatchValueEntry {
  std::string_view source;
  std::string_view key;
  uint64_t content_hash = 0;
  std::string_view values;  // canonical encoding (EncodeCanonical)
};

// The stored form of `commit`'s LOADED fates that carry values ("" when
// none does), and back. DecodeBatchValues appends to `out`; false when `in`
// is damaged.
std::string EncodeBatchValues(const v1::Commit& commit);
bool DecodeBatchValues(std::string_view in, std::vector<BatchValueEntry>* out);

// Finds the values of a run's LOADED fates, batch by batch: reading the
// fates of a batch in their stored order costs one read of the batch's
// values and a comparison per fate. Not thread-safe; `db` must outlive it.
class BatchValuesReader {
 public:
  BatchValuesReader(SqliteDb* db, std::string run_id);
  // The values stored for (source, key, content_hash) in `batch`, "" when
  // none are; valid until the next call with another batch.
  Result<std::string_view> Find(std::string_view batch, std::string_view source,
                                std::string_view key, uint64_t content_hash);

 private:
  Status Load(std::string_view batch);

  SqliteDb* db_;
  std::string run_id_;
  Statement select_;
  bool table_checked_ = false, has_table_ = false;
  bool loaded_ = false;
  std::string batch_;
  std::string buffer_;
  std::vector<BatchValueEntry> entries_;
  size_t next_ = 0;
};

}  // namespace sluice
