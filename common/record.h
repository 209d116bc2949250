// Records and record batches as the stages see them in memory.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/hash.h"
#include "common/value.h"
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

  // Sum of KeyHash over the records.
  uint64_t KeyChecksumValue() const;
  // Recomputes every record's content hash under `schema`.
  void RehashAll();
};

// "run/wave/entity/source/sequence": a readable, stable batch name for logs.
std::string BatchName(const v1::BatchId& id);

}  // namespace sluice
