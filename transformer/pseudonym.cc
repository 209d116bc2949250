#include "transformer/pseudonym.h"

#include <date/date.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <phonenumbers/phonenumberutil.h>

#include <cctype>
#include <cstdio>

namespace sluice {
namespace {

// Given names and surnames of several countries, 128 in all: a name word
// becomes one of these.
constexpr std::string_view kNames[128] = {
    "Adler", "Alba",  "Alder", "Amaro", "Anka",   "Arden", "Aris",  "Arlo",   "Asta",  "Aubry",
    "Ayla",  "Bauer", "Bela",  "Berg",  "Bianca", "Blom",  "Boris", "Brandt", "Brio",  "Calder",
    "Carmo", "Cato",  "Cleo",  "Corin", "Dahl",   "Dario", "Delon", "Doria",  "Edda",  "Elio",
    "Elke",  "Emre",  "Enzo",  "Esme",  "Falk",   "Faro",  "Fenna", "Ferro",  "Flint", "Frey",
    "Gala",  "Garde", "Gido",  "Greta", "Hale",   "Hanna", "Helmi", "Hugo",   "Ilse",  "Imre",
    "Ines",  "Ivo",   "Jana",  "Jarl",  "Joss",   "Juno",  "Kai",   "Kara",   "Keld",  "Kira",
    "Lars",  "Lena",  "Leroy", "Lior",  "Lotte",  "Luca",  "Mads",  "Mara",   "Merel", "Milo",
    "Mira",  "Nadia", "Nero",  "Nika",  "Noah",   "Nora",  "Odin",  "Olga",   "Orla",  "Otto",
    "Paz",   "Pia",   "Quinn", "Rafa",  "Rhea",   "Rolf",  "Rosa",  "Runa",   "Saga",  "Sami",
    "Selma", "Soren", "Tala",  "Tarek", "Tess",   "Timo",  "Tove",  "Ugo",    "Ulla",  "Vada",
    "Vera",  "Vito",  "Wren",  "Xavi",  "Yara",   "Yves",  "Zara",  "Zeno",   "Abel",  "Berit",
    "Ciro",  "Dagny", "Eero",  "Fiora", "Gorm",   "Hedda", "Ilan",  "Jorun",  "Klaas", "Liv",
    "Maren", "Nils",  "Oona",  "Pavel", "Rune",   "Sten",  "Teo",   "Una"};

bool NameLetter(unsigned char c) { return std::isalpha(c) || c >= 0x80; }

// The word as `style` writes words: all upper, all lower, or capitalised.
std::string Styled(std::string_view name, std::string_view style) {
  bool upper = false, lower = false;
  for (unsigned char c : style) {
    upper |= std::isupper(c) != 0;
    lower |= std::islower(c) != 0;
  }
  std::string out(name);
  for (size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (upper && !lower) out[i] = static_cast<char>(std::toupper(c));
    if (lower && !upper) out[i] = static_cast<char>(std::tolower(c));
  }
  return out;
}

// A stream of pseudo-random digits or letters from a MAC, extended by
// re-keying with a counter when a long value needs more than 32 bytes.
class MacStream {
 public:
  MacStream(const Pseudonymiser& p, std::string_view domain, std::string_view value)
      : p_(p), domain_(domain), value_(value), mac_(p.Mac(domain, value)) {}
  uint8_t Next() {
    if (used_ == mac_.size()) {
      mac_ = p_.Mac(domain_ + "+" + std::to_string(++round_), value_);
      used_ = 0;
    }
    return mac_[used_++];
  }

 private:
  const Pseudonymiser& p_;
  std::string domain_;
  std::string value_;
  std::array<uint8_t, 32> mac_;
  size_t used_ = 0;
  int round_ = 0;
};

// Digits replaced by digits and ASCII letters by letters of the same case,
// from `from` on; the rest kept.
std::string SamePattern(MacStream& stream, std::string_view value, size_t from = 0) {
  std::string out(value);
  for (size_t i = from; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (std::isdigit(c)) {
      out[i] = static_cast<char>('0' + stream.Next() % 10);
    } else if (std::isupper(c)) {
      out[i] = static_cast<char>('A' + stream.Next() % 26);
    } else if (std::islower(c)) {
      out[i] = static_cast<char>('a' + stream.Next() % 26);
    }
  }
  return out;
}

}  // namespace

Result<Pseudonymiser> Pseudonymiser::Create(std::string key) {
  if (key.size() < 16) {
    return Status::InvalidArgument("the pseudonymisation key must be at least 16 bytes, got " +
                                   std::to_string(key.size()));
  }
  return Pseudonymiser(std::move(key));
}

std::array<uint8_t, 32> Pseudonymiser::Mac(std::string_view domain, std::string_view value) const {
  std::string message(domain);
  message.push_back('\0');
  message.append(value);
  std::array<uint8_t, 32> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &len);
  return mac;
}

std::string Pseudonymiser::Name(std::string_view value) const {
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    if (!NameLetter(static_cast<unsigned char>(value[i]))) {
      out.push_back(value[i++]);
      continue;
    }
    size_t end = i;
    while (end < value.size() && NameLetter(static_cast<unsigned char>(value[end]))) ++end;
    const std::string_view word = value.substr(i, end - i);
    // Case-folded, so "MARTIN" and "Martin" are the same person's name.
    std::string folded(word);
    for (char& c : folded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto mac = Mac("name", folded);
    out += Styled(kNames[mac[0] % 128], word);
    i = end;
  }
  return out;
}

std::string Pseudonymiser::Email(std::string_view value) const {
  std::string folded(value);
  for (char& c : folded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto mac = Mac("email", folded);
  std::string out;
  char hex[3];
  for (size_t i = 0; i < 8; ++i) {
    std::snprintf(hex, sizeof(hex), "%02x", mac[i]);
    out += hex;
  }
  return out + "@example.invalid";
}

std::string Pseudonymiser::Phone(std::string_view value) const {
  MacStream stream(*this, "phone", value);
  size_t keep = 0;  // characters kept: "+" and the country code
  if (!value.empty() && value[0] == '+') {
    using i18n::phonenumbers::PhoneNumber;
    using i18n::phonenumbers::PhoneNumberUtil;
    PhoneNumber number;
    if (PhoneNumberUtil::GetInstance()->Parse(std::string(value), "ZZ", &number) ==
        PhoneNumberUtil::NO_PARSING_ERROR) {
      keep = 1 + std::to_string(number.country_code()).size();
    } else {
      keep = 1;
    }
  }
  return SamePattern(stream, value, keep);
}

std::string Pseudonymiser::Identifier(std::string_view value) const {
  MacStream stream(*this, "id", value);
  return SamePattern(stream, value);
}

std::string Pseudonymiser::Date(std::string_view value, std::string_view offset_key) const {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (value.size() != 10 ||
      std::sscanf(std::string(value).c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) {
    return std::string(value);
  }
  const date::year_month_day ymd{date::year{y}, date::month{m}, date::day{d}};
  if (!ymd.ok()) return std::string(value);
  const auto mac = Mac("date", offset_key);
  const int offset = static_cast<int>((mac[0] | (mac[1] << 8)) % 361) - 180;  // -180..180
  const date::sys_days first{date::year{y} / 1 / 1};
  const int days_in_year = date::year{y}.is_leap() ? 366 : 365;
  const int day_of_year = (date::sys_days{ymd} - first).count();
  const int moved = ((day_of_year + offset) % days_in_year + days_in_year) % days_in_year;
  const date::year_month_day out{first + date::days{moved}};
  char text[32];  // room for any int year, so the compiler sees no truncation
  std::snprintf(text, sizeof(text), "%04d-%02u-%02u", static_cast<int>(out.year()),
                static_cast<unsigned>(out.month()), static_cast<unsigned>(out.day()));
  return text;
}

}  // namespace sluice
