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

std::vector<std::string> GoldenRecordBuilder::Build(std::vector<Record>& records,
                                                    std::span<const uint32_t> ranked) const {
  std::vector<std::string> taken;
  if (trivial_ || ranked.size() < 2) return taken;
  Record& golden = records[ranked[0]];
  auto source_rank = [&](const Record& r) {
    auto it = std::find(priority_.begin(), priority_.end(), r.source);
    return it == priority_.end() ? priority_.size() : static_cast<size_t>(it - priority_.begin());
  };
  for (size_t f = 0; f < rules_.size(); ++f) {
    if (rules_[f] == FieldRule::kSurvivor) continue;
    const bool integral = IsIntegral(schema_.fields[f].type);
    auto has = [&](uint32_t m) {
      const Value& v = records[m].values[f];
      return !v.is_null && (integral || !v.s.empty());
    };
    int64_t best = -1;
    for (size_t k = 0; k < ranked.size(); ++k) {
      const uint32_t m = ranked[k];
      if (!has(m)) continue;
      if (best < 0) {
        best = m;
        if (rules_[f] == FieldRule::kNonNull) break;
        continue;
      }
      const Record &cand = records[m], &cur = records[best];
      bool better = false;
      switch (rules_[f]) {
        case FieldRule::kMostComplete:
          better = !integral && cand.values[f].s.size() > cur.values[f].s.size();
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
      if (better) best = m;
    }
    if (best < 0 || static_cast<uint32_t>(best) == ranked[0]) continue;
    golden.values[f] = records[best].values[f];
    taken.push_back(schema_.fields[f].name + "<-" + records[best].source + ":" + records[best].key);
  }
  if (!taken.empty()) golden.content_hash = ContentHash(schema_, golden.values);
  return taken;
}

std::unique_ptr<SurvivorshipRule> MakePrioritySurvivorship(const DedupSpec& spec,
                                                           const Schema& schema) {
  return std::make_unique<PrioritySurvivorship>(spec, schema);
}

}  // namespace sluice
