// The dedup shard map (docs/dedup.md#scale-out): V = 256 fixed virtual
// shards, each owned by one of the run's N shards (vshard mod N). A block of
// candidate pairs belongs to the virtual shard of its blocking key; a record
// has a home virtual shard, that of its (source, key).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace sluice {

class ShardMap {
 public:
  static constexpr uint32_t kVirtualShards = 256;

  // One shard owning everything: the single-shard resolve.
  ShardMap() : ShardMap(1, 0) {}
  // `count` shards, this process being `self`, vshard -> vshard % count.
  ShardMap(uint32_t count, uint32_t self);
  // A map as sent by the coordinator (one ordinal per virtual shard); an
  // empty or malformed map falls back to the modulo map.
  ShardMap(const std::vector<uint32_t>& owners, uint32_t count, uint32_t self);

  uint32_t count() const { return count_; }
  uint32_t self() const { return self_; }
  bool single() const { return count_ <= 1; }
  const std::vector<uint32_t>& owners() const { return owners_; }

  // Blocking keys are xxh64 of the key text (fixed seed, deduper/blocking.cc);
  // their virtual shard is that hash mod V.
  static uint32_t VShardOfBlock(uint64_t block_key) {
    return static_cast<uint32_t>(block_key % kVirtualShards);
  }
  uint32_t OwnerOfBlock(uint64_t block_key) const { return owners_[VShardOfBlock(block_key)]; }
  bool OwnsBlock(uint64_t block_key) const { return single() || OwnerOfBlock(block_key) == self_; }

  // The home shard of a record: the owner of KeyHash(source, key) mod V.
  uint32_t HomeOf(std::string_view source, std::string_view key) const;

 private:
  uint32_t count_ = 1;
  uint32_t self_ = 0;
  std::vector<uint32_t> owners_;  // kVirtualShards entries
};

}  // namespace sluice
