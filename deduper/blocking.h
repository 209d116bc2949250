// Blocking for the fuzzy matcher: records grouped by the key of each
// blocking rule, and the candidate pairs of all rules, each counted once.
// Internal to the deduper (fuzzy_matcher.cc); BlockingKeys is declared in
// fuzzy_matcher.h.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "deduper/dedup.h"
#include "deduper/shard_map.h"

namespace sluice::blocking {

// Records grouped by blocking key, one rule: `members` holds the record
// indexes of each block (ascending), blocks delimited by `starts`.
struct Blocks {
  std::vector<uint32_t> members;
  std::vector<uint32_t> starts;  // block b is members[starts[b], starts[b+1])
};

// Groups records by key. A block's size counts every record with the key,
// `skip`ped ones included (the owner of a block knows them all before it
// knows which are repeats); an oversize block (above `max_block` and owned,
// or listed in `oversize`, ascending: every shard's) is left out, its keys
// set to 0 (so that later rules do not count its pairs as seen) and
// reported in `rule_stats` when owned. With a shard map, only the blocks the
// shard owns are returned (and counted in rule_stats->blocks). Skipped
// records' keys are set to 0: they take part in no pair.
Blocks GroupBlocks(std::vector<uint64_t>* keys, int64_t max_block, MatchStats::Rule* rule_stats,
                   uint64_t* largest, const ShardMap* shards = nullptr,
                   const std::vector<uint8_t>* skip = nullptr,
                   const std::vector<uint64_t>* oversize = nullptr);

// The keys of the oversize blocks the shard owns (ascending), counting every
// record.
std::vector<uint64_t> OversizeKeys(const std::vector<uint64_t>& keys, int64_t max_block,
                                   const ShardMap& shards);

// The blocking keys of every rule, record by record: record i's keys at
// keys[i * rules, (i + 1) * rules). The "already paired" check reads one
// cache line per record; the matcher holds its keys in this form only.
struct KeyRows {
  size_t rules = 0;
  std::vector<uint64_t> keys;
  uint64_t Key(size_t i, size_t r) const { return keys[i * rules + r]; }
  // From keys per rule, per record; each rule's vector is let go of once
  // copied (`per_rule` is left empty).
  static KeyRows Of(std::vector<std::vector<uint64_t>>* per_rule) {
    KeyRows out;
    out.rules = per_rule->size();
    const size_t n = out.rules ? (*per_rule)[0].size() : 0;
    out.keys.resize(n * out.rules);
    for (size_t r = 0; r < out.rules; ++r) {
      const std::vector<uint64_t>& k = (*per_rule)[r];
      for (size_t i = 0; i < n; ++i) out.keys[i * out.rules + r] = k[i];
      std::vector<uint64_t>().swap((*per_rule)[r]);
    }
    std::vector<std::vector<uint64_t>>().swap(*per_rule);
    return out;
  }
};

// Calls fn(a, b) (a < b) for every candidate pair, each once: a pair that
// an earlier rule blocks together is skipped by the later ones. With blocks
// grouped for one shard of N, each pair is therefore given to exactly one
// shard: the owner of its block under the first rule that pairs it.
template <typename Fn>
void ForEachPair(const KeyRows& rows, const std::vector<Blocks>& blocks, Fn fn) {
  const size_t rules = rows.rules;
  const uint64_t* row = rows.keys.data();
  for (size_t r = 0; r < blocks.size(); ++r) {
    const Blocks& bl = blocks[r];
    size_t ahead = 0;  // members whose key rows have been prefetched
    for (size_t b = 0; b + 1 < bl.starts.size(); ++b) {
      const uint32_t* m = bl.members.data() + bl.starts[b];
      const size_t size = bl.starts[b + 1] - bl.starts[b];
      // The members of the next blocks are scattered records: fetch their
      // key rows while this block is compared (a miss per pair otherwise).
      if (r > 0) {
        const size_t want = std::min<size_t>(bl.starts[b + 1] + 16, bl.members.size());
        for (; ahead < want; ++ahead) __builtin_prefetch(row + bl.members[ahead] * rules);
      }
      for (size_t x = 0; x < size; ++x) {
        for (size_t y = x + 1; y < size; ++y) {
          const uint32_t a = m[x], c = m[y];
          bool seen = false;
          const uint64_t* ka = row + a * rules;
          const uint64_t* kc = row + c * rules;
          for (size_t e = 0; e < r && !seen; ++e) seen = ka[e] != 0 && ka[e] == kc[e];
          if (!seen) fn(r, a, c);
        }
      }
    }
  }
}

// The same over keys per rule (copied record by record for the walk).
template <typename Fn>
void ForEachPair(const std::vector<std::vector<uint64_t>>& keys, const std::vector<Blocks>& blocks,
                 Fn fn) {
  std::vector<std::vector<uint64_t>> copy = keys;
  ForEachPair(KeyRows::Of(&copy), blocks, fn);
}

}  // namespace sluice::blocking
