#include "coordinator/profile.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "common/connector.h"
#include "common/hash.h"
#include "transformer/field_cast.h"
#include "transformer/reference_data.h"

namespace sluice {
namespace {

struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using CountMap = std::unordered_map<std::string, uint64_t, TextHash, std::equal_to<>>;

constexpr size_t kMaxShapeLength = 32;
constexpr size_t kMaxShapes = 1000;
constexpr int kHllBits = 14;

// What one value looks like, for type inference.
enum ValueClass : uint8_t {
  kInt = 1,
  kDecimal = 2,
  kDate = 4,
  kTimestamp = 8,
  kBool = 16,
};

// HyperLogLog with 2^14 registers (about 1% error), for columns with more
// distinct values than are counted exactly.
class DistinctSketch {
 public:
  DistinctSketch() : registers_(1u << kHllBits, 0) {}
  void Add(uint64_t h) {
    const uint32_t index = static_cast<uint32_t>(h >> (64 - kHllBits));
    const uint64_t rest = (h << kHllBits) | (1ull << (kHllBits - 1));
    const auto rank = static_cast<uint8_t>(__builtin_clzll(rest) + 1);
    if (rank > registers_[index]) registers_[index] = rank;
  }
  uint64_t Estimate() const {
    const double m = static_cast<double>(registers_.size());
    double sum = 0;
    size_t zeros = 0;
    for (uint8_t r : registers_) {
      sum += std::ldexp(1.0, -r);
      zeros += r == 0;
    }
    double e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
    if (e <= 2.5 * m && zeros > 0) e = m * std::log(m / static_cast<double>(zeros));
    return static_cast<uint64_t>(std::llround(e));
  }

 private:
  std::vector<uint8_t> registers_;
};

// Value counts in one flat, open-addressed table keyed by the value's xxh64
// (one probe into a contiguous array per value instead of a node per value:
// the profile's hot path). Values are told apart by their 64-bit hash only.
class ValueCounts {
 public:
  explicit ValueCounts(size_t limit) : limit_(limit) {
    size_t n = 16;
    while (n < 2 * limit) n *= 2;
    slots_.resize(n);
    mask_ = n - 1;
  }
  // Counts `v` (hash `h`); false when `v` is new and the table is full.
  bool Add(uint64_t h, std::string_view v) {
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.count == 0) {
        if (values_.size() >= limit_) return false;
        s = {h, 1, static_cast<uint32_t>(values_.size())};
        values_.emplace_back(v);
        return true;
      }
      if (s.hash == h) {
        ++s.count;
        return true;
      }
    }
  }
  size_t size() const { return values_.size(); }
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (const Slot& s : slots_) {
      if (s.count != 0) fn(values_[s.index], static_cast<uint64_t>(s.count));
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t count = 0;  // 0: empty
    uint32_t index = 0;  // into values_
  };
  size_t limit_;
  size_t mask_ = 0;
  std::vector<Slot> slots_;
  std::vector<std::string> values_;
};

// A set of 64-bit hashes, open-addressed, growing at half load: the dedup
// key and parent key sets, one probe per record.
class HashSet {
 public:
  HashSet() : slots_(1024, 0), mask_(1023) {}
  // True when `h` was not in the set.
  bool Insert(uint64_t h) {
    if (h == 0) h = 1;  // 0 marks an empty slot
    if (2 * (size_ + 1) > slots_.size()) Grow();
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == h) return false;
      if (slots_[i] == 0) {
        slots_[i] = h;
        ++size_;
        return true;
      }
    }
  }
  bool Contains(uint64_t h) const {
    if (h == 0) h = 1;
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == h) return true;
      if (slots_[i] == 0) return false;
    }
  }

 private:
  void Grow() {
    std::vector<uint64_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    size_ = 0;
    for (uint64_t h : old) {
      if (h != 0) Insert(h);
    }
  }
  std::vector<uint64_t> slots_;
  size_t mask_;
  size_t size_ = 0;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "99/99/9999": digits 9, ASCII letters A/a, other ASCII as is, each non-ASCII
// character one 'a'; cut at kMaxShapeLength with a final '~'.
void Shape(std::string_view v, std::string* out) {
  out->clear();
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (out->size() >= kMaxShapeLength) {
      out->push_back('~');
      return;
    }
    if (c >= '0' && c <= '9') {
      out->push_back('9');
    } else if (c >= 'A' && c <= 'Z') {
      out->push_back('A');
    } else if (c >= 'a' && c <= 'z') {
      out->push_back('a');
    } else if (c >= 0x80) {
      if ((c & 0xC0) != 0x80) out->push_back('a');  // a lead byte: one character
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

// Reads "d[d]S d[d]S dddd" at the start of `v`; false otherwise.
bool DayMonthPrefix(std::string_view v, int* a, int* b, size_t* end) {
  size_t i = 0;
  auto number = [&](int* out) {
    size_t start = i;
    int n = 0;
    while (i < v.size() && IsDigit(v[i]) && i - start < 2) n = n * 10 + (v[i++] - '0');
    *out = n;
    return i > start;
  };
  if (!number(a) || i >= v.size()) return false;
  const char sep = v[i];
  if (sep != '/' && sep != '.' && sep != '-') return false;
  ++i;
  if (!number(b) || i >= v.size() || v[i] != sep) return false;
  ++i;
  for (int k = 0; k < 4; ++k, ++i) {
    if (i >= v.size() || !IsDigit(v[i])) return false;
  }
  *end = i;
  return true;
}

bool IsoDatePrefix(std::string_view v) {
  return v.size() >= 10 && IsDigit(v[0]) && IsDigit(v[1]) && IsDigit(v[2]) && IsDigit(v[3]) &&
         v[4] == '-' && IsDigit(v[5]) && IsDigit(v[6]) && v[7] == '-' && IsDigit(v[8]) &&
         IsDigit(v[9]);
}

bool EqualsLower(std::string_view v, std::string_view lower) {
  if (v.size() != lower.size()) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// The classes `v` belongs to; `*number` is set for ints and decimals.
uint8_t Classify(std::string_view v, double* number) {
  uint8_t classes = 0;
  size_t i = (v[0] == '-' || v[0] == '+') ? 1 : 0;
  size_t digits = 0, points = 0;
  for (size_t k = i; k < v.size(); ++k) {
    if (IsDigit(v[k])) {
      ++digits;
    } else if (v[k] == '.' || v[k] == ',') {
      ++points;
    } else {
      digits = 0;
      points = 2;
      break;
    }
  }
  if (digits > 0 && points <= 1 && v.back() != '.' && v.back() != ',') {
    classes |= points == 0 ? (kInt | kDecimal) : kDecimal;
    char buf[64];
    const size_t n = std::min(v.size(), sizeof buf);
    for (size_t k = 0; k < n; ++k) buf[k] = v[k] == ',' ? '.' : v[k];
    const char* begin = buf[0] == '+' ? buf + 1 : buf;
    std::from_chars(begin, buf + n, *number);
  }
  int a = 0, b = 0;
  size_t end = 0;
  bool date = false;
  if (DayMonthPrefix(v, &a, &b, &end)) {
    date = a >= 1 && b >= 1 && (a <= 12 || b <= 12) && a <= 31 && b <= 31;
  } else if (IsoDatePrefix(v)) {
    date = true;
    end = 10;
  }
  if (date) {
    if (end == v.size()) {
      classes |= kDate;
    } else if ((v[end] == ' ' || v[end] == 'T') && v.size() >= end + 6 && IsDigit(v[end + 1]) &&
               v[end + 3] == ':') {
      classes |= kTimestamp;
    }
  }
  static constexpr std::string_view kBoolWords[] = {"true", "false", "yes", "no",
                                                    "y",    "n",     "t",   "f"};
  if (v.size() <= 5) {
    for (std::string_view word : kBoolWords) {
      if (EqualsLower(v, word)) classes |= kBool;
    }
  }
  return classes;
}

class FieldStats {
 public:
  explicit FieldStats(const ProfileOptions& options)
      : options_(options), counts_(options.exact_distinct) {}

  void AddEmpty() { ++rows_; }

  void Add(std::string_view v) {
    ++rows_;
    ++non_empty_;
    const uint64_t h = Hash64(v);
    sketch_.Add(h);
    if (counting_) Count(h, v);
    Shape(v, &shape_);
    if (last_shape_count_ != nullptr && shape_ == last_shape_) {
      ++*last_shape_count_;  // most columns repeat one shape: skip the lookup
    } else if (auto it = shapes_.find(shape_); it != shapes_.end()) {
      ++it->second;
      last_shape_ = shape_;
      last_shape_count_ = &it->second;
    } else if (shapes_.size() < kMaxShapes) {
      last_shape_count_ = &shapes_.emplace(shape_, 1).first->second;
      last_shape_ = shape_;
    } else {
      ++other_shapes_;
    }
    if (non_empty_ == 1 || v < min_) min_.assign(v);
    if (non_empty_ == 1 || v > max_) max_.assign(v);
    min_length_ = std::min<uint64_t>(non_empty_ == 1 ? v.size() : min_length_, v.size());
    max_length_ = std::max<uint64_t>(max_length_, v.size());
    total_length_ += v.size();
    double number = 0;
    const uint8_t classes = Classify(v, &number);
    all_classes_ &= classes;
    if (classes & kDecimal) {
      if (!any_number_ || number < numeric_min_) numeric_min_ = number;
      if (!any_number_ || number > numeric_max_) numeric_max_ = number;
      any_number_ = true;
    }
    if (classes & (kDate | kTimestamp)) {
      int a = 0, b = 0;
      size_t end = 0;
      if (DayMonthPrefix(v, &a, &b, &end)) {
        if (a > 12 && b <= 12) ++dates_.day_first;
        if (b > 12 && a <= 12) ++dates_.month_first;
        if (a <= 12 && b <= 12 && a != b) ++dates_.ambiguous;
      }
    }
  }

  FieldProfile Finish(const std::string& name) const {
    FieldProfile p;
    p.name = name;
    p.non_empty = non_empty_;
    p.completeness = rows_ == 0 ? 0 : 100.0 * static_cast<double>(non_empty_) / rows_;
    p.distinct_exact = !overflow_;
    p.distinct =
        overflow_ ? std::max<uint64_t>(sketch_.Estimate(), counts_.size()) : counts_.size();
    CountMap counts;
    counts_.ForEach([&](const std::string& v, uint64_t n) { counts.emplace(v, n); });
    p.top = Top(counts, options_.top_values);
    p.shapes = Top(shapes_, options_.top_values);
    if (other_shapes_ > 0) p.shapes.emplace_back("(other shapes)", other_shapes_);
    p.min = min_;
    p.max = max_;
    p.min_length = min_length_;
    p.max_length = max_length_;
    p.avg_length = non_empty_ == 0 ? 0 : static_cast<double>(total_length_) / non_empty_;
    p.dates = dates_;
    const uint8_t c = non_empty_ == 0 ? 0 : all_classes_;
    p.numeric = (c & kDecimal) != 0;
    p.numeric_min = numeric_min_;
    p.numeric_max = numeric_max_;
    p.inferred_type = non_empty_ == 0    ? "empty"
                      : (c & kInt)       ? "int"
                      : (c & kDecimal)   ? "decimal"
                      : (c & kDate)      ? "date"
                      : (c & kTimestamp) ? "timestamp"
                      : (c & kBool)      ? "bool"
                                         : "string";
    return p;
  }

  // Exact counts until `exact_distinct` values; then only values already
  // counted are counted, and the distinct count comes from the sketch.
  // A column that is nearly unique past that point (most lookups miss) stops
  // counting: its top values are then the first ones seen, flagged inexact.
  void Count(uint64_t h, std::string_view v) {
    const size_t before = counts_.size();
    if (!counts_.Add(h, v)) {
      overflow_ = true;
      if (++misses_ >= 4 * options_.exact_distinct && hits_ < misses_) counting_ = false;
    } else if (overflow_ && counts_.size() == before) {
      ++hits_;
    }
  }

  static std::vector<ValueCount> Top(const CountMap& counts, size_t n) {
    std::vector<ValueCount> all(counts.begin(), counts.end());
    auto by_count = [](const ValueCount& a, const ValueCount& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    };
    if (all.size() > n) {
      std::partial_sort(all.begin(), all.begin() + n, all.end(), by_count);
      all.resize(n);
    } else {
      std::sort(all.begin(), all.end(), by_count);
    }
    return all;
  }

 private:
  const ProfileOptions& options_;
  uint64_t rows_ = 0, non_empty_ = 0;
  ValueCounts counts_;
  bool overflow_ = false;
  bool counting_ = true;
  uint64_t hits_ = 0, misses_ = 0;  // after the overflow
  DistinctSketch sketch_;
  CountMap shapes_;
  std::string last_shape_;
  uint64_t* last_shape_count_ = nullptr;  // points into shapes_ (nodes are stable)
  uint64_t other_shapes_ = 0;
  std::string shape_;
  std::string min_, max_;
  uint64_t min_length_ = 0, max_length_ = 0, total_length_ = 0;
  uint8_t all_classes_ = 0xff;
  bool any_number_ = false;
  double numeric_min_ = 0, numeric_max_ = 0;
  DateOrderEvidence dates_;
};

// A value map checked against one column.
struct MapCheck {
  int column = -1;
  std::unordered_set<std::string, TextHash, std::equal_to<>> keys;
  UnmappedValues result;
  CountMap unmapped;
};

// Dedup keys of one mapping, counted into the entity's key set.
struct KeyCheck {
  std::vector<int> columns;
  DuplicateEstimate* estimate = nullptr;
  HashSet* seen = nullptr;
};

// Reference values of one mapping, checked against the parent's keys later.
struct RefCheck {
  int column = -1;
  OrphanReferences result;
  CountMap values;
};

std::string_view CellText(const Schema& schema, const Record& r, size_t i, std::string* scratch,
                          bool* null) {
  *null = i >= r.values.size() || r.values[i].is_null;
  if (*null) return {};
  const Value& v = r.values[i];
  if (IsIntegral(schema.fields[i].type)) {
    *scratch = FormatValue(schema.fields[i], v).value_or("");
    return *scratch;
  }
  return v.s;
}

}  // namespace

std::string DateOrderEvidence::Verdict() const {
  if (day_first == 0 && month_first == 0 && ambiguous == 0) return "";
  if (day_first > 0 && month_first > 0) return "mixed";
  if (day_first > 0) return "day-first";
  if (month_first > 0) return "month-first";
  return "ambiguous";
}

Result<PlanProfile> ProfilePlan(const Plan& plan, const ProfileOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  PlanProfile out;
  out.plan = plan.name;

  // Dedup key sets per entity, and parent key sets per entity.
  std::map<std::string, DuplicateEstimate> dup_by_entity;
  std::map<std::string, HashSet> dup_seen;
  std::set<std::string> parents;
  for (const Entity& e : plan.model.entities) {
    for (const ModelField& f : e.fields) {
      if (f.type == FieldType::kReference && !f.references.empty()) parents.insert(f.references);
    }
  }
  std::map<std::string, HashSet> parent_keys;
  std::vector<RefCheck> all_refs;

  for (const SourceSpec& spec : plan.sources) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Source> source, OpenSource(spec));
    const Schema& schema = source->schema();
    SourceProfile sp;
    sp.name = spec.name;
    sp.kind = spec.kind;
    std::vector<FieldStats> stats(schema.fields.size(), FieldStats(options));

    // What the plan asks of this source's columns.
    std::vector<MapCheck> maps;
    std::vector<KeyCheck> keys;
    std::vector<RefCheck> refs;
    std::vector<std::string> key_parents;  // parent entities this source's keys belong to
    for (const Mapping& m : plan.mappings) {
      if (m.source != spec.name) continue;
      if (parents.count(m.entity)) key_parents.push_back(m.entity);
      const Entity* entity = plan.model.Find(m.entity);
      for (const FieldMapping& fm : m.fields) {
        const int col = fm.from.empty() ? -1 : schema.IndexOf(fm.from);
        if (col < 0) continue;
        if (fm.has_value_map || !fm.map_file.empty()) {
          MapCheck& mc = maps.emplace_back();
          mc.column = col;
          for (const auto& [from, to] : fm.value_map) mc.keys.insert(from);
          mc.result.map = "inline";
          if (!fm.map_file.empty()) {
            SLUICE_ASSIGN_OR_RETURN(auto entries,
                                    LoadValueMapFile(fm.map_file, fm.yaml_path + ".map_file"));
            for (const auto& [from, to] : entries) mc.keys.insert(from);
            mc.result.map = std::filesystem::path(fm.map_file).filename().string();
          }
          mc.result.entity = m.entity;
          mc.result.field = fm.target;
          mc.result.column = fm.from;
        }
        const ModelField* field = entity ? entity->Find(fm.target) : nullptr;
        if (field != nullptr && field->type == FieldType::kReference && fm.concat.empty()) {
          RefCheck& rc = refs.emplace_back();
          rc.column = col;
          rc.result = {m.entity, fm.target, field->references, spec.name, 0, 0, {}};
        }
      }
      auto dedup = plan.dedup.find(m.entity);
      if (dedup != plan.dedup.end() && !dedup->second.key_fields.empty()) {
        KeyCheck kc;
        for (const std::string& kf : dedup->second.key_fields) {
          int col = -1;
          for (const FieldMapping& fm : m.fields) {
            if (fm.target == kf && !fm.from.empty()) col = schema.IndexOf(fm.from);
          }
          kc.columns.push_back(col);
        }
        if (std::find(kc.columns.begin(), kc.columns.end(), -1) == kc.columns.end()) {
          DuplicateEstimate& d = dup_by_entity[m.entity];
          d.entity = m.entity;
          d.key_fields = dedup->second.key_fields;
          kc.estimate = &d;
          kc.seen = &dup_seen[m.entity];
          keys.push_back(std::move(kc));
        }
      }
    }

    RecordBatch batch;
    std::vector<v1::Fate> rejects;
    std::string scratch, key;
    bool more = true;
    while (more && (options.max_rows == 0 || sp.rows < options.max_rows)) {
      batch.records.clear();
      rejects.clear();
      SLUICE_ASSIGN_OR_RETURN(more, source->Next(4096, &batch, &rejects));
      sp.rejected_rows += rejects.size();
      size_t take = batch.records.size();
      if (options.max_rows != 0) take = std::min<uint64_t>(take, options.max_rows - sp.rows);
      // Columns are independent: the second half is profiled on a second
      // thread while this one takes the first half and the plan checks.
      auto profile_columns = [&](size_t begin, size_t end) {
        std::string cell;
        bool cell_null = false;
        for (size_t k = 0; k < take; ++k) {
          const Record& r = batch.records[k];
          for (size_t i = begin; i < end; ++i) {
            std::string_view v = TrimBlanks(CellText(schema, r, i, &cell, &cell_null));
            if (v.empty()) {
              stats[i].AddEmpty();
            } else {
              stats[i].Add(v);
            }
          }
        }
      };
      const size_t half = stats.size() >= 4 ? stats.size() / 2 : stats.size();
      std::future<void> second;
      if (half < stats.size() && take > 256) {
        second = std::async(std::launch::async, profile_columns, half, stats.size());
      } else {
        profile_columns(half, stats.size());
      }
      profile_columns(0, half);
      for (size_t k = 0; k < take; ++k) {
        const Record& r = batch.records[k];
        ++sp.rows;
        bool null = false;
        for (MapCheck& mc : maps) {
          std::string_view v = TrimBlanks(CellText(schema, r, mc.column, &scratch, &null));
          if (v.empty() || mc.keys.count(v)) continue;
          ++mc.result.total;
          if (auto it = mc.unmapped.find(v); it != mc.unmapped.end()) {
            ++it->second;
          } else {
            mc.unmapped.emplace(std::string(v), 1);
          }
        }
        for (KeyCheck& kc : keys) {
          key.clear();
          bool missing = false;
          for (int col : kc.columns) {
            std::string_view v = TrimBlanks(CellText(schema, r, col, &scratch, &null));
            missing = missing || v.empty();
            key.append(v);
            key.push_back('\x1f');
          }
          if (missing) {
            ++kc.estimate->missing_key;
            continue;
          }
          ++kc.estimate->records;
          if (!kc.seen->Insert(Hash64(key))) ++kc.estimate->duplicates;
        }
        for (RefCheck& rc : refs) {
          std::string_view v = TrimBlanks(CellText(schema, r, rc.column, &scratch, &null));
          if (v.empty()) continue;
          ++rc.result.references;
          if (auto it = rc.values.find(v); it != rc.values.end()) {
            ++it->second;
          } else {
            rc.values.emplace(std::string(v), 1);
          }
        }
        for (const std::string& p : key_parents) parent_keys[p].Insert(Hash64(r.key));
      }
      if (second.valid()) second.get();
    }
    for (size_t i = 0; i < stats.size(); ++i) {
      sp.fields.push_back(stats[i].Finish(schema.fields[i].name));
    }
    for (MapCheck& mc : maps) {
      mc.result.values = FieldStats::Top(mc.unmapped, std::max<size_t>(options.top_values, 50));
      sp.unmapped.push_back(std::move(mc.result));
    }
    for (RefCheck& rc : refs) all_refs.push_back(std::move(rc));
    out.rows += sp.rows;
    out.sources.push_back(std::move(sp));
  }

  for (auto& [entity, d] : dup_by_entity) out.duplicates.push_back(d);
  for (RefCheck& rc : all_refs) {
    const auto& keys = parent_keys[rc.result.parent];
    std::vector<std::string> orphan_values;
    for (const auto& [value, count] : rc.values) {
      if (keys.Contains(Hash64(value))) continue;
      rc.result.orphans += count;
      orphan_values.push_back(value);
    }
    std::sort(orphan_values.begin(), orphan_values.end());
    if (orphan_values.size() > 10) orphan_values.resize(10);
    rc.result.samples = std::move(orphan_values);
    out.orphans.push_back(std::move(rc.result));
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace sluice
