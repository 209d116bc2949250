#include "deduper/person_compare.h"

#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cstdio>

#include "common/plan/alias_lines.h"
#include "deduper/comparators.h"
#include "deduper/compare_pass.h"

namespace sluice::compare {

extern const std::string_view kDefaultAliases;  // aliases_data.cc (generated)

namespace {

// The particles of compound surnames: a name cut to one of them still
// names its family ("delle" for "delle monache").
constexpr std::string_view kParticles[] = {"de",  "van", "von", "der", "den", "delle", "della",
                                           "di",  "da",  "del", "la",  "le",  "lo",    "du",
                                           "des", "bin", "al",  "el",  "dos", "das",   "y"};

constexpr double kWordAlike = 0.9;  // jw of two words of a compound name taken as one

bool IsParticle(std::string_view w) {
  return std::find(std::begin(kParticles), std::end(kParticles), w) != std::end(kParticles);
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    const size_t j = std::min(s.find(' ', i), s.size());
    if (j > i) words.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return words;
}

// Whether every word of `shorter` matches a word of `longer`, in order.
bool InOrder(const std::vector<std::string_view>& shorter,
             const std::vector<std::string_view>& longer) {
  size_t k = 0;
  for (std::string_view w : shorter) {
    while (k < longer.size() && w != longer[k] &&
           similarity::JaroWinkler(w, longer[k]) < kWordAlike) {
      ++k;
    }
    if (k == longer.size()) return false;
    ++k;
  }
  return true;
}

// Part of a compound name: the name with fewer words is the other cut short
// or with words left out ("saez" / "saenz montenegro", "monache" / "delle
// monache"), or its leading particles ("delle" / "delle monache").
bool IsPart(std::string_view a, std::string_view b) {
  std::vector<std::string_view> x = Words(a), y = Words(b);
  if (x.size() == y.size() || x.empty() || y.empty()) return false;
  if (x.size() > y.size()) std::swap(x, y);
  std::vector<std::string_view> xs, ys;
  for (std::string_view w : x) {
    if (!IsParticle(w)) xs.push_back(w);
  }
  for (std::string_view w : y) {
    if (!IsParticle(w)) ys.push_back(w);
  }
  if (xs.empty()) return std::equal(x.begin(), x.end(), y.begin());  // cut to the particle
  return InOrder(xs, ys);
}

// "j" against "jean" (folding has made "J." a "j").
bool IsInitial(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  return a.size() == 1 && !b.empty() && b[0] == a[0];
}

std::string Alphanumerics(std::string_view s) {
  std::string out;
  for (char c : s) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) out += c;
  }
  return out;
}

bool AdjacentSwap(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  size_t first = a.size(), diffs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      if (first == a.size()) first = i;
      ++diffs;
    }
  }
  return diffs == 2 && first + 1 < a.size() && a[first] == b[first + 1] && a[first + 1] == b[first];
}

}  // namespace

Status NameAliases::Add(std::string_view csv, const std::string& origin) {
  std::string folded;
  return ForEachAliasGroup(csv, origin, [&](const std::vector<std::string_view>& names) {
    const uint32_t group = groups_++;
    for (std::string_view n : names) {
      folded.clear();
      similarity::FoldText(n, &folded);
      if (folded.empty()) continue;
      std::vector<uint32_t>& of = group_of_[folded];
      if (of.empty() || of.back() != group) of.push_back(group);
    }
  });
}

const NameAliases& NameAliases::Default() {
  static const NameAliases* table = [] {
    auto* t = new NameAliases;
    // The shipped table is checked by its test; a bad line cannot reach here.
    (void)t->Add(kDefaultAliases, "deduper/data/aliases.csv");
    return t;
  }();
  return *table;
}

bool NameAliases::Same(std::string_view a, std::string_view b) const {
  if (a == b) return false;
  const auto x = group_of_.find(std::string(a));
  if (x == group_of_.end()) return false;
  const auto y = group_of_.find(std::string(b));
  if (y == group_of_.end()) return false;
  for (uint32_t g : x->second) {
    if (std::find(y->second.begin(), y->second.end(), g) != y->second.end()) return true;
  }
  return false;
}

int NameLevel(std::string_view a, std::string_view b, std::string_view a_with,
              std::string_view b_with, const std::vector<double>& thresholds,
              const NameAliases& aliases) {
  const int t = static_cast<int>(thresholds.size());
  if (aliases.Same(a, b)) return 1;
  if (IsPart(a, b)) return 2;
  const double first = thresholds.empty() ? 0.92 : thresholds[0];
  const double jw = similarity::JaroWinkler(a, b);
  if (t > 0 && jw >= first) return 3;
  // Crosswise: one side of the swap as alike as the first threshold asks,
  // the other at least as alike as the lowest level the straight comparison
  // still counts (the last threshold, or an initial): "mimmo rossi" / "rossi
  // m.", "zavalri giulia" / "gulia zavalri".
  const double last = thresholds.empty() ? first : thresholds.back();
  auto alike = [&](std::string_view x, std::string_view y) {
    return x == y || aliases.Same(x, y) || IsPart(x, y) || similarity::JaroWinkler(x, y) >= first;
  };
  auto near = [&](std::string_view x, std::string_view y) {
    return IsInitial(x, y) || similarity::JaroWinkler(x, y) >= last;
  };
  if (!a_with.empty() && !b_with.empty()) {
    const bool x = alike(a, b_with), y = alike(a_with, b);
    if ((x && y) || (x && near(a_with, b)) || (y && near(a, b_with))) return 3 + t;
  }
  for (int k = 1; k < t; ++k) {
    if (jw >= thresholds[k]) return 3 + k;
  }
  if (IsInitial(a, b)) return 4 + t;
  return 5 + t;
}

bool PassesChecksum(std::string_view id, const std::string& checksum) {
  if (checksum == "luhn") {
    if (id.size() < 2) return false;
    int sum = 0;
    for (size_t i = 0; i < id.size(); ++i) {
      const char c = id[id.size() - 1 - i];
      if (c < '0' || c > '9') return false;
      int d = c - '0';
      if (i % 2 == 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    return sum % 10 == 0;
  }
  if (checksum == "nir") {
    if (id.size() != 15) return false;
    std::string digits(id);
    const char dept = digits[6] | 0x20;  // "2A" / "2B": Corsica, counted as 19 / 18
    if (dept == 'a' || dept == 'b') {
      if (digits[5] != '2') return false;
      digits[5] = '1';
      digits[6] = dept == 'a' ? '9' : '8';
    }
    uint64_t n = 0, key = 0;
    for (size_t i = 0; i < 15; ++i) {
      if (digits[i] < '0' || digits[i] > '9') return false;
      (i < 13 ? n : key) = (i < 13 ? n : key) * 10 + static_cast<uint64_t>(digits[i] - '0');
    }
    return key == 97 - n % 97;
  }
  return false;
}

int IdentifierLevel(std::string_view a, std::string_view b, const std::string& checksum) {
  const std::string x = Alphanumerics(a), y = Alphanumerics(b);
  const int last = checksum.empty() ? 4 : 5;
  if (x == y) return x.empty() ? last : 0;
  if (!checksum.empty() && PassesChecksum(x, checksum) && PassesChecksum(y, checksum)) return 4;
  if (AdjacentSwap(x, y)) return 2;
  const int d = similarity::DamerauLevenshtein(x, y);
  if (d == 1) return 1;
  if (d == 2) return 3;
  return last;
}

std::vector<std::string> PersonLevelLabels(const DedupComparison& c) {
  std::vector<std::string> labels;
  if (c.comparator == "name") {
    labels = {"exact", "alias", "part"};
    for (double t : c.thresholds) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "jw>=%g", t);
      labels.push_back(buf);
    }
    labels.insert(labels.end(), {"crosswise", "initial", "else"});
  } else if (c.comparator == "identifier") {
    labels = {"exact", "1 digit", "transposed", "2 digits"};
    if (!c.checksum.empty()) labels.push_back("different " + c.checksum);
    labels.push_back("else");
  } else if (c.comparator == "phone") {
    labels = {"same number", "else"};
  }
  return labels;
}

std::string PhoneKey(std::string_view raw) {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  std::string digits;
  bool plus = false;
  for (char c : raw) {
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c == '+' && digits.empty()) {
      plus = true;
    }
  }
  if (digits.empty()) return digits;
  std::string nsn = digits;
  if (plus || (digits.size() > 4 && digits.compare(0, 2, "00") == 0)) {
    const std::string international = plus ? digits : digits.substr(2);
    const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
    PhoneNumber number;
    if (util->Parse("+" + international, "ZZ", &number) == PhoneNumberUtil::NO_PARSING_ERROR) {
      nsn.clear();  // GetNationalSignificantNumber appends
      util->GetNationalSignificantNumber(number, &nsn);
    } else {
      nsn = international;
    }
  }
  const size_t lead = nsn.find_first_not_of('0');
  return lead == std::string::npos ? digits : nsn.substr(lead);
}

void PairCrosswise(std::vector<Comparison>* comparisons) {
  std::vector<Comparison>& cmps = *comparisons;
  for (size_t c = 0; c < cmps.size(); ++c) {
    if (cmps[c].spec->comparator != "name" || cmps[c].with_column == SIZE_MAX) continue;
    cmps[c].crosswise_level = 3 + static_cast<int>(cmps[c].spec->thresholds.size());
    for (size_t d = 0; d < c; ++d) {
      if (cmps[d].crosswise_level >= 0 && cmps[d].column == cmps[c].with_column &&
          cmps[d].with_column == cmps[c].column) {
        cmps[c].crosswise_partner = static_cast<int>(d);
        break;
      }
    }
  }
}

}  // namespace sluice::compare
