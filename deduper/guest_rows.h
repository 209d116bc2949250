// Guest rows (docs/dedup.md#guest-rows): what a dedup shard receives of a
// record whose home is another shard, so that it can block and compare the
// record's candidate pairs in the blocks it owns without holding the record:
// its name (source, key), its position in the transformer's batch, its
// blocking key under every rule the matcher blocks on, and its compared
// fields folded once (compare::PairComparer::FoldRow). The transformer's
// router writes them into RecordBatch.guest_rows; the shard logs them with
// the batch and keeps them in a guest::Store. The router folds every record
// once, so it gives the home shard the keys and row of each home record
// too (a *home row*): no shard computes them again.
//
// Wire form: varint rule count, then per entry a varint kind. A guest (0):
// varint length and bytes of the source, of the key, varint position. A home
// row (1): varint index of the record in the batch's `records`. Then, for
// both, one little-endian 8-byte key per rule and varint length and bytes
// of the folded row.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/record.h"
#include "common/core/status.h"
#include "deduper/compare_pass.h"
#include "deduper/dedup.h"
#include "deduper/shard_map.h"

namespace sluice::guest {

// One entry as written on the wire (views into the batch's bytes).
struct Row {
  bool home = false;   // a home row: `index`; else a guest: the name
  uint32_t index = 0;  // home: the record's index in the batch
  std::string_view source, key;
  uint32_t position = 0;
  const char* keys = nullptr;  // `rules` little-endian uint64s
  std::string_view folded;
  uint64_t Key(size_t rule) const;
};

// Appends guests to a batch's guest_rows.
class Writer {
 public:
  Writer(std::string* out, size_t rules);
  void Add(const Record& r, uint32_t position, const uint64_t* keys, std::string_view folded);
  void AddHome(uint32_t index, const uint64_t* keys, std::string_view folded);

 private:
  void PutRow(const uint64_t* keys, std::string_view folded);
  std::string* out_;
  size_t rules_;
};

// Calls fn for every entry of `data`, a batch's guest_rows (empty: none).
// Fails with Corruption when the bytes are short, when the rule count is
// not `rules`, or when a home row's index is not below `home_records`.
Status ForEach(std::string_view data, size_t rules, size_t home_records,
               const std::function<void(const Row&)>& fn);

// How many guests (not home rows) `data` holds (0 when it does not parse).
size_t Count(std::string_view data);

// The guests a shard holds: keys and folded rows, by guest index. Each
// row is 8-byte aligned and never moves, so that the comparer uses it in
// place (compare::PairComparer::PrepareRows) while the store lives.
class Store {
 public:
  void Clear();
  // Adds one guest; returns its index.
  uint32_t Add(const Row& row, size_t rules);
  size_t size() const { return sizes_.size(); }
  size_t rules() const { return rules_; }
  // Keeps the guests `keep` marks (by index), in place, in their order, and
  // releases the chunks left empty; returns each guest's new index (kHome
  // for one let go). Rows move: nothing may point into the store.
  std::vector<uint32_t> Keep(const std::vector<uint8_t>& keep);
  uint64_t Key(uint32_t g, size_t rule) const { return keys_[g * rules_ + rule]; }
  char* Folded(uint32_t g) const { return chunks_[at_[g] >> 32].get() + (at_[g] & 0xFFFFFFFF); }
  size_t FoldedSize(uint32_t g) const { return sizes_[g]; }

 private:
  static constexpr size_t kChunk = size_t{4} << 20;
  uint32_t PutFolded(std::string_view folded);    // the row of the keys just added
  std::pair<size_t, size_t> Place(size_t bytes);  // (chunk, offset) of the next row
  size_t rules_ = 0;
  std::vector<uint64_t> keys_;
  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t used_ = kChunk;      // in the last chunk
  std::vector<uint64_t> at_;  // chunk << 32 | offset
  std::vector<uint32_t> sizes_;
};

// Per record of a shard, its index in the store when its keys and row were
// given (a guest, or a home record with a home row), or kHome for none.
constexpr uint32_t kHome = UINT32_MAX;

// Which of the records a shard of N holds (`records`, with `guest_of` into
// `store`) it needs for the blocks it owns: 1 for every home record, and
// for a guest that shares the key of a block this shard owns with another
// record it holds (every occurrence counted, as GroupBlocks counts a
// block's size). A guest in none of them takes part in no candidate pair,
// no oversize count and no u sample here: dropping it changes no decision
// (docs/dedup.md#guest-rows). Every record is needed when one has no row
// (its keys are not known here).
std::vector<uint8_t> NeededForBlocks(const std::vector<Record>& records,
                                     const std::vector<uint32_t>& guest_of, const Store& store,
                                     const ShardMap& shards);

// The matcher's side (fuzzy_matcher.cc). Keys gives the keys under blocking
// rule `rule` (index `r`) of the records of `in`: the router's where given,
// computed by BlockingKeys for the others (only when there are any).
// PrepareRows lays out the comparer's rows: the given ones in place, the
// others folded here.
Result<std::vector<uint64_t>> Keys(const MatchInput& in, const BlockingRule& rule, size_t r,
                                   const std::vector<std::string>& placeholders);
Status PrepareRows(const MatchInput& in, compare::PairComparer* comparer);

}  // namespace sluice::guest
