// Records and record batches as the stages see them in memory.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/core/hash.h"
#include "common/core/value.h"
#include "sluice/v1/batch.pb.h"

namespace sluice {

struct SourceKey {
  std::string source;
  std::string key;
  bool operator==(const SourceKey& o) const { return source == o.source && key == o.key; }
  bool operator<(const SourceKey& o) const {
    return source != o.source ? source < o.source : key < o.key;
  }
};

struct Record {
  std::string source;             // source system name, as in the plan
  std::string key;                // stable source primary key
  uint64_t content_hash = 0;      // ContentHash of `values` under the batch schema
  uint64_t line = 0;              // origin line in the source, 0 when not known
  std::vector<Value> values;      // positional, following the batch schema
  std::vector<SourceKey> merged;  // keys merged into this survivor (deduper output)
};

struct RecordBatch {
  v1::BatchId id;
  uint64_t epoch = 0;
  v1::BatchRange range;
  Schema schema;
  std::vector<Record> records;
  // A batch routed to one dedup shard: each record's position in the
  // transformer's whole batch (docs/dedup.md#scale-out). Empty: 0..n-1.
  std::vector<uint32_t> positions;
  // And what it needs of the records whose home is another shard
  // (deduper/guest_rows.h). Empty: none.
  std::string guest_rows;

  // Sum of KeyHash over the records.
  uint64_t KeyChecksumValue() const;
  // Recomputes every record's content hash under `schema`.
  void RehashAll();
};

// Fills the next record of `out` from one source row of text cells, reusing
// a record left from an earlier batch when there is one (`*used` records are
// taken so far; the caller trims `out->records` to it at the end).
// `is_null(c)` and `text(c)` read cell c; the key is column `key_index`.
template <typename IsNull, typename Text>
void AppendTextRecord(RecordBatch* out, size_t* used, const Schema& schema,
                      const std::string& source, uint64_t line, size_t key_index, IsNull is_null,
                      Text text) {
  if (*used == out->records.size()) out->records.emplace_back();
  Record& r = out->records[(*used)++];
  r.source = source;
  r.line = line;
  r.merged.clear();
  const size_t n = schema.fields.size();
  r.values.resize(n);
  for (size_t c = 0; c < n; ++c) {
    Value& v = r.values[c];
    v.i = 0;
    v.is_null = is_null(static_cast<int>(c));
    if (v.is_null) {
      v.s.clear();
    } else {
      v.s.assign(text(static_cast<int>(c)));
    }
  }
  r.key = r.values[key_index].s;
  r.content_hash = ContentHash(schema, r.values);
}

// "run/wave/entity/source/sequence": a readable, stable batch name for logs.
std::string BatchName(const v1::BatchId& id);

}  // namespace sluice
