// MakeFuzzyMatcher: blocking rules, ordered deterministic rules and
// Fellegi-Sunter scoring (docs/dedup.md).
//
// The work is in two passes over the candidate pairs, both in the same
// deterministic order (rule by rule, block by block, by record index). The
// first compares each pair once and keeps an 8-byte code: the rule that
// decided it, or its comparison pattern (one level per comparison). The
// m probabilities are then estimated by EM over the pattern counts, and the
// second pass turns codes into bands without comparing again.
#include "deduper/fuzzy_matcher.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "common/hash.h"
#include "deduper/blocking.h"
#include "deduper/comparators.h"
#include "deduper/dedup.h"

namespace sluice {

const char* BandName(Band band) {
  switch (band) {
    case Band::kMerge:
      return "merge";
    case Band::kReview:
      return "review";
    default:
      return "distinct";
  }
}

FieldColumn::FieldColumn(const Schema& schema, int index, const std::vector<Record>& records)
    : type_(schema.fields[index].type),
      scale_(schema.fields[index].scale),
      integral_(IsIntegral(schema.fields[index].type)) {
  const size_t n = records.size();
  null_.assign(n, 0);
  if (integral_) {
    integers_.assign(n, 0);
    for (size_t i = 0; i < n; ++i) {
      const Value& v = records[i].values[index];
      null_[i] = v.is_null;
      integers_[i] = v.i;
    }
    offset_.assign(n + 1, 0);
    return;
  }
  offset_.reserve(n + 1);
  offset_.push_back(0);
  for (size_t i = 0; i < n; ++i) {
    const Value& v = records[i].values[index];
    if (!v.is_null) similarity::FoldText(v.s, &arena_);
    null_[i] = v.is_null || arena_.size() == offset_.back();
    offset_.push_back(static_cast<uint32_t>(arena_.size()));
  }
}

void FieldColumn::ComputeSoundex() {
  if (!soundex_.empty() || integral_) return;
  const size_t n = null_.size();
  soundex_.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    char code[5];
    if (null_[i] || !similarity::Soundex(text(i), code)) continue;
    uint32_t w = 0;
    for (int k = 0; k < 4; ++k) w = (w << 8) | static_cast<uint8_t>(code[k]);
    soundex_[i] = w;
  }
}

namespace {

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

enum class Kind : uint8_t {
  kExact,
  kJaroWinkler,
  kLevenshtein,
  kDamerau,
  kTokenSet,
  kSoundex,
  kDate,
  kNumber
};

Kind KindOf(const std::string& name) {
  if (name == "jaro_winkler" || name == "jw") return Kind::kJaroWinkler;
  if (name == "levenshtein" || name == "lev") return Kind::kLevenshtein;
  if (name == "damerau_levenshtein" || name == "dl") return Kind::kDamerau;
  if (name == "token_set") return Kind::kTokenSet;
  if (name == "soundex") return Kind::kSoundex;
  if (name == "date") return Kind::kDate;
  if (name == "number") return Kind::kNumber;
  return Kind::kExact;
}

const char* ShortName(Kind k) {
  switch (k) {
    case Kind::kJaroWinkler:
      return "jw";
    case Kind::kLevenshtein:
      return "lev";
    case Kind::kDamerau:
      return "dl";
    case Kind::kTokenSet:
      return "token_set";
    case Kind::kSoundex:
      return "soundex";
    case Kind::kDate:
      return "days";
    case Kind::kNumber:
      return "diff";
    default:
      return "exact";
  }
}

double Similarity(Kind k, std::string_view a, std::string_view b) {
  switch (k) {
    case Kind::kJaroWinkler:
      return similarity::JaroWinkler(a, b);
    case Kind::kLevenshtein:
      return similarity::LevenshteinSimilarity(a, b);
    case Kind::kDamerau:
      return similarity::DamerauLevenshteinSimilarity(a, b);
    case Kind::kTokenSet:
      return similarity::TokenSetSimilarity(a, b);
    default:
      return a == b ? 1.0 : 0.0;
  }
}

// |a - b| of a column in its natural unit: days for dates and timestamps,
// whole units for decimals.
template <typename Column>
double Difference(const Column& c, size_t a, size_t b) {
  const double d = static_cast<double>(similarity::AbsDifference(c.integer(a), c.integer(b)));
  if (c.type() == FieldType::kTimestamp) return d / kMicrosPerDay;
  if (c.type() == FieldType::kDecimal) return d / std::pow(10.0, c.scale());
  return d;
}

template <typename Column>
bool Equal(const Column& c, size_t a, size_t b) {
  return c.integral() ? c.integer(a) == c.integer(b) : c.text(a) == c.text(b);
}

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// The compared fields of every record laid out record by record, so that
// comparing a pair touches a few cache lines rather than a few per field
// (the members of a block are scattered over the records).
class RowStore {
 public:
  struct Slot {
    int64_t integer;   // integral fields; text: offset (low 32 bits) and length
    uint32_t soundex;  // 0: none
    uint32_t null;
  };
  void Build(const std::vector<FieldColumn>& columns, size_t n) {
    cols_ = columns.size();
    start_.assign(n + 1, 0);
    size_t bytes = 0;
    for (size_t i = 0; i < n; ++i) {
      start_[i] = bytes;
      size_t len = cols_ * sizeof(Slot);
      for (const FieldColumn& c : columns) len += c.integral() ? 0 : c.text(i).size();
      bytes += (len + 7) & ~size_t{7};
    }
    start_[n] = bytes;
    data_.assign(bytes / 8 + 1, 0);
    char* base = reinterpret_cast<char*>(data_.data());
    for (size_t i = 0; i < n; ++i) {
      Slot* slots = reinterpret_cast<Slot*>(base + start_[i]);
      uint32_t off = static_cast<uint32_t>(cols_ * sizeof(Slot));
      for (size_t c = 0; c < cols_; ++c) {
        const FieldColumn& col = columns[c];
        slots[c].null = col.null(i);
        slots[c].soundex = col.soundex(i);
        if (col.integral()) {
          slots[c].integer = col.integer(i);
        } else {
          std::string_view t = col.text(i);
          std::memcpy(base + start_[i] + off, t.data(), t.size());
          slots[c].integer = static_cast<int64_t>(off) | (static_cast<int64_t>(t.size()) << 32);
          off += static_cast<uint32_t>(t.size());
        }
      }
    }
  }
  const Slot& slot(size_t i, size_t c) const {
    return reinterpret_cast<const Slot*>(reinterpret_cast<const char*>(data_.data()) +
                                         start_[i])[c];
  }
  std::string_view text(size_t i, size_t c) const {
    const Slot& s = slot(i, c);
    return std::string_view(
        reinterpret_cast<const char*>(data_.data()) + start_[i] + (s.integer & 0xFFFFFFFF),
        static_cast<size_t>(s.integer >> 32));
  }

 private:
  size_t cols_ = 0;
  std::vector<uint64_t> start_;
  std::vector<uint64_t> data_;  // 8-byte aligned
};

// One column of a RowStore with its field's type: what the comparators read.
struct ColumnView {
  const RowStore* rows;
  size_t col;
  bool is_integral;
  FieldType field_type;
  int field_scale;
  bool null(size_t i) const { return rows->slot(i, col).null != 0; }
  std::string_view text(size_t i) const { return rows->text(i, col); }
  int64_t integer(size_t i) const { return rows->slot(i, col).integer; }
  uint32_t soundex(size_t i) const { return rows->slot(i, col).soundex; }
  bool integral() const { return is_integral; }
  FieldType type() const { return field_type; }
  int scale() const { return field_scale; }
};

struct Comparison {
  const DedupComparison* spec;
  Kind kind;
  size_t column;  // into columns_
  int levels;     // exact .. else
  std::vector<std::string> labels;
  std::vector<double> m, u, weight;  // per level
  bool fixed_m = false, fixed_u = false;
};

struct Term {
  Kind kind;
  size_t column;
  bool at_least;  // ">=" (else "<=")
  double value;
  bool negate;
};

struct Rule {
  const MatchRuleSpec* spec;
  Band band;
  std::vector<Term> terms;
};

constexpr uint64_t kRuleFlag = 1ULL << 63;

class FuzzyMatcher : public Matcher {
 public:
  FuzzyMatcher(const DedupSpec& spec, std::vector<ForcedPair> forced)
      : spec_(spec), forced_(std::move(forced)) {}

  Status Init(const Schema& schema) {
    // The plan's exact key, when given, blocks and decides first.
    if (!spec_.key_fields.empty()) {
      BlockingRule key_block;
      key_block.name = "key";
      key_block.yaml_path = spec_.yaml_path + ".key";
      MatchRuleSpec key_rule;
      key_rule.yaml_path = key_block.yaml_path;
      key_rule.name = "exact:";
      for (size_t i = 0; i < spec_.key_fields.size(); ++i) {
        key_block.parts.push_back({spec_.key_fields[i], "value", 0});
        key_rule.name += (i > 0 ? "+" : "") + spec_.key_fields[i];
        key_rule.terms.push_back({"exact", spec_.key_fields[i], "", 0, false});
        key_rule.text += (i > 0 ? " and " : "") + spec_.key_fields[i] + " exact";
      }
      spec_.blocking.insert(spec_.blocking.begin(), std::move(key_block));
      spec_.rules.insert(spec_.rules.begin(), std::move(key_rule));
    }
    schema_ = schema;
    for (const MatchRuleSpec& r : spec_.rules) {
      Rule rule{&r,
                r.decide == "review"     ? Band::kReview
                : r.decide == "distinct" ? Band::kDistinct
                                         : Band::kMerge,
                {}};
      for (const RuleTerm& t : r.terms) {
        SLUICE_ASSIGN_OR_RETURN(size_t col, Column(t.field, r.yaml_path));
        const Kind kind = KindOf(t.function);
        if (kind == Kind::kSoundex) soundex_columns_.push_back(col);
        rule.terms.push_back({kind, col, t.op == ">=", t.value, t.negate});
      }
      rules_.push_back(std::move(rule));
    }
    uint64_t radix_product = 1;
    for (const DedupComparison& c : spec_.comparisons) {
      Comparison cmp;
      cmp.spec = &c;
      cmp.kind = KindOf(c.comparator);
      SLUICE_ASSIGN_OR_RETURN(cmp.column, Column(c.field, c.yaml_path));
      if (cmp.kind == Kind::kSoundex) soundex_columns_.push_back(cmp.column);
      cmp.levels = static_cast<int>(c.LevelCount());
      cmp.labels.push_back("exact");
      if (cmp.kind == Kind::kSoundex) cmp.labels.push_back("soundex");
      for (double t : c.thresholds) {
        const bool diff = cmp.kind == Kind::kDate || cmp.kind == Kind::kNumber;
        cmp.labels.push_back(std::string(ShortName(cmp.kind)) + (diff ? "<=" : ">=") +
                             FormatNumber(t));
      }
      cmp.labels.push_back("else");
      if (static_cast<int>(cmp.labels.size()) != cmp.levels) {
        return Status::InvalidArgument(c.yaml_path + ": level count mismatch");
      }
      cmp.fixed_m = c.m.size() == static_cast<size_t>(cmp.levels);
      cmp.fixed_u = c.u.size() == static_cast<size_t>(cmp.levels);
      if (cmp.fixed_m) cmp.m = c.m;
      if (cmp.fixed_u) cmp.u = c.u;
      radix_.push_back(radix_product);
      radix_product *= static_cast<uint64_t>(cmp.levels + 1);
      if (radix_product >= kRuleFlag) {
        return Status::InvalidArgument(c.yaml_path + ": too many comparison levels in all");
      }
      comparisons_.push_back(std::move(cmp));
    }
    for (const BlockingRule& b : spec_.blocking) {
      for (const BlockingPart& p : b.parts) {
        if (schema.IndexOf(p.field) < 0) {
          return Status::InvalidArgument(b.yaml_path + ": no field " + p.field + " in the entity");
        }
      }
    }
    return Status::Ok();
  }

  std::vector<MatchEdge> Match(const Schema& schema, const std::vector<Record>& records) override;
  const MatchStats& stats() const override { return stats_; }

 private:
  Result<size_t> Column(const std::string& field, const std::string& path) {
    const int index = schema_.IndexOf(field);
    if (index < 0) return Status::InvalidArgument(path + ": no field " + field + " in the entity");
    for (size_t i = 0; i < column_fields_.size(); ++i) {
      if (column_fields_[i] == index) return i;
    }
    column_fields_.push_back(index);
    return column_fields_.size() - 1;
  }

  bool Holds(const Term& t, size_t a, size_t b) const {
    const ColumnView& c = views_[t.column];
    if (c.null(a) || c.null(b)) return false;  // unknown is never evidence
    bool holds;
    switch (t.kind) {
      case Kind::kExact:
        holds = Equal(c, a, b);
        break;
      case Kind::kSoundex:
        holds = c.soundex(a) != 0 && c.soundex(a) == c.soundex(b);
        break;
      case Kind::kDate:
      case Kind::kNumber: {
        const double d = Difference(c, a, b);
        holds = t.at_least ? d >= t.value : d <= t.value;
        break;
      }
      default: {
        const double s =
            c.integral() ? (Equal(c, a, b) ? 1.0 : 0.0) : Similarity(t.kind, c.text(a), c.text(b));
        holds = t.at_least ? s >= t.value : s <= t.value;
      }
    }
    return holds != t.negate;
  }

  // The level of comparison `cmp` for (a, b); cmp.levels for NULL.
  int Level(const Comparison& cmp, size_t a, size_t b) const {
    const ColumnView& c = views_[cmp.column];
    if (c.null(a) || c.null(b)) return cmp.levels;
    if (Equal(c, a, b)) return 0;
    const std::vector<double>& t = cmp.spec->thresholds;
    switch (cmp.kind) {
      case Kind::kExact:
        return 1;
      case Kind::kSoundex:
        return c.soundex(a) != 0 && c.soundex(a) == c.soundex(b) ? 1 : 2;
      case Kind::kDate:
      case Kind::kNumber: {
        const double d = Difference(c, a, b);
        for (size_t k = 0; k < t.size(); ++k) {
          if (d <= t[k]) return static_cast<int>(k) + 1;
        }
        return static_cast<int>(t.size()) + 1;
      }
      default: {
        if (c.integral()) return cmp.levels - 1;
        const double s = Similarity(cmp.kind, c.text(a), c.text(b));
        for (size_t k = 0; k < t.size(); ++k) {
          if (s >= t[k]) return static_cast<int>(k) + 1;
        }
        return static_cast<int>(t.size()) + 1;
      }
    }
  }

  uint64_t Pattern(size_t a, size_t b) const {
    uint64_t p = 0;
    for (size_t c = 0; c < comparisons_.size(); ++c) {
      p += static_cast<uint64_t>(Level(comparisons_[c], a, b)) * radix_[c];
    }
    return p;
  }

  int LevelOf(uint64_t pattern, size_t c) const {
    return static_cast<int>((pattern / radix_[c]) % (comparisons_[c].levels + 1));
  }

  double Score(uint64_t pattern) const {
    double s = 0;
    for (size_t c = 0; c < comparisons_.size(); ++c) {
      const int l = LevelOf(pattern, c);
      if (l < comparisons_[c].levels) s += comparisons_[c].weight[l];
    }
    return s;
  }

  void EstimateU(size_t n);
  void EstimateM(const std::vector<std::vector<std::pair<uint64_t, uint64_t>>>& by_rule);
  // EM over one blocking rule's patterns with the comparisons in `active`;
  // adds each active comparison's m, weighted by the expected matches, to
  // `sum` and the weight to `weight`.
  void EstimateMForRule(const std::vector<std::pair<uint64_t, uint64_t>>& patterns,
                        const std::vector<bool>& active, std::vector<std::vector<double>>* sum,
                        std::vector<double>* weight);
  void FillScoredEdge(uint64_t pattern, MatchEdge* edge) const;

  DedupSpec spec_;
  std::vector<ForcedPair> forced_;
  Schema schema_;
  std::vector<int> column_fields_;  // schema index of each column
  std::vector<size_t> soundex_columns_;
  RowStore rows_;
  std::vector<ColumnView> views_;
  std::vector<Rule> rules_;
  std::vector<Comparison> comparisons_;
  std::vector<uint64_t> radix_;
  MatchStats stats_;
};

// u: how often each level occurs between records that are, almost all,
// not the same entity: random pairs, from a fixed seed.
void FuzzyMatcher::EstimateU(size_t n) {
  std::vector<std::vector<uint64_t>> counts(comparisons_.size());
  for (size_t c = 0; c < comparisons_.size(); ++c) counts[c].assign(comparisons_[c].levels, 0);
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto next = [&state]() {  // splitmix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  const uint64_t samples = n < 2 ? 0 : static_cast<uint64_t>(spec_.u_sample_pairs);
  for (uint64_t s = 0; s < samples; ++s) {
    const size_t a = next() % n;
    size_t b = next() % (n - 1);
    if (b >= a) ++b;
    for (size_t c = 0; c < comparisons_.size(); ++c) {
      if (comparisons_[c].fixed_u) continue;
      const int l = Level(comparisons_[c], a, b);
      if (l < comparisons_[c].levels) ++counts[c][l];
    }
  }
  for (size_t c = 0; c < comparisons_.size(); ++c) {
    Comparison& cmp = comparisons_[c];
    if (cmp.fixed_u) continue;
    const uint64_t total = std::accumulate(counts[c].begin(), counts[c].end(), uint64_t{0});
    cmp.u.assign(cmp.levels, 0);
    // Add-one smoothing: a level never seen among random pairs still has
    // some chance, so that its weight stays finite.
    for (int l = 0; l < cmp.levels; ++l) {
      cmp.u[l] =
          (static_cast<double>(counts[c][l]) + 1.0) / (static_cast<double>(total) + cmp.levels);
    }
  }
}

// m by EM over the pattern counts of the candidate pairs not decided by a
// rule, with u held fixed (conditional independence of the comparisons).
// EM runs per blocking rule, leaving out the comparisons on the fields that
// rule blocks on (inside its blocks they agree by construction and would
// pass for evidence of a match); each comparison's m is the average of its
// estimates, weighted by the expected number of matches behind each.
void FuzzyMatcher::EstimateM(
    const std::vector<std::vector<std::pair<uint64_t, uint64_t>>>& by_rule) {
  for (Comparison& cmp : comparisons_) {
    if (cmp.fixed_m) continue;
    cmp.m.assign(cmp.levels, 0);
    if (cmp.levels == 2) {
      cmp.m = {0.9, 0.1};
    } else {
      cmp.m[0] = 0.7;
      for (int l = 1; l + 1 < cmp.levels; ++l) cmp.m[l] = 0.2 / (cmp.levels - 2);
      cmp.m[cmp.levels - 1] = 0.1;
    }
  }
  std::vector<Comparison> start = comparisons_;
  std::vector<std::vector<double>> sum(comparisons_.size());
  std::vector<double> weight(comparisons_.size(), 0);
  for (size_t c = 0; c < comparisons_.size(); ++c) sum[c].assign(comparisons_[c].levels, 0);
  for (size_t r = 0; r < by_rule.size() && r < spec_.blocking.size(); ++r) {
    std::vector<bool> active(comparisons_.size(), true);
    for (size_t c = 0; c < comparisons_.size(); ++c) {
      for (const BlockingPart& part : spec_.blocking[r].parts) {
        if (part.field == comparisons_[c].spec->field) active[c] = false;
      }
    }
    for (size_t c = 0; c < comparisons_.size(); ++c) comparisons_[c].m = start[c].m;
    EstimateMForRule(by_rule[r], active, &sum, &weight);
  }
  for (size_t c = 0; c < comparisons_.size(); ++c) {
    Comparison& cmp = comparisons_[c];
    cmp.m = start[c].m;
    if (cmp.fixed_m || weight[c] <= 0) continue;
    for (int l = 0; l < cmp.levels; ++l) cmp.m[l] = std::max(sum[c][l] / weight[c], 1e-6);
  }
}

void FuzzyMatcher::EstimateMForRule(const std::vector<std::pair<uint64_t, uint64_t>>& patterns,
                                    const std::vector<bool>& active,
                                    std::vector<std::vector<double>>* sum,
                                    std::vector<double>* weight) {
  if (patterns.empty()) return;
  double p = spec_.prior_match > 0 ? spec_.prior_match : 0.1;
  double matched = 0, total = 0;
  std::vector<std::vector<double>> acc(comparisons_.size());
  for (int64_t it = 0; it < spec_.em_iterations; ++it) {
    for (size_t c = 0; c < comparisons_.size(); ++c) acc[c].assign(comparisons_[c].levels, 0);
    matched = 0;
    total = 0;
    for (const auto& [pattern, count] : patterns) {
      double lm = std::log(p), lu = std::log(1 - p);
      for (size_t c = 0; c < comparisons_.size(); ++c) {
        const int l = LevelOf(pattern, c);
        if (!active[c] || l == comparisons_[c].levels) continue;
        lm += std::log(comparisons_[c].m[l]);
        lu += std::log(comparisons_[c].u[l]);
      }
      const double g = 1.0 / (1.0 + std::exp(lu - lm));
      const double w = g * static_cast<double>(count);
      matched += w;
      total += static_cast<double>(count);
      for (size_t c = 0; c < comparisons_.size(); ++c) {
        const int l = LevelOf(pattern, c);
        if (active[c] && l < comparisons_[c].levels) acc[c][l] += w;
      }
    }
    p = std::clamp(matched / total, 1e-9, 1 - 1e-9);
    for (size_t c = 0; c < comparisons_.size(); ++c) {
      Comparison& cmp = comparisons_[c];
      if (cmp.fixed_m || !active[c]) continue;
      const double s = std::accumulate(acc[c].begin(), acc[c].end(), 0.0);
      if (s <= 0) continue;
      for (int l = 0; l < cmp.levels; ++l) cmp.m[l] = std::max(acc[c][l] / s, 1e-6);
    }
  }
  for (size_t c = 0; c < comparisons_.size(); ++c) {
    if (!active[c] || comparisons_[c].fixed_m) continue;
    for (int l = 0; l < comparisons_[c].levels; ++l) (*sum)[c][l] += comparisons_[c].m[l] * matched;
    (*weight)[c] += matched;
  }
  char note[128];
  std::snprintf(note, sizeof note,
                "EM over %.0f candidate pairs: match proportion %.4f (%.0f expected matches)",
                total, p, matched);
  stats_.notes.push_back(note);
}

void FuzzyMatcher::FillScoredEdge(uint64_t pattern, MatchEdge* edge) const {
  edge->scored = true;
  edge->score = Score(pattern);
  edge->rule = "fellegi_sunter";
  for (size_t c = 0; c < comparisons_.size(); ++c) {
    const Comparison& cmp = comparisons_[c];
    const int l = LevelOf(pattern, c);
    const bool null = l == cmp.levels;
    const double w = null ? 0.0 : cmp.weight[l];
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s%s=%s:%+.2f", c > 0 ? "; " : "", cmp.spec->name.c_str(),
                  null ? "null" : cmp.labels[l].c_str(), w);
    edge->detail += buf;
  }
}

std::vector<MatchEdge> FuzzyMatcher::Match(const Schema& schema,
                                           const std::vector<Record>& records) {
  stats_ = {};
  std::vector<MatchEdge> edges;
  const size_t n = records.size();
  {
    std::vector<FieldColumn> columns;
    for (int index : column_fields_) columns.emplace_back(schema, index, records);
    for (size_t c : soundex_columns_) columns[c].ComputeSoundex();
    rows_.Build(columns, n);
    views_.clear();
    for (size_t c = 0; c < columns.size(); ++c) {
      views_.push_back({&rows_, c, columns[c].integral(), columns[c].type(), columns[c].scale()});
    }
  }

  // Blocking: keys per rule, blocks, oversize blocks left out.
  std::vector<std::vector<uint64_t>> keys;
  std::vector<blocking::Blocks> blocks;
  for (const BlockingRule& rule : spec_.blocking) {
    auto k = BlockingKeys(rule, spec_.placeholders, schema, records);
    if (!k.ok()) continue;  // checked in Init
    keys.push_back(std::move(*k));
    MatchStats::Rule& rs = stats_.blocking.emplace_back();
    rs.name = rule.name;
    uint64_t largest = 0;
    blocks.push_back(blocking::GroupBlocks(&keys.back(), spec_.max_block_size, &rs, &largest));
    if (rs.oversize_blocks > 0) {
      stats_.notes.push_back(
          "blocking rule " + rule.name + ": " + std::to_string(rs.oversize_blocks) +
          " block(s) above max_block_size " + std::to_string(spec_.max_block_size) + " (" +
          std::to_string(rs.oversize_records) + " records, largest " + std::to_string(largest) +
          ") not compared under this rule");
    }
  }

  // Steward decisions, by record index.
  std::unordered_map<std::string, uint32_t> index_of;
  std::unordered_map<uint64_t, size_t> forced_at;  // (a << 32 | b) -> forced_
  if (!forced_.empty()) {
    for (uint32_t i = 0; i < n; ++i)
      index_of.emplace(records[i].source + '\x1f' + records[i].key, i);
    for (size_t f = 0; f < forced_.size(); ++f) {
      auto a = index_of.find(forced_[f].a.source + '\x1f' + forced_[f].a.key);
      auto b = index_of.find(forced_[f].b.source + '\x1f' + forced_[f].b.key);
      if (a == index_of.end() || b == index_of.end() || a->second == b->second) continue;
      const uint64_t lo = std::min(a->second, b->second), hi = std::max(a->second, b->second);
      forced_at[lo << 32 | hi] = f;
    }
  }

  // Pass 1: compare every candidate pair once.
  const bool scoring = !comparisons_.empty();
  std::vector<uint64_t> codes;
  // Pattern counts per blocking rule: a comparison on a field a rule blocks
  // on always agrees inside that rule's blocks, so its m is learnt only
  // from the other rules' pairs.
  std::vector<std::unordered_map<uint64_t, uint64_t>> pattern_counts(blocks.size());
  const auto compare_start = std::chrono::steady_clock::now();
  blocking::ForEachPair(keys, blocks, [&](size_t rule_index, uint32_t a, uint32_t b) {
    ++stats_.blocking[rule_index].pairs;
    ++stats_.comparisons;
    uint64_t code = kRuleFlag | rules_.size();  // no rule held
    for (size_t r = 0; r < rules_.size(); ++r) {
      bool all = true;
      for (const Term& t : rules_[r].terms) {
        if (!Holds(t, a, b)) {
          all = false;
          break;
        }
      }
      if (all) {
        code = kRuleFlag | r;
        break;
      }
    }
    if (code == (kRuleFlag | rules_.size()) && scoring) {
      code = Pattern(a, b);
      ++pattern_counts[rule_index][code];
    }
    codes.push_back(code);
  });
  stats_.compare_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - compare_start).count();

  if (scoring) {
    EstimateU(n);
    std::vector<std::vector<std::pair<uint64_t, uint64_t>>> patterns;
    for (const auto& counts : pattern_counts) {
      patterns.emplace_back(counts.begin(), counts.end());
      std::sort(patterns.back().begin(), patterns.back().end());  // the same sums in any run
    }
    EstimateM(patterns);
    for (Comparison& cmp : comparisons_) {
      cmp.weight.assign(cmp.levels, 0);
      std::string note = "comparison " + cmp.spec->name + " (m " + (cmp.fixed_m ? "given" : "EM") +
                         ", u " + (cmp.fixed_u ? "given" : "random pairs") + "):";
      for (int l = 0; l < cmp.levels; ++l) {
        cmp.weight[l] = std::log2(cmp.m[l] / cmp.u[l]);
        char buf[96];
        std::snprintf(buf, sizeof buf, " %s m=%.4f u=%.4f w=%+.2f", cmp.labels[l].c_str(), cmp.m[l],
                      cmp.u[l], cmp.weight[l]);
        note += buf;
      }
      stats_.notes.push_back(note);
    }
  }

  // Pass 2: bands, in the same pair order.
  size_t next = 0;
  auto emit = [&](uint32_t a, uint32_t b, uint64_t code, const ForcedPair* forced) {
    MatchEdge edge;
    edge.a = a;
    edge.b = b;
    if (forced != nullptr) {
      edge.band = forced->link ? Band::kMerge : Band::kDistinct;
      edge.rule = "steward";
      edge.detail = std::string(forced->link ? "match" : "distinct") + " decided by " +
                    (forced->decided_by.empty() ? "a steward" : forced->decided_by);
    } else if (code & kRuleFlag) {
      const size_t r = code & ~kRuleFlag;
      if (r == rules_.size()) {
        edge.band = Band::kDistinct;
      } else {
        edge.band = rules_[r].band;
        edge.rule = rules_[r].spec->name;
        edge.detail = rules_[r].spec->text;
      }
    } else {
      const double score = Score(code);
      edge.band = score >= spec_.merge_threshold    ? Band::kMerge
                  : score >= spec_.review_threshold ? Band::kReview
                                                    : Band::kDistinct;
      if (edge.band != Band::kDistinct) FillScoredEdge(code, &edge);
      edge.score = score;
      edge.scored = true;
    }
    switch (edge.band) {
      case Band::kMerge:
        ++stats_.merge;
        break;
      case Band::kReview:
        ++stats_.review;
        break;
      default:
        ++stats_.distinct;
    }
    if (edge.band != Band::kDistinct || forced != nullptr) edges.push_back(std::move(edge));
  };
  std::unordered_set<uint64_t> forced_done;
  blocking::ForEachPair(keys, blocks, [&](size_t, uint32_t a, uint32_t b) {
    const uint64_t code = codes[next++];
    const ForcedPair* forced = nullptr;
    if (!forced_at.empty()) {
      auto it = forced_at.find(static_cast<uint64_t>(a) << 32 | b);
      if (it != forced_at.end()) {
        forced = &forced_[it->second];
        forced_done.insert(it->first);
      }
    }
    emit(a, b, code, forced);
  });
  // Forced links between records no blocking rule brought together.
  std::vector<std::pair<uint64_t, size_t>> rest(forced_at.begin(), forced_at.end());
  std::sort(rest.begin(), rest.end());
  for (const auto& [pair, f] : rest) {
    if (forced_done.count(pair)) continue;
    emit(static_cast<uint32_t>(pair >> 32), static_cast<uint32_t>(pair & 0xFFFFFFFF), 0,
         &forced_[f]);
  }
  for (const MatchStats::Rule& r : stats_.blocking) {
    stats_.notes.push_back("blocking rule " + r.name + ": " + std::to_string(r.blocked) +
                           " records blocked, " + std::to_string(r.blocks) + " blocks, " +
                           std::to_string(r.pairs) + " new candidate pairs");
  }
  return edges;
}

}  // namespace

Result<std::unique_ptr<Matcher>> MakeFuzzyMatcher(const DedupSpec& spec, const Schema& schema,
                                                  std::vector<ForcedPair> forced) {
  auto m = std::make_unique<FuzzyMatcher>(spec, std::move(forced));
  SLUICE_RETURN_IF_ERROR(m->Init(schema));
  return std::unique_ptr<Matcher>(std::move(m));
}

Result<std::vector<BlockingEstimate>> EstimateBlocking(const DedupSpec& spec, const Schema& schema,
                                                       const std::vector<Record>& records) {
  std::vector<BlockingRule> rules = spec.blocking;
  if (!spec.key_fields.empty() && spec.fuzzy()) {
    BlockingRule key;
    key.name = "key";
    for (const std::string& f : spec.key_fields) key.parts.push_back({f, "value", 0});
    rules.insert(rules.begin(), key);
  }
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
  blocking::ForEachPair(keys, blocks, [&](size_t r, uint32_t, uint32_t) { ++out[r].pairs; });
  return out;
}

}  // namespace sluice
