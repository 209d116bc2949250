#include "deduper/shard_map.h"

#include "common/core/hash.h"

namespace sluice {

ShardMap::ShardMap(uint32_t count, uint32_t self)
    : count_(count == 0 ? 1 : count), self_(self), owners_(kVirtualShards) {
  for (uint32_t v = 0; v < kVirtualShards; ++v) owners_[v] = v % count_;
}

ShardMap::ShardMap(const std::vector<uint32_t>& owners, uint32_t count, uint32_t self)
    : ShardMap(count, self) {
  if (owners.size() != kVirtualShards) return;
  for (uint32_t o : owners) {
    if (o >= count_) return;
  }
  owners_ = owners;
}

uint32_t ShardMap::HomeOf(std::string_view source, std::string_view key) const {
  if (single()) return 0;
  return owners_[KeyHash(source, key) % kVirtualShards];
}

}  // namespace sluice
