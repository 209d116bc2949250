#include "common/core/record.h"

namespace sluice {

uint64_t RecordBatch::KeyChecksumValue() const {
  KeyChecksum sum;
  for (const auto& r : records) sum.Add(r.source, r.key);
  return sum.value();
}

void RecordBatch::RehashAll() {
  for (auto& r : records) r.content_hash = ContentHash(schema, r.values);
}

std::string BatchName(const v1::BatchId& id) {
  return id.run_id() + "/" + std::to_string(id.wave()) + "/" + id.entity() + "/" + id.source() +
         "/" + std::to_string(id.sequence());
}

}  // namespace sluice
