// Blocking for the fuzzy matcher: records grouped by the key of each
// blocking rule, and the candidate pairs of all rules, each counted once.
// Internal to the deduper (fuzzy_matcher.cc); BlockingKeys is declared in
// fuzzy_matcher.h.
#pragma once

#include <cstdint>
#include <vector>

#include "deduper/dedup.h"

namespace sluice::blocking {

// Records grouped by blocking key, one rule: `members` holds the record
// indexes of each block (ascending), blocks delimited by `starts`.
struct Blocks {
  std::vector<uint32_t> members;
  std::vector<uint32_t> starts;  // block b is members[starts[b], starts[b+1])
};

// Groups records by key; blocks above `max_block` are left out, their keys
// set to 0 (so that later rules do not count their pairs as seen) and
// reported in `rule_stats`.
Blocks GroupBlocks(std::vector<uint64_t>* keys, int64_t max_block, MatchStats::Rule* rule_stats,
                   uint64_t* largest);

// Calls fn(a, b) (a < b) for every candidate pair, each once: a pair that
// an earlier rule blocks together is skipped by the later ones.
template <typename Fn>
void ForEachPair(const std::vector<std::vector<uint64_t>>& keys, const std::vector<Blocks>& blocks,
                 Fn fn) {
  // The keys of a record side by side: the "already paired" check reads one
  // cache line per record.
  const size_t rules = keys.size(), n = rules ? keys[0].size() : 0;
  std::vector<uint64_t> row(n * rules);
  for (size_t r = 0; r < rules; ++r) {
    for (size_t i = 0; i < n; ++i) row[i * rules + r] = keys[r][i];
  }
  for (size_t r = 0; r < blocks.size(); ++r) {
    const Blocks& bl = blocks[r];
    for (size_t b = 0; b + 1 < bl.starts.size(); ++b) {
      const uint32_t* m = bl.members.data() + bl.starts[b];
      const size_t size = bl.starts[b + 1] - bl.starts[b];
      for (size_t x = 0; x < size; ++x) {
        for (size_t y = x + 1; y < size; ++y) {
          const uint32_t a = m[x], c = m[y];
          bool seen = false;
          const uint64_t* ka = row.data() + a * rules;
          const uint64_t* kc = row.data() + c * rules;
          for (size_t e = 0; e < r && !seen; ++e) seen = ka[e] != 0 && ka[e] == kc[e];
          if (!seen) fn(r, a, c);
        }
      }
    }
  }
}

}  // namespace sluice::blocking
