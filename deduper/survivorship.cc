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

std::unique_ptr<SurvivorshipRule> MakePrioritySurvivorship(const DedupSpec& spec,
                                                           const Schema& schema) {
  return std::make_unique<PrioritySurvivorship>(spec, schema);
}

}  // namespace sluice
