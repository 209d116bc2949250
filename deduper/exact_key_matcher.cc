// MakeExactKeyMatcher: records with equal, complete keys are linked. The
// keys are hashed and sorted (no per-record allocation, unlike a node-based
// hash map); equal hashes are confirmed by comparing the key values.
#include <algorithm>

#include "common/hash.h"
#include "deduper/dedup.h"

namespace sluice {
namespace {

class ExactKeyMatcher : public Matcher {
 public:
  ExactKeyMatcher(const DedupSpec& spec, const Schema& schema) {
    rule_ = "exact:";
    for (size_t i = 0; i < spec.key_fields.size(); ++i) {
      if (i > 0) rule_ += "+";
      rule_ += spec.key_fields[i];
      int index = schema.IndexOf(spec.key_fields[i]);
      if (index < 0) complete_ = false;  // a key nobody holds links nothing
      fields_.push_back({index, index >= 0 && IsIntegral(schema.fields[index].type)});
    }
    if (fields_.empty()) complete_ = false;
  }

  // Links every holder of a key to its first holder (smallest index).
  std::vector<MatchEdge> Match(const Schema& schema, const std::vector<Record>& records) override {
    std::vector<MatchEdge> edges;
    if (!complete_) return edges;
    std::vector<std::pair<uint64_t, uint32_t>> keyed;  // key hash, record
    keyed.reserve(records.size());
    std::string buf;
    for (size_t i = 0; i < records.size(); ++i) {
      if (!Complete(records[i])) continue;
      keyed.emplace_back(HashKey(records[i], &buf), static_cast<uint32_t>(i));
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
          MatchEdge& edge = edges.emplace_back();
          edge.a = *first;
          edge.b = r;
          edge.rule = rule_;
        }
      }
      begin = end;
    }
    return edges;
  }

 private:
  struct KeyField {
    int index = -1;
    bool integral = false;
  };

  // False when a part of the key is NULL or empty: such records never match.
  bool Complete(const Record& r) const {
    for (const KeyField& f : fields_) {
      const Value& v = r.values[f.index];
      if (v.is_null || (!f.integral && v.s.empty())) return false;
    }
    return true;
  }

  bool SameKey(const Record& a, const Record& b) const {
    for (const KeyField& f : fields_) {
      const Value &x = a.values[f.index], &y = b.values[f.index];
      if (f.integral ? x.i != y.i : x.s != y.s) return false;
    }
    return true;
  }

  // Length-prefixed parts, so that "ab"+"c" and "a"+"bc" hash apart.
  uint64_t HashKey(const Record& r, std::string* buf) const {
    if (fields_.size() == 1 && !fields_[0].integral) return Hash64(r.values[fields_[0].index].s);
    buf->clear();
    for (const KeyField& f : fields_) {
      const Value& v = r.values[f.index];
      const uint64_t n = f.integral ? static_cast<uint64_t>(v.i) : v.s.size();
      buf->append(reinterpret_cast<const char*>(&n), sizeof n);
      if (!f.integral) buf->append(v.s);
    }
    return Hash64(*buf);
  }

  std::string rule_;
  std::vector<KeyField> fields_;
  bool complete_ = true;
};

}  // namespace

std::unique_ptr<Matcher> MakeExactKeyMatcher(const DedupSpec& spec, const Schema& schema) {
  return std::make_unique<ExactKeyMatcher>(spec, schema);
}

}  // namespace sluice
