// The canonical order of a shard's records (docs/dedup.md): by source, key
// and occurrence, whatever order they arrived in.
#include <algorithm>
#include <map>
#include <numeric>
#include <string_view>

#include "deduper/dedup_internal.h"

namespace sluice::dedup_internal {

std::vector<uint32_t> CanonicalOrder(const std::vector<Record>& records,
                                     const std::vector<Origin>& origins,
                                     const std::vector<IngestedBatch>& batches) {
  std::vector<uint32_t> by_stream(batches.size());
  std::iota(by_stream.begin(), by_stream.end(), 0u);
  std::sort(by_stream.begin(), by_stream.end(), [&](uint32_t a, uint32_t b) {
    const v1::BatchId &x = batches[a].id, &y = batches[b].id;
    if (x.source() != y.source()) return x.source() < y.source();
    if (x.sequence() != y.sequence()) return x.sequence() < y.sequence();
    return batches[a].name < batches[b].name;
  });
  std::vector<uint32_t> rank(batches.size());
  for (uint32_t i = 0; i < by_stream.size(); ++i) rank[by_stream[i]] = i;

  // Sorted on a 64-bit prefix (source rank, first six key bytes) that
  // agrees with the full order, which only breaks ties: most comparisons
  // then stay in one cache line.
  std::map<std::string_view, uint64_t> source_rank;
  for (const Record& r : records) source_rank.emplace(r.source, 0);
  uint64_t next = 0;
  for (auto& [source, r] : source_rank) r = next++;
  const bool ranked = source_rank.size() < (1u << 16);
  std::vector<std::pair<uint64_t, uint32_t>> order(records.size());
  const std::string* last_source = nullptr;
  uint64_t last_rank = 0;
  for (uint32_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    if (last_source == nullptr || *last_source != r.source) {
      last_source = &r.source;
      last_rank = source_rank[r.source];
    }
    uint64_t prefix = last_rank << 48;
    for (size_t b = 0; b < 6 && b < r.key.size(); ++b) {
      prefix |= static_cast<uint64_t>(static_cast<uint8_t>(r.key[b])) << (40 - 8 * b);
    }
    order[i] = {ranked ? prefix : 0, i};
  }
  std::sort(order.begin(), order.end(), [&](const auto& pa, const auto& pb) {
    if (pa.first != pb.first) return pa.first < pb.first;
    const uint32_t a = pa.second, b = pb.second;
    const Record &x = records[a], &y = records[b];
    if (int c = x.source.compare(y.source); c != 0) return c < 0;
    if (int c = x.key.compare(y.key); c != 0) return c < 0;
    const Origin &ox = origins[a], &oy = origins[b];
    if (ox.batch != oy.batch) return rank[ox.batch] < rank[oy.batch];
    return ox.position < oy.position;
  });
  std::vector<uint32_t> perm(records.size());
  for (size_t i = 0; i < order.size(); ++i) perm[i] = order[i].second;
  return perm;
}

}  // namespace sluice::dedup_internal
