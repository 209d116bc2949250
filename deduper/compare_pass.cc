#include "deduper/compare_pass.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/core/hash.h"
#include "deduper/comparators.h"
#include "deduper/metaphone.h"
#include "deduper/person_compare.h"

namespace sluice::compare {
namespace {

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

// A similarity bound is trusted only this far below a threshold, so that
// rounding in the bound never settles a pair the exact value would not.
constexpr double kBoundSlack = 1e-9;

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// CPU time of the calling thread: on a shared machine the wall time of the
// pass also counts the time other processes held the core.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Whether n bytes at x and y are equal: codes, postcodes and ids are short,
// and two overlapping word loads (never past the n bytes) beat a call to
// memcmp.
bool SameBytes(const char* x, const char* y, size_t n) {
  auto word64 = [](const char* s) {
    uint64_t w;
    std::memcpy(&w, s, sizeof w);
    return w;
  };
  auto word32 = [](const char* s) {
    uint32_t w;
    std::memcpy(&w, s, sizeof w);
    return w;
  };
  if (n >= 8) {
    if (n > 16) return std::memcmp(x, y, n) == 0;
    return word64(x) == word64(y) && word64(x + n - 8) == word64(y + n - 8);
  }
  if (n >= 4) return word32(x) == word32(y) && word32(x + n - 4) == word32(y + n - 4);
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return false;
  }
  return true;
}

uint32_t Pack(const std::string& code) {
  uint32_t w = 0;
  for (size_t k = 0; k < 4; ++k) {
    w = (w << 8) | (k < code.size() ? static_cast<uint8_t>(code[k]) : 0);
  }
  return w;
}

}  // namespace

Kind KindOf(const std::string& name) {
  if (name == "jaro_winkler" || name == "jw") return Kind::kJaroWinkler;
  if (name == "levenshtein" || name == "lev") return Kind::kLevenshtein;
  if (name == "damerau_levenshtein" || name == "dl") return Kind::kDamerau;
  if (name == "token_set") return Kind::kTokenSet;
  if (name == "soundex") return Kind::kSoundex;
  if (name == "phonetic" || name == "metaphone") return Kind::kPhonetic;
  if (name == "date") return Kind::kDate;
  if (name == "number") return Kind::kNumber;
  if (name == "name") return Kind::kName;
  if (name == "identifier") return Kind::kIdentifier;
  if (name == "phone") return Kind::kPhone;
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
    case Kind::kPhonetic:
      return "phonetic";
    case Kind::kDate:
      return "days";
    case Kind::kNumber:
      return "diff";
    default:
      return "exact";
  }
}

Result<size_t> PairComparer::ColumnOf(const std::string& field, const std::string& path,
                                      bool phone_key) {
  const int index = schema_->IndexOf(field);
  if (index < 0) return Status::InvalidArgument(path + ": no field " + field + " in the entity");
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].field == index && columns_[i].phone_key == phone_key) return i;
  }
  const FieldSpec& f = schema_->fields[index];
  columns_.push_back({index, f.type, f.scale, IsIntegral(f.type)});
  columns_.back().phone_key = phone_key;
  return columns_.size() - 1;
}

Status PairComparer::Init(const DedupSpec& spec, const Schema& schema) {
  schema_ = &schema;
  columns_.clear();
  rules_.clear();
  comparisons_.clear();
  radix_.clear();
  aliases_ = &NameAliases::Default();
  plan_aliases_.reset();
  if (!spec.aliases_text.empty()) {
    plan_aliases_ = NameAliases::Default();
    SLUICE_RETURN_IF_ERROR(plan_aliases_->Add(spec.aliases_text, spec.aliases_path));
    aliases_ = &*plan_aliases_;
  }
  for (const MatchRuleSpec& r : spec.rules) {
    Rule rule{&r,
              r.decide == "review"     ? Band::kReview
              : r.decide == "distinct" ? Band::kDistinct
                                       : Band::kMerge,
              {}};
    for (const RuleTerm& t : r.terms) {
      SLUICE_ASSIGN_OR_RETURN(size_t col, ColumnOf(t.field, r.yaml_path));
      const Kind kind = KindOf(t.function);
      if (kind == Kind::kSoundex) columns_[col].soundex = true;
      if (kind == Kind::kPhonetic) columns_[col].metaphone = true;
      rule.terms.push_back({kind, col, t.op == ">=", t.value, t.negate});
    }
    rules_.push_back(std::move(rule));
  }
  uint64_t radix_product = 1;
  for (const DedupComparison& c : spec.comparisons) {
    Comparison cmp;
    cmp.spec = &c;
    cmp.kind = KindOf(c.comparator);
    SLUICE_ASSIGN_OR_RETURN(cmp.column, ColumnOf(c.field, c.yaml_path, cmp.kind == Kind::kPhone));
    if (!c.with.empty()) {
      SLUICE_ASSIGN_OR_RETURN(cmp.with_column, ColumnOf(c.with, c.yaml_path));
    }
    if (cmp.kind == Kind::kSoundex) columns_[cmp.column].soundex = true;
    if (cmp.kind == Kind::kPhonetic) columns_[cmp.column].metaphone = true;
    if (cmp.kind == Kind::kJaroWinkler || cmp.kind == Kind::kLevenshtein ||
        cmp.kind == Kind::kDamerau || cmp.kind == Kind::kTokenSet) {
      columns_[cmp.column].similarity = true;
    }
    cmp.levels = static_cast<int>(c.LevelCount());
    cmp.labels = PersonLevelLabels(c);  // name, identifier, phone: their own
    if (cmp.labels.empty()) {
      cmp.labels.push_back("exact");
      if (cmp.kind == Kind::kSoundex || cmp.kind == Kind::kPhonetic) {
        cmp.labels.push_back(ShortName(cmp.kind));
      }
      for (double t : c.thresholds) {
        const bool diff = cmp.kind == Kind::kDate || cmp.kind == Kind::kNumber;
        cmp.labels.push_back(std::string(ShortName(cmp.kind)) + (diff ? "<=" : ">=") +
                             FormatNumber(t));
      }
      cmp.labels.push_back("else");
    }
    if (static_cast<int>(cmp.labels.size()) != cmp.levels) {
      return Status::InvalidArgument(c.yaml_path + ": level count mismatch");
    }
    // Two different ids that both pass the plan's checksum: never one entity.
    if (cmp.kind == Kind::kIdentifier && !c.checksum.empty()) cmp.decisive = 4;
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
  PairCrosswise(&comparisons_);
  return Status::Ok();
}

void PairComparer::Prepare(const Schema&, const std::vector<Record>& records) {
  // Every row folded here: PrepareRows with no row given.
  (void)PrepareRows(records, nullptr);
}

size_t PairComparer::RowBound(const Record& r) const {
  size_t len = columns_.size() * sizeof(Slot);
  for (const Column& c : columns_) {
    const Value& v = r.values[c.field];
    if (!c.integral && !v.is_null) len += v.s.size();  // folding never lengthens a text
  }
  return len;
}

size_t PairComparer::FoldInto(const Record& r, char* row, uint64_t* codes) const {
  const size_t cols = columns_.size();
  Slot* slots = reinterpret_cast<Slot*>(row);
  uint32_t off = static_cast<uint32_t>(cols * sizeof(Slot));
  std::string text;
  size_t code = 0;
  for (size_t c = 0; c < cols; ++c) {
    const Column& col = columns_[c];
    const Value& v = r.values[col.field];
    Slot& s = slots[c];
    s = {};
    s.common = kNotCommon;
    if (col.metaphone) codes[code] = 0;
    if (col.integral) {
      s.null = v.is_null;
      s.integer = v.i;
      continue;
    }
    text.clear();
    if (!v.is_null) {
      if (col.phone_key) {
        text = PhoneKey(v.s);
      } else {
        similarity::FoldText(v.s, &text);
      }
    }
    s.null = v.is_null || text.empty();
    s.ascii = IsAscii(text);
    std::memcpy(row + off, text.data(), text.size());
    s.integer = static_cast<int64_t>(off) | (static_cast<int64_t>(text.size()) << 32);
    off += static_cast<uint32_t>(text.size());
    if (!s.null && col.soundex) {
      char sx[5];
      if (similarity::Soundex(text, sx)) {
        uint32_t w = 0;
        for (int k = 0; k < 4; ++k) w = (w << 8) | static_cast<uint8_t>(sx[k]);
        s.soundex = w;
      }
    }
    if (!s.null && col.metaphone) {
      const similarity::MetaphoneCodes m = similarity::DoubleMetaphone(text);
      codes[code] = static_cast<uint64_t>(Pack(m.primary)) << 32 | Pack(m.alternate);
    }
    if (col.metaphone) ++code;
  }
  return off;
}

// Marks the kCommonValues most frequent texts of a column (Slot::common) and
// gives the comparisons on it a level cache, when those values are common
// enough to pay: judged on a sample, so that a column of mostly distinct
// values (e-mails, phones) costs one pass over the sample only.
void PairComparer::RankCommonValues(size_t col, size_t n) {
  constexpr size_t kSample = 20000;
  constexpr double kMinShare = 0.3;  // of the sample held by the common values
  std::unordered_map<std::string_view, uint32_t> counts;
  const size_t sample = std::min(n, kSample);
  for (size_t i = 0; i < sample; ++i) {
    const char* row = Row(i);
    if (!SlotAt(row, col).null) ++counts[TextAt(row, col)];
  }
  std::vector<std::pair<uint32_t, std::string_view>> order;
  for (const auto& [text, count] : counts) {
    if (count >= 2) order.emplace_back(count, text);
  }
  std::sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first > y.first : x.second < y.second;
  });
  if (order.size() > kCommonValues) order.resize(kCommonValues);
  size_t covered = 0;
  for (const auto& o : order) covered += o.first;
  if (sample == 0 || static_cast<double>(covered) < kMinShare * static_cast<double>(sample)) return;
  std::unordered_map<std::string_view, uint16_t> rank;
  for (size_t r = 0; r < order.size(); ++r) rank.emplace(order[r].second, static_cast<uint16_t>(r));
  for (size_t i = 0; i < n; ++i) {
    char* row = reinterpret_cast<char*>(start_[i]);
    Slot& s = reinterpret_cast<Slot*>(row)[col];
    if (s.null) continue;
    const auto it = rank.find(TextAt(row, col));
    if (it != rank.end()) s.common = it->second;
  }
  for (Comparison& cmp : comparisons_) {
    if (cmp.column == col && cmp.levels < 127) {  // a level fits in an int8_t
      cmp.level_cache.assign(kCommonValues * kCommonValues, -1);
    }
  }
}

bool PairComparer::Equal(size_t col, const Rows& p) const {
  const Slot &sa = SlotAt(p.a, col), &sb = SlotAt(p.b, col);
  if (columns_[col].integral) return sa.integer == sb.integer;
  // Texts: the length is in the high half of `integer`.
  if ((sa.integer >> 32) != (sb.integer >> 32)) return false;
  return SameBytes(p.a + (sa.integer & 0xFFFFFFFF), p.b + (sb.integer & 0xFFFFFFFF),
                   static_cast<size_t>(static_cast<uint64_t>(sa.integer) >> 32));
}

bool PairComparer::SamePhonetic(size_t col, const Rows& p) const {
  const uint64_t x = metaphone_[col][p.ia], y = metaphone_[col][p.ib];
  const uint32_t xp = static_cast<uint32_t>(x >> 32), xa = static_cast<uint32_t>(x);
  const uint32_t yp = static_cast<uint32_t>(y >> 32), ya = static_cast<uint32_t>(y);
  if (xp == 0 || yp == 0) return false;  // no code: no letter to sound
  return xp == yp || (xa != 0 && (xa == yp || xa == ya)) || (ya != 0 && ya == xp);
}

// |a - b| in the column's natural unit: days for dates and timestamps,
// whole units for decimals.
double PairComparer::Difference(size_t col, const Rows& p) const {
  const Column& c = columns_[col];
  const double d = static_cast<double>(
      similarity::AbsDifference(SlotAt(p.a, col).integer, SlotAt(p.b, col).integer));
  if (c.type == FieldType::kTimestamp) return d / kMicrosPerDay;
  if (c.type == FieldType::kDecimal) return d / std::pow(10.0, c.scale);
  return d;
}

double PairComparer::Similarity(Kind kind, size_t col, const Rows& p) const {
  const std::string_view x = TextAt(p.a, col), y = TextAt(p.b, col);
  const bool ascii = SlotAt(p.a, col).ascii && SlotAt(p.b, col).ascii;
  switch (kind) {
    case Kind::kJaroWinkler:
      return ascii ? similarity::JaroWinklerAscii(x, y) : similarity::JaroWinkler(x, y);
    case Kind::kLevenshtein:
    case Kind::kDamerau: {
      if (!ascii) {
        return kind == Kind::kLevenshtein ? similarity::LevenshteinSimilarity(x, y)
                                          : similarity::DamerauLevenshteinSimilarity(x, y);
      }
      if (x == y) return 1.0;
      const int d = kind == Kind::kLevenshtein ? similarity::LevenshteinAscii(x, y)
                                               : similarity::DamerauLevenshteinAscii(x, y);
      const size_t longer = std::max(x.size(), y.size());
      return 1.0 - static_cast<double>(d) / static_cast<double>(longer);
    }
    case Kind::kTokenSet:
      return similarity::TokenSetSimilarity(x, y);
    default:
      return x == y ? 1.0 : 0.0;
  }
}

bool PairComparer::Holds(const Term& t, const Rows& p) const {
  const Slot &sa = SlotAt(p.a, t.column), &sb = SlotAt(p.b, t.column);
  if (sa.null || sb.null) return false;  // unknown is never evidence
  bool holds;
  switch (t.kind) {
    case Kind::kExact:
      holds = Equal(t.column, p);
      break;
    case Kind::kSoundex:
      holds = sa.soundex != 0 && sa.soundex == sb.soundex;
      break;
    case Kind::kPhonetic:
      holds = SamePhonetic(t.column, p);
      break;
    case Kind::kDate:
    case Kind::kNumber: {
      const double d = Difference(t.column, p);
      holds = t.at_least ? d >= t.value : d <= t.value;
      break;
    }
    default: {
      const double s = columns_[t.column].integral ? (Equal(t.column, p) ? 1.0 : 0.0)
                                                   : Similarity(t.kind, t.column, p);
      holds = t.at_least ? s >= t.value : s <= t.value;
    }
  }
  return holds != t.negate;
}

int PairComparer::Level(const Comparison& cmp, size_t a, size_t b) const {
  return LevelAt(cmp, {Row(a), Row(b), a, b});
}

int PairComparer::LevelAt(const Comparison& cmp, const Rows& p) const {
  const size_t col = cmp.column;
  const Slot &sa = SlotAt(p.a, col), &sb = SlotAt(p.b, col);
  if (sa.null || sb.null) return cmp.levels;
  if (Equal(col, p)) return 0;
  const std::vector<double>& t = cmp.spec->thresholds;
  const int below = static_cast<int>(t.size()) + 1;  // the "else" level of a threshold list
  switch (cmp.kind) {
    case Kind::kExact:
    case Kind::kPhone:
      return 1;
    case Kind::kName: {
      auto with = [&](const char* row) {
        return cmp.with_column == SIZE_MAX || SlotAt(row, cmp.with_column).null
                   ? std::string_view()
                   : TextAt(row, cmp.with_column);
      };
      return NameLevel(TextAt(p.a, col), TextAt(p.b, col), with(p.a), with(p.b), t, *aliases_);
    }
    case Kind::kIdentifier:
      return IdentifierLevel(TextAt(p.a, col), TextAt(p.b, col), cmp.spec->checksum);
    case Kind::kSoundex:
      return sa.soundex != 0 && sa.soundex == sb.soundex ? 1 : 2;
    case Kind::kPhonetic:
      return SamePhonetic(col, p) ? 1 : 2;
    case Kind::kDate:
    case Kind::kNumber: {
      const double d = Difference(col, p);
      for (size_t k = 0; k < t.size(); ++k) {
        if (d <= t[k]) return static_cast<int>(k) + 1;
      }
      return below;
    }
    default: {
      if (columns_[col].integral) return cmp.levels - 1;
      // Frequent values (a city, a common first name) meet again and again:
      // their level is kept per pair of values.
      int8_t* cached = nullptr;
      if (sa.common != kNotCommon && sb.common != kNotCommon && !cmp.level_cache.empty()) {
        cached = &cmp.level_cache[sa.common * kCommonValues + sb.common];
        if (*cached >= 0) return *cached;
      }
      const int level = SimilarityLevel(cmp, p);
      if (cached != nullptr) *cached = static_cast<int8_t>(level);
      return level;
    }
  }
}

int PairComparer::SimilarityLevel(const Comparison& cmp, const Rows& p) const {
  const size_t col = cmp.column;
  const std::vector<double>& t = cmp.spec->thresholds;
  const int below = static_cast<int>(t.size()) + 1;
  // Early exit: when the lengths alone bound the similarity below the
  // lowest threshold, the level is "else" whatever the kernel says.
  if (!t.empty() && SlotAt(p.a, col).ascii && SlotAt(p.b, col).ascii) {
    const std::string_view x = TextAt(p.a, col), y = TextAt(p.b, col);
    const double lx = static_cast<double>(x.size()), ly = static_cast<double>(y.size());
    double bound = 1.0;
    if (cmp.kind == Kind::kJaroWinkler) {
      // Jaro <= (m/|x| + m/|y| + 1) / 3 with m <= the shorter length, and
      // Jaro-Winkler grows with Jaro for a given common prefix.
      const double m = std::min(lx, ly);
      const double jaro = (m / lx + m / ly + 1.0) / 3.0;
      size_t prefix = 0;
      const size_t most = std::min<size_t>({4, x.size(), y.size()});
      while (prefix < most && x[prefix] == y[prefix]) ++prefix;
      bound = jaro > 0.7 ? jaro + prefix * 0.1 * (1.0 - jaro) : jaro;
    } else if (cmp.kind == Kind::kLevenshtein || cmp.kind == Kind::kDamerau) {
      // The distance is at least the difference in length.
      bound = 1.0 - std::abs(lx - ly) / std::max(lx, ly);
    }
    if (bound < t.back() - kBoundSlack) return below;
  }
  const double s = Similarity(cmp.kind, col, p);
  for (size_t k = 0; k < t.size(); ++k) {
    if (s >= t[k]) return static_cast<int>(k) + 1;
  }
  return below;
}

uint64_t PairComparer::Pattern(size_t a, size_t b) const {
  return PatternAt({Row(a), Row(b), a, b});
}

uint64_t PairComparer::PatternAt(const Rows& p) const {
  uint64_t pattern = 0;
  for (size_t c = 0; c < comparisons_.size(); ++c) {
    pattern += static_cast<uint64_t>(LevelAt(comparisons_[c], p)) * radix_[c];
  }
  return pattern;
}

uint64_t PairComparer::ValueHash(size_t i, size_t column) const {
  const char* row = Row(i);
  const Slot& s = SlotAt(row, column);
  if (s.null) return 0;
  const uint64_t h =
      columns_[column].integral
          ? Hash64(std::string_view(reinterpret_cast<const char*>(&s.integer), sizeof s.integer))
          : Hash64(TextAt(row, column));
  return h == 0 ? 1 : h;
}

double PairComparer::Score(uint64_t pattern) const {
  double s = 0;
  for (size_t c = 0; c < comparisons_.size(); ++c) {
    const int l = LevelOf(pattern, c);
    if (l < comparisons_[c].levels && !CountedWithPartner(pattern, c)) {
      s += comparisons_[c].weight[l];
    }
  }
  return s;
}

bool PairComparer::CountedWithPartner(uint64_t pattern, size_t c) const {
  const Comparison& cmp = comparisons_[c];
  if (cmp.crosswise_partner < 0) return false;
  const Comparison& partner = comparisons_[cmp.crosswise_partner];
  return LevelOf(pattern, c) == cmp.crosswise_level &&
         LevelOf(pattern, cmp.crosswise_partner) == partner.crosswise_level;
}

uint64_t PairComparer::Code(uint32_t a, uint32_t b) const {
  const Rows p{Row(a), Row(b), a, b};
  for (size_t r = 0; r < rules_.size(); ++r) {
    bool all = true;
    for (const Term& t : rules_[r].terms) {
      if (!Holds(t, p)) {
        all = false;
        break;
      }
    }
    if (all) return kRuleFlag | r;
  }
  if (comparisons_.empty()) return kRuleFlag | rules_.size();  // no rule held
  return PatternAt(p);
}

void PairComparer::CompareAll(
    const blocking::KeyRows& keys, const std::vector<blocking::Blocks>& blocks, MatchStats* stats,
    PairCodes* codes, std::vector<std::unordered_map<uint64_t, uint64_t>>* pattern_counts) const {
  const auto compare_start = std::chrono::steady_clock::now();
  const double cpu_start = ThreadCpuSeconds();
  // Pairs are gathered in chunks and compared with the rows of the pairs
  // a few steps ahead prefetched: the two records of a pair are scattered
  // over memory, and their rows would otherwise be fetched one miss at a
  // time.
  struct Pair {
    uint32_t rule, a, b;
  };
  constexpr size_t kChunk = 2048, kAhead = 8, kAheadStart = 16;
  std::vector<Pair> chunk;
  chunk.reserve(kChunk);
  auto flush = [&]() {
    const size_t n = chunk.size();
    for (size_t k = 0; k < n; ++k) {
      if (k + kAheadStart < n) {
        __builtin_prefetch(&start_[chunk[k + kAheadStart].a]);
        __builtin_prefetch(&start_[chunk[k + kAheadStart].b]);
      }
      if (k + kAhead < n) {
        for (const uint32_t i : {chunk[k + kAhead].a, chunk[k + kAhead].b}) {
          const char* row = Row(i);
          for (int line = 0; line < 4; ++line) __builtin_prefetch(row + 64 * line);
        }
      }
      const Pair& p = chunk[k];
      const uint64_t code = Code(p.a, p.b);
      if ((code & kRuleFlag) == 0) {
        // Counted under every rule that blocks the pair together, not only
        // the first: each rule's EM then sees all of its pairs, as Splink
        // estimates per blocking rule. Counting a pair under its first rule
        // only would leave the later rules without the pairs that agree on
        // an earlier rule's fields (an exact national id among pairs found
        // by name would look like evidence against a match).
        for (size_t r = p.rule; r < keys.rules; ++r) {
          const uint64_t ka = keys.Key(p.a, r);
          if (r == p.rule || (ka != 0 && ka == keys.Key(p.b, r))) ++(*pattern_counts)[r][code];
        }
      }
      codes->Add(code);
    }
    chunk.clear();
  };
  blocking::ForEachPair(keys, blocks, [&](size_t rule_index, uint32_t a, uint32_t b) {
    ++stats->blocking[rule_index].pairs;
    ++stats->comparisons;
    chunk.push_back({static_cast<uint32_t>(rule_index), a, b});
    if (chunk.size() == kChunk) flush();
  });
  flush();
  stats->compare_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - compare_start).count();
  stats->compare_cpu_seconds = ThreadCpuSeconds() - cpu_start;
}

}  // namespace sluice::compare
