// The per-column statistics of `sluice profile` (profile.cc): value counts
// with a HyperLogLog fallback, shapes, type classes, date-order evidence and
// the 64-bit hash sets of the key checks. Internal to the profiler; in a
// header, not a .cc, so that the per-cell code inlines into the scan loop.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/core/hash.h"
#include "profiler/profile.h"

namespace sluice::profile_internal {

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

// Big blocks on 2 MB transparent huge pages (when the kernel offers them on
// madvise): a random probe into a set of millions of hashes otherwise costs
// a TLB miss on top of the cache miss, and on a VM that page walk dominated
// the dedup key checks.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHuge = size_t{2} << 20;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHuge) return std::allocator<T>().allocate(n);
    void* p = std::aligned_alloc(kHuge, (bytes + kHuge - 1) / kHuge * kHuge);
    if (p == nullptr) throw std::bad_alloc();
    madvise(p, bytes, MADV_HUGEPAGE);  // a hint: failure only costs speed
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHuge) return std::allocator<T>().deallocate(p, n);
    std::free(p);
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
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
  // Grows now, so that `n` more inserts do not grow the set (and move the
  // slots Prefetch pulled in).
  void Reserve(size_t n) {
    while (2 * (size_ + n) > slots_.size()) Grow();
  }
  // Pulls the slot `h` starts probing at into the cache: the set outgrows
  // the caches, and a probe is otherwise one cache miss per record.
  void Prefetch(uint64_t h) const { __builtin_prefetch(&slots_[(h == 0 ? 1 : h) & mask_]); }
  bool Contains(uint64_t h) const {
    if (h == 0) h = 1;
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == h) return true;
      if (slots_[i] == 0) return false;
    }
  }

 private:
  using Slots = std::vector<uint64_t, HugePageAllocator<uint64_t>>;
  void Grow() {
    Slots old(slots_.size() * 2, 0);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    size_ = 0;
    for (uint64_t h : old) {
      if (h != 0) Insert(h);
    }
  }
  Slots slots_;
  size_t mask_;
  size_t size_ = 0;
};

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A shape, built in place: no allocation per value.
struct ShapeText {
  char data[kMaxShapeLength + 1];
  size_t size = 0;
  uint64_t hash = 0;  // FNV-1a of data, computed while building it
  std::string_view view() const { return {data, size}; }
};

// "99/99/9999": digits 9, ASCII letters A/a, other ASCII as is, each non-ASCII
// character one 'a'; cut at kMaxShapeLength with a final '~'.
inline void Shape(std::string_view v, ShapeText* out) {
  size_t n = 0;
  uint64_t h = 0xcbf29ce484222325ull;
  auto put = [&](char c) {
    out->data[n++] = c;
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  };
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (n >= kMaxShapeLength) {
      put('~');
      break;
    }
    if (c >= '0' && c <= '9') {
      put('9');
    } else if (c >= 'A' && c <= 'Z') {
      put('A');
    } else if (c >= 'a' && c <= 'z') {
      put('a');
    } else if (c >= 0x80) {
      if ((c & 0xC0) != 0x80) put('a');  // a lead byte: one character
    } else {
      put(static_cast<char>(c));
    }
  }
  out->size = n;
  out->hash = h;
}

// Shape counts, up to kMaxShapes distinct shapes, in one flat open-addressed
// table compared exactly (a std::unordered_map lookup per value was a
// string hash and a node chase: most name columns change shape every row).
class ShapeCounts {
 public:
  ShapeCounts() : slots_(kSlots) {}
  // Counts `shape`; false when it is new and the table is full.
  bool Add(const ShapeText& shape) {
    const uint64_t h = shape.hash;
    // FNV's low bits are weak: the slot comes from the mixed high bits.
    for (size_t i = (h * 0x9e3779b97f4a7c15ull) >> (64 - kSlotBits);; i = (i + 1) & (kSlots - 1)) {
      Slot& s = slots_[i];
      if (s.count == 0) {
        if (shapes_.size() >= kMaxShapes) return false;
        s = {h, 1, static_cast<uint32_t>(shapes_.size())};
        shapes_.emplace_back(shape.view());
        return true;
      }
      if (s.hash == h && Equal(shapes_[s.index], shape)) {
        ++s.count;
        return true;
      }
    }
  }
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (const Slot& s : slots_) {
      if (s.count != 0) fn(shapes_[s.index], s.count);
    }
  }

 private:
  // Shapes are short: a byte loop beats a call to memcmp.
  static bool Equal(const std::string& a, const ShapeText& b) {
    if (a.size() != b.size) return false;
    for (size_t i = 0; i < b.size; ++i) {
      if (a[i] != b.data[i]) return false;
    }
    return true;
  }
  static constexpr int kSlotBits = 11;
  static constexpr size_t kSlots = size_t{1} << kSlotBits;  // over twice kMaxShapes
  static_assert(kSlots >= 2 * kMaxShapes);
  struct Slot {
    uint64_t hash = 0;
    uint64_t count = 0;  // 0: empty
    uint32_t index = 0;  // into shapes_
  };
  std::vector<Slot> slots_;
  std::vector<std::string> shapes_;
};

// TrimBlanks (transformer/field_cast.h), inlined: it runs once per cell.
inline std::string_view Trim(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && (text[b] == ' ' || text[b] == '\t')) ++b;
  while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t')) --e;
  return text.substr(b, e - b);
}

// a < b in text order, deciding on the first byte when it differs (most
// values): the full comparison is a memcmp call.
inline bool TextLess(std::string_view a, std::string_view b) {
  if (!a.empty() && !b.empty() && a[0] != b[0]) {
    return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]);
  }
  return a < b;
}

// Reads "d[d]S d[d]S dddd" at the start of `v`; false otherwise.
inline bool DayMonthPrefix(std::string_view v, int* a, int* b, size_t* end) {
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

inline bool IsoDatePrefix(std::string_view v) {
  return v.size() >= 10 && IsDigit(v[0]) && IsDigit(v[1]) && IsDigit(v[2]) && IsDigit(v[3]) &&
         v[4] == '-' && IsDigit(v[5]) && IsDigit(v[6]) && v[7] == '-' && IsDigit(v[8]) &&
         IsDigit(v[9]);
}

inline bool EqualsLower(std::string_view v, std::string_view lower) {
  if (v.size() != lower.size()) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// The classes `v` belongs to, among `wanted` (kDate and kTimestamp are always
// checked: the date-order evidence needs them); `*number` is set for ints and
// decimals, `*a` and `*b` to the first two numbers of a d/m/yyyy date.
inline uint8_t Classify(std::string_view v, uint8_t wanted, double* number, int* a, int* b,
                        bool* day_month) {
  uint8_t classes = 0;
  if (wanted & kDecimal) {
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
  }
  size_t end = 0;
  bool date = false;
  *day_month = DayMonthPrefix(v, a, b, &end);
  if (*day_month) {
    date = *a >= 1 && *b >= 1 && (*a <= 12 || *b <= 12) && *a <= 31 && *b <= 31;
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
  if ((wanted & kBool) && v.size() <= 5) {
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
    if (!shapes_.Add(shape_)) ++other_shapes_;
    if (non_empty_ == 1 || TextLess(v, min_)) min_.assign(v);
    if (non_empty_ == 1 || TextLess(max_, v)) max_.assign(v);
    min_length_ = std::min<uint64_t>(non_empty_ == 1 ? v.size() : min_length_, v.size());
    max_length_ = std::max<uint64_t>(max_length_, v.size());
    total_length_ += v.size();
    double number = 0;
    int a = 0, b = 0;
    bool day_month = false;
    // Once a value is no number (or no bool), the column is none, and the
    // numeric range is not reported: skip that work for the rest.
    const uint8_t classes = Classify(v, all_classes_, &number, &a, &b, &day_month);
    all_classes_ &= classes;
    if (classes & kDecimal) {
      if (!any_number_ || number < numeric_min_) numeric_min_ = number;
      if (!any_number_ || number > numeric_max_) numeric_max_ = number;
      any_number_ = true;
    }
    if ((classes & (kDate | kTimestamp)) && day_month) {
      if (a > 12 && b <= 12) ++dates_.day_first;
      if (b > 12 && a <= 12) ++dates_.month_first;
      if (a <= 12 && b <= 12 && a != b) ++dates_.ambiguous;
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
    CountMap shapes;
    shapes_.ForEach([&](const std::string& s, uint64_t n) { shapes.emplace(s, n); });
    p.shapes = Top(shapes, options_.top_values);
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
  ShapeCounts shapes_;
  uint64_t other_shapes_ = 0;
  ShapeText shape_;
  std::string min_, max_;
  uint64_t min_length_ = 0, max_length_ = 0, total_length_ = 0;
  uint8_t all_classes_ = 0xff;
  bool any_number_ = false;
  double numeric_min_ = 0, numeric_max_ = 0;
  DateOrderEvidence dates_;
};

}  // namespace sluice::profile_internal
