// Test helpers for stages that map into a reused output batch (the
// transformer and the validator keep one `out` across batches so that its
// value strings keep their memory).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/core/record.h"

namespace sluice::record_testing {

// A batch of `n` records holding what a stage writing over them must reset:
// other keys, lines, hashes, one value too many (longer than the small
// string buffer) and a merged key.
inline RecordBatch StaleBatch(size_t n, size_t fields) {
  RecordBatch stale;
  for (size_t i = 0; i < n; ++i) {
    Record& r = stale.records.emplace_back();
    r.source = r.key = "stale";
    r.line = r.content_hash = 99;
    r.values.assign(fields + 1, Value::Str("a stale value, longer than SSO"));
    r.merged.push_back({"stale", "stale"});
  }
  return stale;
}

// `got` holds the same records as `want`, field by field.
inline void ExpectSameRecords(const std::vector<Record>& got, const std::vector<Record>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("reused output row " + std::to_string(i));
    EXPECT_EQ(got[i].source, want[i].source);
    EXPECT_EQ(got[i].key, want[i].key);
    EXPECT_EQ(got[i].line, want[i].line);
    EXPECT_EQ(got[i].content_hash, want[i].content_hash);
    EXPECT_EQ(got[i].values, want[i].values);
    EXPECT_EQ(got[i].merged, want[i].merged);
  }
}

}  // namespace sluice::record_testing
