#include "deduper/blocking.h"

#include <algorithm>
#include <string>
#include <unordered_set>
#include <utility>

#include "common/core/hash.h"
#include "deduper/comparators.h"
#include "deduper/dedup_internal.h"
#include "deduper/fuzzy_matcher.h"
#include "deduper/metaphone.h"
#include "deduper/person_compare.h"

namespace sluice {
namespace {

// Civil year of a count of days since 1970-01-01 (Howard Hinnant's
// algorithm), for year() blocking.
int64_t YearOfDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return yoe + era * 400 + (m <= 2);
}

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

}  // namespace

Result<std::vector<uint64_t>> BlockingKeys(const BlockingRule& rule,
                                           const std::vector<std::string>& placeholders,
                                           const Schema& schema,
                                           const std::vector<Record>& records) {
  struct Part {
    int index;
    FieldType type;
    const BlockingPart* spec;
  };
  std::vector<Part> parts;
  for (const BlockingPart& p : rule.parts) {
    const int index = schema.IndexOf(p.field);
    if (index < 0) {
      return Status::InvalidArgument(rule.yaml_path + ": no field " + p.field + " in the entity");
    }
    parts.push_back({index, schema.fields[index].type, &p});
  }
  std::unordered_set<std::string> folded_placeholders;
  for (const std::string& p : placeholders) {
    std::string f;
    similarity::FoldText(p, &f);
    folded_placeholders.insert(f);
    folded_placeholders.insert(p);
  }
  std::vector<uint64_t> keys(records.size(), 0);
  std::string key, folded;
  for (size_t i = 0; i < records.size(); ++i) {
    // A guest (guest_rows.h) has no values here: its keys come from the router.
    if (records[i].values.empty()) continue;
    key.clear();
    bool usable = !parts.empty();
    for (const Part& part : parts) {
      const Value& v = records[i].values[part.index];
      if (v.is_null) {
        usable = false;
        break;
      }
      folded.clear();
      const std::string& transform = part.spec->transform;
      if (IsIntegral(part.type)) {
        int64_t x = v.i;
        if (transform == "year") {
          x = YearOfDays(part.type == FieldType::kTimestamp ? x / kMicrosPerDay : x);
        }
        folded = std::to_string(x);
        if (folded_placeholders.count(folded)) usable = false;
      } else {
        if (folded_placeholders.count(v.s)) {
          usable = false;
          break;
        }
        similarity::FoldText(v.s, &folded);
        if (folded.empty() || folded_placeholders.count(folded)) {
          usable = false;
          break;
        }
        if (transform == "soundex") {
          char code[5];
          if (!similarity::Soundex(folded, code)) {
            usable = false;
            break;
          }
          folded = code;
        } else if (transform == "metaphone") {
          // The primary Double Metaphone code: one key per record.
          folded = similarity::DoubleMetaphone(folded).primary;
          if (folded.empty()) {
            usable = false;
            break;
          }
        } else if (transform == "prefix") {
          size_t cut = 0, chars = 0;  // whole code points
          while (cut < folded.size() && chars < static_cast<size_t>(part.spec->length)) {
            ++cut;
            while (cut < folded.size() && (static_cast<uint8_t>(folded[cut]) & 0xC0) == 0x80) {
              ++cut;
            }
            ++chars;
          }
          folded.resize(cut);
        } else if (transform == "phone") {  // the national significant number
          folded = compare::PhoneKey(v.s);
          if (folded.empty()) {
            usable = false;
            break;
          }
        } else if (transform == "digits") {
          folded.erase(std::remove_if(folded.begin(), folded.end(),
                                      [](char c) { return c < '0' || c > '9'; }),
                       folded.end());
          if (folded.empty()) {
            usable = false;
            break;
          }
        }
      }
      if (!usable) break;
      const uint32_t len = static_cast<uint32_t>(folded.size());
      key.append(reinterpret_cast<const char*>(&len), sizeof len);
      key.append(folded);
    }
    if (!usable) continue;
    uint64_t h = Hash64(key);
    keys[i] = h == 0 ? 1 : h;
  }
  return keys;
}

// Blocking as a run would do it, per rule, for `sluice dedup estimate`.
Result<std::vector<BlockingEstimate>> EstimateBlocking(const DedupSpec& spec, const Schema& schema,
                                                       const std::vector<Record>& records) {
  std::vector<BlockingRule> rules =
      spec.fuzzy() ? dedup_internal::FuzzyBlockingRules(spec) : spec.blocking;
  std::vector<std::vector<uint64_t>> keys;
  std::vector<blocking::Blocks> blocks;
  std::vector<BlockingEstimate> out;
  for (const BlockingRule& rule : rules) {
    SLUICE_ASSIGN_OR_RETURN(auto k, BlockingKeys(rule, spec.placeholders, schema, records));
    keys.push_back(std::move(k));
    MatchStats::Rule rs;
    BlockingEstimate& e = out.emplace_back();
    e.rule = rule.name;
    blocks.push_back(
        blocking::GroupBlocks(&keys.back(), spec.max_block_size, &rs, &e.largest_block));
    e.blocked = rs.blocked;
    e.blocks = rs.blocks;
    e.oversize_blocks = rs.oversize_blocks;
    e.oversize_records = rs.oversize_records;
  }
  blocking::ForEachPair(blocking::KeyRows::Of(&keys), blocks,
                        [&](size_t r, uint32_t, uint32_t) { ++out[r].pairs; });
  return out;
}

namespace blocking {

Blocks GroupBlocks(std::vector<uint64_t>* keys, int64_t max_block, MatchStats::Rule* rule_stats,
                   uint64_t* largest, const ShardMap* shards, const std::vector<uint8_t>* skip,
                   const std::vector<uint64_t>* oversize) {
  std::vector<std::pair<uint64_t, uint32_t>> order;
  uint64_t blocked = 0;
  for (uint32_t i = 0; i < keys->size(); ++i) {
    const uint64_t key = (*keys)[i];
    if (key == 0) continue;
    ++blocked;
    // On one shard of N only its own blocks and every shard's oversize ones
    // (their keys are cleared below) need sorting: a shard holds guests for
    // other shards' blocks too.
    if (shards != nullptr && !shards->OwnsBlock(key) &&
        !(oversize != nullptr && std::binary_search(oversize->begin(), oversize->end(), key))) {
      continue;
    }
    order.emplace_back(key, i);
  }
  const bool skipping = skip != nullptr && !skip->empty();
  rule_stats->blocked = blocked;
  std::sort(order.begin(), order.end());
  Blocks blocks;
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin + 1;
    const uint64_t key = order[begin].first;
    while (end < order.size() && order[end].first == key) ++end;
    const size_t size = end - begin;
    const bool owned = shards == nullptr || shards->OwnsBlock(key);
    if (owned && largest) *largest = std::max<uint64_t>(*largest, size);
    const bool listed =
        oversize != nullptr && std::binary_search(oversize->begin(), oversize->end(), key);
    if (listed || (owned && size > static_cast<size_t>(max_block))) {
      if (owned) {
        ++rule_stats->oversize_blocks;
        rule_stats->oversize_records += size;
      }
      for (size_t k = begin; k < end; ++k) (*keys)[order[k].second] = 0;
    } else if (owned && size >= 2) {
      const uint32_t start = static_cast<uint32_t>(blocks.members.size());
      for (size_t k = begin; k < end; ++k) {
        if (!skipping || !(*skip)[order[k].second]) blocks.members.push_back(order[k].second);
      }
      if (blocks.members.size() - start >= 2) {
        ++rule_stats->blocks;
        blocks.starts.push_back(start);
      } else {
        blocks.members.resize(start);
      }
    }
    begin = end;
  }
  blocks.starts.push_back(static_cast<uint32_t>(blocks.members.size()));
  if (skipping) {
    for (size_t i = 0; i < keys->size(); ++i) {
      if ((*skip)[i]) (*keys)[i] = 0;
    }
  }
  return blocks;
}

std::vector<uint64_t> OversizeKeys(const std::vector<uint64_t>& keys, int64_t max_block,
                                   const ShardMap& shards) {
  std::vector<uint64_t> owned;
  for (uint64_t k : keys) {
    if (k != 0 && shards.OwnsBlock(k)) owned.push_back(k);
  }
  std::sort(owned.begin(), owned.end());
  std::vector<uint64_t> out;
  for (size_t begin = 0; begin < owned.size();) {
    size_t end = begin + 1;
    while (end < owned.size() && owned[end] == owned[begin]) ++end;
    if (end - begin > static_cast<size_t>(max_block)) out.push_back(owned[begin]);
    begin = end;
  }
  return out;
}

}  // namespace blocking
}  // namespace sluice
