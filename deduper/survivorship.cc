#include "deduper/survivorship.h"

#include <algorithm>

namespace sluice {
namespace {

// One criterion's verdict: < 0 when a is preferred, > 0 when b is.
struct Verdict {
  int order = 0;
  const char* criterion = "";
};

class PrioritySurvivorship : public SurvivorshipRule {
 public:
  PrioritySurvivorship(const DedupSpec& spec, const Schema& schema) {
    for (const std::string& source : spec.source_priority) {
      // The first listing counts.
      if (std::find(priority_.begin(), priority_.end(), source) == priority_.end()) {
        priority_.push_back(source);
      }
    }
    if (!spec.most_recent_field.empty()) {
      recent_index_ = schema.IndexOf(spec.most_recent_field);
      if (recent_index_ >= 0) {
        recent_integral_ = IsIntegral(schema.fields[recent_index_].type);
        recent_criterion_ = "most_recent:" + spec.most_recent_field;
      }
    }
  }

  uint32_t ChooseSurvivor(const std::vector<Record>& records,
                          std::span<const uint32_t> members) const override {
    uint32_t best = members[0];
    for (size_t i = 1; i < members.size(); ++i) {
      if (Compare(records[members[i]], records[best]).order < 0) best = members[i];
    }
    return best;
  }

  std::string_view Reason(const Record& survivor, const Record& member) const override {
    return Compare(survivor, member).criterion;
  }

  std::vector<uint32_t> Rank(const std::vector<Record>& records,
                             std::span<const uint32_t> members) const override {
    std::vector<uint32_t> ranked(members.begin(), members.end());
    std::sort(ranked.begin(), ranked.end(), [&](uint32_t a, uint32_t b) {
      return a != b && Compare(records[a], records[b]).order < 0;
    });
    return ranked;
  }

 private:
  Verdict Compare(const Record& a, const Record& b) const {
    if (!priority_.empty() && a.source != b.source) {
      int ra = Rank(a.source), rb = Rank(b.source);
      if (ra != rb) return {ra < rb ? -1 : 1, "source_priority"};
      // Both unlisted: by name.
      if (ra == kUnlisted) return {a.source < b.source ? -1 : 1, "source_priority"};
    }
    if (recent_index_ >= 0) {
      int order = CompareRecent(a.values[recent_index_], b.values[recent_index_]);
      if (order != 0) return {order, recent_criterion_.c_str()};
    }
    // (source, key) is unique within a cluster: a total order.
    return {a.source != b.source ? (a.source < b.source ? -1 : 1) : (a.key < b.key ? -1 : 1),
            "smallest_source_key"};
  }

  // The larger value is preferred; NULL loses to any value.
  int CompareRecent(const Value& a, const Value& b) const {
    if (a.is_null || b.is_null) return a.is_null == b.is_null ? 0 : (a.is_null ? 1 : -1);
    if (recent_integral_) return a.i == b.i ? 0 : (a.i > b.i ? -1 : 1);
    return a.s == b.s ? 0 : (a.s > b.s ? -1 : 1);
  }

  // A linear scan: priority lists are short, and this runs per comparison.
  int Rank(const std::string& source) const {
    for (size_t i = 0; i < priority_.size(); ++i) {
      if (priority_[i] == source) return static_cast<int>(i);
    }
    return kUnlisted;
  }

  static constexpr int kUnlisted = 1 << 30;
  std::vector<std::string> priority_;  // source_priority without repeats
  int recent_index_ = -1;
  bool recent_integral_ = false;
  std::string recent_criterion_;
};

}  // namespace

GoldenRecordBuilder::GoldenRecordBuilder(const DedupSpec& spec, const Schema& schema)
    : schema_(schema), priority_(spec.source_priority) {
  recent_index_ = spec.most_recent_field.empty() ? -1 : schema.IndexOf(spec.most_recent_field);
  auto parse = [](const std::string& rule) {
    if (rule == "non_null") return FieldRule::kNonNull;
    if (rule == "most_complete") return FieldRule::kMostComplete;
    if (rule == "most_frequent") return FieldRule::kMostFrequent;
    if (rule == "longest") return FieldRule::kLongest;
    if (rule == "most_recent") return FieldRule::kMostRecent;
    if (rule == "source_priority") return FieldRule::kSource;
    return FieldRule::kSurvivor;
  };
  for (const FieldSpec& f : schema.fields) {
    auto it = spec.field_rules.find(f.name);
    FieldRule r = parse(it != spec.field_rules.end() ? it->second : spec.default_field_rule);
    if (r == FieldRule::kMostRecent && recent_index_ < 0) r = FieldRule::kNonNull;
    rules_.push_back(r);
    trivial_ = trivial_ && r == FieldRule::kSurvivor;
  }
}

const char* GoldenRecordBuilder::Name(FieldRule rule) {
  switch (rule) {
    case FieldRule::kSurvivor:
      return "survivor";
    case FieldRule::kNonNull:
      return "non_null";
    case FieldRule::kMostComplete:
      return "most_complete";
    case FieldRule::kMostFrequent:
      return "most_frequent";
    case FieldRule::kLongest:
      return "longest";
    case FieldRule::kMostRecent:
      return "most_recent";
    case FieldRule::kSource:
      return "source_priority";
  }
  return "survivor";
}

namespace {

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool SameValue(const Value& a, const Value& b, bool integral) {
  return integral ? a.i == b.i : a.s == b.s;
}

}  // namespace

std::vector<GoldenChoice> GoldenRecordBuilder::Build(std::vector<Record>& records,
                                                     std::span<const uint32_t> ranked,
                                                     const Accept& accept) const {
  std::vector<GoldenChoice> choices;
  if (ranked.empty()) return choices;
  const uint32_t survivor = ranked[0];
  choices.reserve(rules_.size());
  for (FieldRule r : rules_) choices.push_back({survivor, Name(r), ""});
  if (trivial_ || ranked.size() < 2) return choices;
  Record& golden = records[survivor];
  auto source_rank = [&](const Record& r) {
    auto it = std::find(priority_.begin(), priority_.end(), r.source);
    return it == priority_.end() ? priority_.size() : static_cast<size_t>(it - priority_.begin());
  };
  auto has_value = [&](const Record& r, size_t f) {
    const Value& v = r.values[f];
    return !v.is_null && (IsIntegral(schema_.fields[f].type) || !v.s.empty());
  };
  // most_complete: each member's count of fields with a value, once.
  std::vector<size_t> filled;
  if (std::find(rules_.begin(), rules_.end(), FieldRule::kMostComplete) != rules_.end()) {
    for (uint32_t m : ranked) {
      size_t n = 0;
      for (size_t f = 0; f < rules_.size(); ++f) n += has_value(records[m], f);
      filled.push_back(n);
    }
  }
  bool changed = false;
  for (size_t f = 0; f < rules_.size(); ++f) {
    const FieldRule rule = rules_[f];
    if (rule == FieldRule::kSurvivor) continue;
    const bool integral = IsIntegral(schema_.fields[f].type);
    int64_t best = -1;  // index into `ranked`
    if (rule == FieldRule::kMostFrequent) {
      size_t best_count = 0;
      for (size_t k = 0; k < ranked.size(); ++k) {
        if (!has_value(records[ranked[k]], f)) continue;
        const Value& v = records[ranked[k]].values[f];
        size_t count = 0;
        for (uint32_t m : ranked) {
          count += has_value(records[m], f) && SameValue(records[m].values[f], v, integral);
        }
        if (count > best_count) {
          best_count = count;
          best = static_cast<int64_t>(k);
        }
      }
    } else {
      for (size_t k = 0; k < ranked.size(); ++k) {
        const Record& cand = records[ranked[k]];
        if (!has_value(cand, f)) continue;
        if (best < 0) {
          best = static_cast<int64_t>(k);
          if (rule == FieldRule::kNonNull) break;
          continue;
        }
        const Record& cur = records[ranked[best]];
        bool better = false;
        switch (rule) {
          case FieldRule::kMostComplete:
            better = filled[k] > filled[best];
            break;
          case FieldRule::kLongest:
            better = !integral && CodePoints(cand.values[f].s) > CodePoints(cur.values[f].s);
            break;
          case FieldRule::kMostRecent: {
            const Value &a = cand.values[recent_index_], &b = cur.values[recent_index_];
            const bool ints = IsIntegral(schema_.fields[recent_index_].type);
            better = !a.is_null && (b.is_null || (ints ? a.i > b.i : a.s > b.s));
            break;
          }
          case FieldRule::kSource:
            better = source_rank(cand) < source_rank(cur);
            break;
          default:
            break;
        }
        if (better) best = static_cast<int64_t>(k);
      }
    }
    if (best <= 0) continue;  // none has a value, or the survivor's own is chosen
    const Record& from = records[ranked[best]];
    Value own = std::move(golden.values[f]);
    golden.values[f] = from.values[f];
    if (accept && !accept(golden)) {
      golden.values[f] = std::move(own);  // it would fail validation
      choices[f].note = std::string("kept the survivor's: the ") + Name(rule) + " value of " +
                        from.source + ":" + from.key + " fails validation";
      continue;
    }
    choices[f].member = ranked[best];
    changed = true;
  }
  if (changed) golden.content_hash = ContentHash(schema_, golden.values);
  return choices;
}

std::unique_ptr<SurvivorshipRule> MakePrioritySurvivorship(const DedupSpec& spec,
                                                           const Schema& schema) {
  return std::make_unique<PrioritySurvivorship>(spec, schema);
}

}  // namespace sluice
