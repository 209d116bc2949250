// MakeExactKeyMatcher: records with equal, complete keys are linked. The
// keys are hashed and sorted (no per-record allocation, unlike a node-based
// hash map); equal hashes are confirmed by comparing the key values. The
// hash is also the block key: on N shards the owner of a key's block links
// its holders (docs/dedup.md#scale-out).
#include <algorithm>

#include "common/core/hash.h"
#include "deduper/dedup.h"
#include "deduper/dedup_internal.h"

namespace sluice {
namespace {

struct KeyField {
  int index = -1;
  bool integral = false;
};

// The key fields of a spec in a schema; false when one is missing.
bool KeyFieldsOf(const DedupSpec& spec, const Schema& schema, std::vector<KeyField>* fields,
                 std::string* missing) {
  for (const std::string& f : spec.key_fields) {
    const int index = schema.IndexOf(f);
    if (index < 0) {
      *missing = f;
      return false;
    }
    fields->push_back({index, IsIntegral(schema.fields[index].type)});
  }
  return !fields->empty();
}

// False when a part of the key is NULL or empty: such records never match.
bool Complete(const std::vector<KeyField>& fields, const Record& r) {
  for (const KeyField& f : fields) {
    const Value& v = r.values[f.index];
    if (v.is_null || (!f.integral && v.s.empty())) return false;
  }
  return true;
}

// Length-prefixed parts, so that "ab"+"c" and "a"+"bc" hash apart; never 0.
uint64_t HashKey(const std::vector<KeyField>& fields, const Record& r, std::string* buf) {
  uint64_t h;
  if (fields.size() == 1 && !fields[0].integral) {
    h = Hash64(r.values[fields[0].index].s);
  } else {
    buf->clear();
    for (const KeyField& f : fields) {
      const Value& v = r.values[f.index];
      const uint64_t n = f.integral ? static_cast<uint64_t>(v.i) : v.s.size();
      buf->append(reinterpret_cast<const char*>(&n), sizeof n);
      if (!f.integral) buf->append(v.s);
    }
    h = Hash64(*buf);
  }
  return h == 0 ? 1 : h;
}

std::vector<uint64_t> Hashes(const std::vector<KeyField>& fields,
                             const std::vector<Record>& records) {
  std::vector<uint64_t> keys(records.size(), 0);
  std::string buf;
  for (size_t i = 0; i < records.size(); ++i) {
    if (Complete(fields, records[i])) keys[i] = HashKey(fields, records[i], &buf);
  }
  return keys;
}

class ExactKeyMatcher : public Matcher {
 public:
  ExactKeyMatcher(const DedupSpec& spec, const Schema& schema) {
    rule_ = "exact:";
    for (size_t i = 0; i < spec.key_fields.size(); ++i) {
      if (i > 0) rule_ += "+";
      rule_ += spec.key_fields[i];
    }
    std::string missing;
    complete_ = KeyFieldsOf(spec, schema, &fields_, &missing);  // else a key links nothing
  }

  // Links every holder of a key to its first holder (smallest index), in
  // the key blocks this shard owns.
  Status Compare(const MatchInput& in, const BlockKeys&) override {
    edges_.clear();
    if (!complete_) return Status::Ok();
    const std::vector<Record>& records = in.records;
    std::vector<uint64_t> hashes = Hashes(fields_, records);
    std::vector<std::pair<uint64_t, uint32_t>> keyed;  // key hash, record
    keyed.reserve(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      if (hashes[i] == 0 || (!in.skip.empty() && in.skip[i])) continue;
      if (!in.shards.OwnsBlock(hashes[i])) continue;
      keyed.emplace_back(hashes[i], static_cast<uint32_t>(i));
    }
    std::sort(keyed.begin(), keyed.end());
    std::vector<uint32_t> firsts;  // distinct keys within one run of equal hashes
    for (size_t begin = 0; begin < keyed.size();) {
      size_t end = begin + 1;
      while (end < keyed.size() && keyed[end].first == keyed[begin].first) ++end;
      firsts.assign(1, keyed[begin].second);
      for (size_t j = begin + 1; j < end; ++j) {
        const uint32_t r = keyed[j].second;
        auto first = std::find_if(firsts.begin(), firsts.end(),
                                  [&](uint32_t f) { return SameKey(records[f], records[r]); });
        if (first == firsts.end()) {
          firsts.push_back(r);  // a hash collision, not a match
        } else {
          MatchEdge& edge = edges_.emplace_back();
          edge.a = *first;
          edge.b = r;
          edge.rule = rule_;
        }
      }
      begin = end;
    }
    return Status::Ok();
  }

  std::vector<MatchEdge> Decide(const PatternCounts&, const LevelCounts&) override {
    return std::move(edges_);
  }

 private:
  bool SameKey(const Record& a, const Record& b) const {
    for (const KeyField& f : fields_) {
      const Value &x = a.values[f.index], &y = b.values[f.index];
      if (f.integral ? x.i != y.i : x.s != y.s) return false;
    }
    return true;
  }

  std::string rule_;
  std::vector<KeyField> fields_;
  bool complete_ = true;
  std::vector<MatchEdge> edges_;  // between Compare and Decide
};

}  // namespace

namespace dedup_internal {

Result<std::vector<uint64_t>> ExactKeyHashes(const DedupSpec& spec, const Schema& schema,
                                             const std::vector<Record>& records) {
  std::vector<KeyField> fields;
  std::string missing;
  if (!KeyFieldsOf(spec, schema, &fields, &missing)) {
    const std::string path = spec.yaml_path.empty() ? "dedup" : spec.yaml_path;
    if (missing.empty()) return Status::InvalidArgument(path + ".key: empty");
    return Status::InvalidArgument(path + ".key: no field " + missing + " in the entity");
  }
  return Hashes(fields, records);
}

}  // namespace dedup_internal

std::unique_ptr<Matcher> MakeExactKeyMatcher(const DedupSpec& spec, const Schema& schema) {
  return std::make_unique<ExactKeyMatcher>(spec, schema);
}

}  // namespace sluice
