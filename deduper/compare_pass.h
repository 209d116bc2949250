// The comparison pass of the fuzzy matcher (internal to the deduper): the
// plan's deterministic rules and Fellegi-Sunter comparisons compiled against
// the schema, the compared fields of every record prepared once, and the
// code of each candidate pair (the rule that decided it, or its comparison
// pattern: one level per comparison).
//
// Speed (docs/dedup.md, Performance): every text is folded once per record
// (not per pair) into one row per record, beside its Soundex and Double
// Metaphone codes and whether it is ASCII; the string kernels are the
// bit-parallel ones of comparators.h for ASCII texts of up to 64 bytes, and a
// similarity level is settled without running the kernel when the lengths
// alone show that the lowest threshold cannot be reached, and the levels of a
// column's most frequent values are kept per pair of values. Candidate pairs
// are taken in chunks, and the rows of the pairs ahead are prefetched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/core/record.h"
#include "common/core/status.h"
#include "common/plan/plan.h"
#include "deduper/blocking.h"
#include "deduper/dedup.h"
#include "deduper/pair_codes.h"
#include "deduper/person_compare.h"

namespace sluice::compare {

enum class Kind : uint8_t {
  kExact,
  kJaroWinkler,
  kLevenshtein,
  kDamerau,
  kTokenSet,
  kSoundex,
  kPhonetic,  // Double Metaphone: primary or alternate codes equal
  kDate,
  kNumber,
  kName,        // names as people write them (person_compare.h)
  kIdentifier,  // digit errors, checksums
  kPhone        // the national significant number (a column of its own)
};

// The kind of a comparator or rule-term function name ("jaro_winkler",
// "jw", "phonetic", "metaphone", ...); anything unknown is kExact (the plan
// check has refused unknown names already).
Kind KindOf(const std::string& name);
// The short name in level labels: "jw", "lev", "days", ...
const char* ShortName(Kind k);

// One Fellegi-Sunter comparison with its levels (exact, thresholds..., else;
// soundex and phonetic: exact, same code, else) and, once estimated, its m,
// u and weight per level.
struct Comparison {
  const DedupComparison* spec;
  Kind kind;
  size_t column;                  // into the comparer's columns
  size_t with_column = SIZE_MAX;  // name: the field compared crosswise
  int levels;                     // exact .. else
  std::vector<std::string> labels;
  std::vector<double> m, u, weight;  // per level
  bool fixed_m = false, fixed_u = false;
  // A level that rules a match out whatever the other comparisons say
  // (identifier with a checksum: "different"), or -1. A pair at it is
  // decided distinct, and its records are kept apart (guardrails.h).
  int decisive = -1;
  // name with `with`: the index of its crosswise level, and of the earlier
  // comparison that compares the `with` field crosswise with this one
  // (person_compare.h, PairCrosswise), or -1.
  int crosswise_level = -1;
  int crosswise_partner = -1;
  // Similarity comparators: the level per pair of the column's most
  // frequent values (kCommonValues squared, -1 until computed).
  mutable std::vector<int8_t> level_cache;
};

// One term of a deterministic rule.
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

// How many of a column's most frequent values have their pairwise levels
// kept (Comparison::level_cache), and the mark of any other value.
constexpr size_t kCommonValues = 256;
constexpr uint16_t kNotCommon = 0xFFFF;

// A pair's code with this bit set is decided by rule (code & ~kRuleFlag);
// rule index rules().size() means no rule held and nothing is scored.
constexpr uint64_t kRuleFlag = 1ULL << 63;

// Not thread-safe: comparing fills per-comparison caches.
class PairComparer {
 public:
  // Compiles spec.rules and spec.comparisons against `schema`; `spec` must
  // outlive the comparer. Fails with the YAML path of a term or comparison
  // that names a field the schema lacks.
  Status Init(const DedupSpec& spec, const Schema& schema);

  // Folds and lays out the compared fields of `records`, once per record.
  void Prepare(const Schema& schema, const std::vector<Record>& records);

  // Guest rows (docs/dedup.md#guest-rows, compare_rows.cc). FoldRow
  // appends to `out` record r's compared fields folded exactly as Prepare
  // folds them: the row (slots, then texts), then the Double Metaphone
  // codes of the metaphone columns (8 bytes each). PrepareRows is Prepare
  // with some rows given in that form: given(i) returns record i's, or an
  // empty one to fold records[i] here (no `given`: every one). A given row
  // at an 8-byte aligned address is used in place, not copied: it must
  // stay put until the comparer is prepared again or destroyed, and the
  // comparer writes its marks of common values into it. A given row that
  // does not fit the compiled columns fails with Corruption.
  void FoldRow(const Record& r, std::string* out) const;
  struct GivenBytes {
    char* data = nullptr;
    size_t size = 0;
  };
  using GivenRow = GivenBytes (*)(const void* ctx, size_t i);
  Status PrepareRows(const std::vector<Record>& records, GivenRow given, const void* ctx = nullptr);

  // Pass 1: compares every candidate pair of `blocks` once, in
  // blocking::ForEachPair order, appending each pair's code to `codes` and
  // counting the patterns of the pairs no rule decided under every blocking
  // rule that blocks them together (not only the first).
  // Counts pairs in `stats` (comparisons, per rule) and times the pass
  // (stats->compare_seconds).
  void CompareAll(const blocking::KeyRows& keys, const std::vector<blocking::Blocks>& blocks,
                  MatchStats* stats, PairCodes* codes,
                  std::vector<std::unordered_map<uint64_t, uint64_t>>* pattern_counts) const;

  // The code of one pair: kRuleFlag | rule, or the comparison pattern.
  uint64_t Code(uint32_t a, uint32_t b) const;
  // The level of `cmp` for (a, b); cmp.levels when either side is NULL.
  int Level(const Comparison& cmp, size_t a, size_t b) const;
  uint64_t Pattern(size_t a, size_t b) const;
  uint64_t Radix(size_t c) const { return radix_[c]; }  // of comparison c's level in a pattern
  int LevelOf(uint64_t pattern, size_t c) const {
    return static_cast<int>((pattern / radix_[c]) % (comparisons_[c].levels + 1));
  }
  // The first comparison at its decisive level in `pattern`, or -1.
  int Decisive(uint64_t pattern) const {
    for (size_t c = 0; c < comparisons_.size(); ++c) {
      const int d = comparisons_[c].decisive;
      if (d >= 0 && LevelOf(pattern, c) == d) return static_cast<int>(c);
    }
    return -1;
  }
  // The total weight of a pattern (NULL levels weigh nothing, nor a
  // crosswise level already counted by its partner: CountedWithPartner).
  double Score(uint64_t pattern) const;
  // Whether comparison c's level in `pattern` is the crosswise level and its
  // crosswise partner (first_name with: last_name, last_name with:
  // first_name) is at its crosswise level too: one swap of first and last
  // name, seen from both comparisons, counted once (by the partner listed
  // first in the plan); c's weight is then left out.
  bool CountedWithPartner(uint64_t pattern, size_t c) const;

  // A hash of record i's value in `column` as compared (the folded text,
  // or the integer), never 0; 0 when NULL or empty. Equal values, equal
  // hashes: the key of term frequencies.
  uint64_t ValueHash(size_t i, size_t column) const;

  std::vector<Rule>& rules() { return rules_; }
  std::vector<Comparison>& comparisons() { return comparisons_; }

 private:
  // One compared field of one record, in the record's row.
  struct Slot {
    int64_t integer;   // integral fields; text: offset in the row (low 32 bits), length
    uint32_t soundex;  // Soundex code (4 bytes), 0 for none
    uint8_t null;      // NULL or empty text
    uint8_t ascii;     // the folded text is ASCII
    uint16_t common;   // rank among the column's most frequent values, or kNotCommon
  };
  struct Column {
    int field;  // schema index
    FieldType type;
    int scale;
    bool integral;
    bool soundex = false, metaphone = false;  // codes needed
    bool similarity = false;                  // compared by a similarity comparator
    bool phone_key = false;                   // holds PhoneKey(value), not the folded value
  };
  // The two records of a pair: their rows and indexes.
  struct Rows {
    const char* a;
    const char* b;
    size_t ia, ib;
  };

  // The bytes record r's row may take, and its folding into `row` (codes:
  // one per metaphone column); returns the bytes taken.
  size_t RowBound(const Record& r) const;
  size_t FoldInto(const Record& r, char* row, uint64_t* codes) const;
  size_t MetaphoneColumns() const;
  // Whether a given row's slots and texts lie within its `size` bytes.
  bool RowFits(const char* row, size_t size) const;

  Result<size_t> ColumnOf(const std::string& field, const std::string& path,
                          bool phone_key = false);
  void RankCommonValues(size_t col, size_t n);
  bool Holds(const Term& t, const Rows& p) const;
  int LevelAt(const Comparison& cmp, const Rows& p) const;
  int SimilarityLevel(const Comparison& cmp, const Rows& p) const;
  uint64_t PatternAt(const Rows& p) const;
  double Similarity(Kind kind, size_t col, const Rows& p) const;
  double Difference(size_t col, const Rows& p) const;
  bool Equal(size_t col, const Rows& p) const;
  bool SamePhonetic(size_t col, const Rows& p) const;

  const char* Row(size_t i) const { return reinterpret_cast<const char*>(start_[i]); }
  static const Slot& SlotAt(const char* row, size_t c) {
    return reinterpret_cast<const Slot*>(row)[c];
  }
  static std::string_view TextAt(const char* row, size_t c) {
    const Slot& s = SlotAt(row, c);
    return std::string_view(row + (s.integer & 0xFFFFFFFF),
                            static_cast<size_t>(static_cast<uint64_t>(s.integer) >> 32));
  }

  const Schema* schema_ = nullptr;
  // The name comparator's aliases: the shipped table, or a copy with the
  // plan's `aliases: FILE` groups added.
  const NameAliases* aliases_ = nullptr;
  std::optional<NameAliases> plan_aliases_;
  std::vector<Column> columns_;
  std::vector<Rule> rules_;
  std::vector<Comparison> comparisons_;
  std::vector<uint64_t> radix_;
  // Rows: record i's slots (one per column) then its texts, at the address
  // start_[i]: in data_, or a guest row given to PrepareRows (held by the
  // caller, compare_rows.cc).
  std::vector<uint64_t> start_;
  std::vector<uint64_t> data_;  // 8-byte aligned
  // Double Metaphone codes per metaphone column, per record: primary (high
  // 32 bits) and alternate, each up to 4 characters; 0 for none.
  std::vector<std::vector<uint64_t>> metaphone_;
};

}  // namespace sluice::compare
