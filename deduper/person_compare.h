// The comparators for names as people write them, identifiers with digit
// errors and phones in any form (issue 21; docs/dedup.md, "Names,
// identifiers and phones"). Pure functions of folded texts; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/core/status.h"
#include "common/plan/plan.h"

namespace sluice::compare {

struct Comparison;  // compare_pass.h

// Groups of given names and their short forms ("james", "jim", "jimmy").
// Immutable once built; lookups are thread-safe.
class NameAliases {
 public:
  // The table shipped with sluice (deduper/data/aliases.csv), built once.
  static const NameAliases& Default();
  // Adds the groups of `csv` (lines `language,name,alias;alias`, `#`
  // comments). Fails with InvalidArgument naming the line of a malformed one.
  Status Add(std::string_view csv, const std::string& origin);
  // Whether two folded names are in one group (false when equal).
  bool Same(std::string_view a, std::string_view b) const;
  size_t groups() const { return groups_; }

 private:
  std::unordered_map<std::string, std::vector<uint32_t>> group_of_;
  uint32_t groups_ = 0;
};

// Levels of the name comparator for two folded, non-empty, unequal texts
// (level 0, exact, is the caller's): 1 alias (one group of `aliases`), 2
// part (the shorter name's words all in the longer one, in order, alike at
// jw >= 0.9, or the longer one's leading particle: "delle" / "delle
// monache", "saez" / "saenz montenegro"), 3 .. 2 + T similarity (jw >=
// thresholds[k]), 3 + T crosswise (compared with the other record's `with`
// field, one side alike at thresholds[0], an alias or a part, the other at
// least at the last threshold or an initial: "canale, mafalda" / "mafalda,
// canlae", "rossi, m." / "mimmo, rossi"), 4 + T initial ("j"
// / "jean"), 5 + T else. `a_with`/`b_with` are empty when NULL or not given.
int NameLevel(std::string_view a, std::string_view b, std::string_view a_with,
              std::string_view b_with, const std::vector<double>& thresholds,
              const NameAliases& aliases);

// Levels of the identifier comparator for two unequal folded texts, compared
// on their digits (and letters): 1 "1 digit" (one substitution, insertion
// or deletion), 2 "transposed" (two adjacent characters swapped), 3 "2
// digits" (two edits, a swap and a substitution among them), then with a
// checksum ("luhn", "nir") 4 "different" when both pass it (two valid ids
// of different people), and last "else".
int IdentifierLevel(std::string_view a, std::string_view b, const std::string& checksum);

// Whether `id` passes the check: "luhn" (the last digit), "nir" (the French
// social-security number: 13 characters, Corsica's 2A/2B as 19/18, then the
// key 97 - n mod 97). Characters other than digits (and 2A/2B) fail.
bool PassesChecksum(std::string_view id, const std::string& checksum);

// A phone number's key: its national significant number without leading
// zeros, whatever form it was written in ("04 43 78 73 64", "+33 4 43 78
// 73 64" and "0033443787364" all give "443787364"). Numbers with a country
// code ('+' or "00") are parsed with libphonenumber; others, and what it
// cannot parse, by their digits alone. Empty only when `raw` has no digit:
// it never rejects anything.
std::string PhoneKey(std::string_view raw);

// The level labels of a name, identifier or phone comparison, in level
// order ("exact", "alias", "part", "jw>=0.92", "crosswise", "initial",
// "else"); empty for the other comparators.
std::vector<std::string> PersonLevelLabels(const DedupComparison& c);

// Sets crosswise_level of every `name` comparison with a `with` field, and
// crosswise_partner of the later one of two that name each other (first_name
// with: last_name and last_name with: first_name): a swap of the two names
// puts both at crosswise, one piece of evidence that Score counts once.
void PairCrosswise(std::vector<compare::Comparison>* comparisons);

}  // namespace sluice::compare
