#include "transformer/text_steps.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/unistr.h>

#include "transformer/field_cast.h"

namespace sluice {
namespace {

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Blank = space or tab: the characters TrimBlanks strips.
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// A valid UTF-8 check through ICU's conversion would hide errors as U+FFFD.
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    unsigned char c = p[i];
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

PersonName SplitPersonName(std::string_view text) {
  text = TrimBlanks(text);
  PersonName n;
  if (size_t comma = text.find(','); comma != std::string_view::npos) {
    n.last = TrimBlanks(text.substr(0, comma));
    n.first = TrimBlanks(text.substr(comma + 1));
    return n;
  }
  size_t end = text.size();
  size_t space = end;
  while (space > 0 && !IsBlank(text[space - 1])) --space;
  n.last = text.substr(space);
  n.first = TrimBlanks(text.substr(0, space));
  return n;
}

bool SplitPostalAddress(std::string_view text, PostalAddress* out) {
  text = TrimBlanks(text);
  size_t comma = text.rfind(',');
  if (comma == std::string_view::npos) return false;
  std::string_view street = TrimBlanks(text.substr(0, comma));
  std::string_view rest = TrimBlanks(text.substr(comma + 1));
  size_t space = 0;
  while (space < rest.size() && !IsBlank(rest[space])) ++space;
  std::string_view postcode = rest.substr(0, space);
  bool digit = false;
  for (char c : postcode) digit = digit || IsDigit(c);
  if (street.empty() || !digit) return false;
  out->street = street;
  out->postcode = postcode;
  out->city = TrimBlanks(rest.substr(space));
  return true;
}

std::string_view SplitPiece(std::string_view text, std::string_view separator, size_t index) {
  if (separator.empty()) return index == 0 ? TrimBlanks(text) : std::string_view();
  size_t begin = 0;
  for (size_t i = 0; i < index; ++i) {
    size_t at = text.find(separator, begin);
    if (at == std::string_view::npos) return {};
    begin = at + separator.size();
  }
  size_t end = text.find(separator, begin);
  if (end == std::string_view::npos) end = text.size();
  return TrimBlanks(text.substr(begin, end - begin));
}

bool NormalizeEmail(std::string_view text, std::string* out, std::string* reason) {
  out->assign(text.data(), text.size());
  for (char& c : *out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  const std::string& s = *out;
  size_t at = s.find('@');
  if (at == std::string::npos || s.find('@', at + 1) != std::string::npos) {
    *reason = "not an e-mail address: needs exactly one '@'";
    return false;
  }
  std::string_view local(s.data(), at), domain(s.data() + at + 1, s.size() - at - 1);
  constexpr std::string_view kLocalSpecials = "!#$%&'*+/=?^_`{|}~.-";
  if (local.empty() || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    *reason = "not an e-mail address: empty local part or misplaced '.'";
    return false;
  }
  for (char c : local) {
    if (!IsAlnum(c) && kLocalSpecials.find(c) == std::string_view::npos) {
      *reason = std::string("not an e-mail address: character '") + c + "' in the local part";
      return false;
    }
  }
  size_t labels = 0, begin = 0;
  while (begin <= domain.size()) {
    size_t dot = domain.find('.', begin);
    if (dot == std::string_view::npos) dot = domain.size();
    std::string_view label = domain.substr(begin, dot - begin);
    bool ok = !label.empty() && label.front() != '-' && label.back() != '-';
    for (char c : label) ok = ok && (IsAlnum(c) || c == '-');
    if (!ok) {
      *reason = "not an e-mail address: bad domain '" + std::string(domain) + "'";
      return false;
    }
    ++labels;
    begin = dot + 1;
  }
  if (labels < 2) {
    *reason = "not an e-mail address: the domain '" + std::string(domain) + "' has no '.'";
    return false;
  }
  return true;
}

// RegexExtractor.

Result<std::unique_ptr<RegexExtractor>> RegexExtractor::Create(const std::string& pattern,
                                                               int group) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  std::unique_ptr<RegexExtractor> x(new RegexExtractor());
  x->code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF,
                           &error, &offset, nullptr);
  if (x->code_ == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    return Status::InvalidArgument("bad regex '" + pattern +
                                   "': " + reinterpret_cast<const char*>(message) + " at offset " +
                                   std::to_string(offset));
  }
  uint32_t groups = 0;
  pcre2_pattern_info(x->code_, PCRE2_INFO_CAPTURECOUNT, &groups);
  x->group_ = group >= 0 ? group : (groups > 0 ? 1 : 0);
  if (static_cast<uint32_t>(x->group_) > groups) {
    return Status::InvalidArgument("regex '" + pattern + "' has no group " +
                                   std::to_string(x->group_));
  }
  pcre2_jit_compile(x->code_, PCRE2_JIT_COMPLETE);  // best effort
  x->match_ = pcre2_match_data_create_from_pattern(x->code_, nullptr);
  return x;
}

RegexExtractor::~RegexExtractor() {
  pcre2_match_data_free(match_);
  pcre2_code_free(code_);
}

bool RegexExtractor::Extract(std::string_view text, std::string_view* out) const {
  int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, 0, match_,
                       nullptr);
  if (rc <= 0) return false;  // no match, or a match error
  PCRE2_SIZE* ov = pcre2_get_ovector_pointer(match_);
  if (rc <= group_ || ov[2 * group_] == PCRE2_UNSET) {
    *out = {};  // an optional group that took no part: an empty value
    return true;
  }
  *out = text.substr(ov[2 * group_], ov[2 * group_ + 1] - ov[2 * group_]);
  return true;
}

// UnicodeFolder.

Result<std::unique_ptr<UnicodeFolder>> UnicodeFolder::Create(const std::string& form,
                                                             bool match_key) {
  std::unique_ptr<UnicodeFolder> f(new UnicodeFolder());
  UErrorCode st = U_ZERO_ERROR;
  if (form == "nfc") {
    f->normalizer_ = icu::Normalizer2::getNFCInstance(st);
  } else if (form == "nfkc") {
    f->normalizer_ = icu::Normalizer2::getNFKCInstance(st);
  } else if (!form.empty()) {
    return Status::InvalidArgument("unknown normalisation '" + form + "' (nfc or nfkc)");
  }
  if (U_FAILURE(st)) return Status::Internal(std::string("icu: ") + u_errorName(st));
  if (match_key) {
    // Any-Latin first so that Cyrillic or Greek names get a Latin key too.
    f->transliterator_.reset(
        icu::Transliterator::createInstance("Any-Latin; Latin-ASCII; Lower", UTRANS_FORWARD, st));
    if (U_FAILURE(st) || !f->transliterator_) {
      return Status::Internal(std::string("icu transliterator: ") + u_errorName(st));
    }
  }
  return f;
}

UnicodeFolder::~UnicodeFolder() = default;

bool UnicodeFolder::Normalize(std::string_view text, std::string* out) const {
  out->clear();
  if (normalizer_ == nullptr || IsAscii(text)) {  // ASCII is in every normal form
    out->assign(text.data(), text.size());
    return true;
  }
  if (!ValidUtf8(text)) return false;
  UErrorCode st = U_ZERO_ERROR;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), text.size()));
  icu::UnicodeString n = normalizer_->normalize(u, st);
  if (U_FAILURE(st)) return false;
  n.toUTF8String(*out);
  return true;
}

bool UnicodeFolder::MatchKey(std::string_view text, std::string* out) const {
  std::string ascii;
  if (IsAscii(text)) {
    ascii.assign(text.data(), text.size());
  } else {
    if (!ValidUtf8(text) || !transliterator_) return false;
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), text.size()));
    transliterator_->transliterate(u);
    u.toUTF8String(ascii);
  }
  // Letters and digits, lower case, words separated by one space.
  std::string folded;
  folded.reserve(ascii.size());
  for (char c : ascii) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (IsAlnum(c)) {
      folded += c;
    } else if (!folded.empty() && folded.back() != ' ') {
      folded += ' ';
    }
  }
  if (!folded.empty() && folded.back() == ' ') folded.pop_back();
  // German digraphs: "ue" is how ASCII spells "ü", which transliteration
  // turned into "u", so both spellings meet at the single vowel.
  out->clear();
  out->reserve(folded.size());
  for (size_t i = 0; i < folded.size(); ++i) {
    char c = folded[i];
    out->push_back(c);
    if ((c == 'a' || c == 'o' || c == 'u') && i + 1 < folded.size() && folded[i + 1] == 'e') ++i;
  }
  return true;
}

// PhoneFormatter.

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

bool PhoneFormatter::KnownRegion(const std::string& region) {
  return PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(region) != 0;
}

PhoneCheck PhoneFormatter::Parse(std::string_view text, const std::string& region, std::string* out,
                                 std::string* reason) {
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  const std::string in(text);
  const std::string r = region.empty() ? "ZZ" : region;
  PhoneNumberUtil::ErrorType err = util->Parse(in, r, &number);
  if (err != PhoneNumberUtil::NO_PARSING_ERROR) {
    switch (err) {
      case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
        *reason = region.empty() ? "not a phone number: no country code and no region"
                                 : "not a phone number: invalid country code";
        break;
      case PhoneNumberUtil::TOO_SHORT_NSN:
      case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
        *reason = "not a phone number: too short";
        break;
      case PhoneNumberUtil::TOO_LONG_NSN:
        *reason = "not a phone number: too long";
        break;
      default:
        *reason = "not a phone number";
    }
    return PhoneCheck::kUnparseable;
  }
  if (!util->IsValidNumber(number)) {
    *reason =
        "not a valid phone number" + (region.empty() ? std::string() : " (region " + region + ")");
    if (!util->IsPossibleNumber(number)) return PhoneCheck::kInvalid;
    util->Format(number, PhoneNumberUtil::E164, out);
    return PhoneCheck::kPossible;
  }
  util->Format(number, PhoneNumberUtil::E164, out);
  return PhoneCheck::kValid;
}

}  // namespace sluice
