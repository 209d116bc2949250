// Text transformations of one value, between reading a source column and
// casting to the model type: name/address/separator splits, regex extract,
// Unicode normalisation and match keys (ICU), phone numbers (libphonenumber)
// and e-mail addresses. Each step writes its result to `*out` and returns
// false with a reason when the value cannot be handled; the record is then
// rejected with that reason.
#pragma once

#include <unicode/uversion.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/core/status.h"

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;

U_NAMESPACE_BEGIN
class Transliterator;
class Normalizer2;
U_NAMESPACE_END

namespace sluice {

// "Dupont, Jean" (a comma: last name first) or "Jean Dupont" (the last word is
// the last name). One word is a last name with an empty first name.
struct PersonName {
  std::string_view first;
  std::string_view last;
};
PersonName SplitPersonName(std::string_view text);

// "12 rue de la Paix, 75002 Paris": the text after the last comma is
// "postcode city", the postcode being its first word, with a digit in it.
struct PostalAddress {
  std::string_view street;
  std::string_view postcode;
  std::string_view city;
};
// False when `text` has no comma or its last part does not start with a
// postcode.
bool SplitPostalAddress(std::string_view text, PostalAddress* out);

// The `index`-th piece of `text` cut at every `separator`, trimmed; empty
// when there are fewer pieces.
std::string_view SplitPiece(std::string_view text, std::string_view separator, size_t index);

// Lower-cases an e-mail address into `*out` and checks its syntax (see
// docs/transformations.md); false with `*reason` when it is malformed.
bool NormalizeEmail(std::string_view text, std::string* out, std::string* reason);

// A PCRE2 search returning one capture group. Not thread-safe (it owns its
// match data); build one per transformer.
class RegexExtractor {
 public:
  // `group` -1: 1 when the pattern has a capture group, else the whole match.
  // Fails for a bad pattern or a group the pattern does not have.
  static Result<std::unique_ptr<RegexExtractor>> Create(const std::string& pattern, int group);
  ~RegexExtractor();
  // The group's text in `text` (empty when the group took no part in the
  // match); false when the pattern does not match.
  bool Extract(std::string_view text, std::string_view* out) const;

 private:
  RegexExtractor() = default;
  pcre2_real_code_8* code_ = nullptr;
  pcre2_real_match_data_8* match_ = nullptr;
  int group_ = 0;
};

// Unicode normalisation (NFC or NFKC) and match keys through ICU. Not
// thread-safe (ICU transliterators keep state); one per transformer.
class UnicodeFolder {
 public:
  // `form` is "nfc", "nfkc" or "" (no normalisation); `match_key` also
  // builds the transliterator.
  static Result<std::unique_ptr<UnicodeFolder>> Create(const std::string& form, bool match_key);
  ~UnicodeFolder();
  // Normalises `text` into `*out`; false when `text` is not valid UTF-8.
  bool Normalize(std::string_view text, std::string* out) const;
  // Transliterated to Latin ASCII, case-folded, letters and digits with
  // single spaces, "ae"/"oe"/"ue" folded to "a"/"o"/"u": Müller, Muller and
  // MUELLER give "muller".
  bool MatchKey(std::string_view text, std::string* out) const;

 private:
  UnicodeFolder() = default;
  const icu::Normalizer2* normalizer_ = nullptr;  // owned by ICU
  std::unique_ptr<icu::Transliterator> transliterator_;
};

// Phone numbers to E.164 through libphonenumber. Thread-safe.
// What PhoneFormatter::Parse found.
enum class PhoneCheck {
  kValid,        // a valid number for its region: `*out` holds its E.164 form
  kPossible,     // parses with a possible length for its country, but is not a valid
                 // number of its region: `*out` holds its E.164 form, `*reason` says so
  kInvalid,      // parses, but is neither valid nor of a possible length (`*reason`)
  kUnparseable,  // is not a phone number at all (`*reason`)
};

class PhoneFormatter {
 public:
  // True when `region` is a region libphonenumber knows ("FR").
  static bool KnownRegion(const std::string& region);
  // Parses `text` with `region` for national numbers ("" when unknown: then
  // only "+<country code>..." numbers parse). Reasons: "not a phone number:
  // too short" (unparseable), "not a valid phone number (region FR)"
  // (parses, not valid).
  static PhoneCheck Parse(std::string_view text, const std::string& region, std::string* out,
                          std::string* reason);
  // Parse for valid numbers only: false with `*reason` otherwise.
  static bool ToE164(std::string_view text, const std::string& region, std::string* out,
                     std::string* reason) {
    return Parse(text, region, out, reason) == PhoneCheck::kValid;
  }
};

}  // namespace sluice
