// The synthetic healthcare professional behind sluice-sample's files, and the
// ways the legacy systems write one down. Pure functions: a seed and an index
// always give the same person and the same text, on every machine (own PRNG,
// integer arithmetic only, no locale).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::sample {

// The splitmix64 finalizer (Steele, Lea, Flood 2014).
uint64_t Mix(uint64_t z);

// splitmix64: tiny, fast and fully specified, so the files depend neither on
// the standard library's engines nor on its distributions (whose output
// differs between implementations).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t state) : state_(state) {}
  uint64_t Next() { return Mix(state_ += 0x9E3779B97F4A7C15ULL); }
  // Uniform in [0, n) by multiply-shift; its bias (about n / 2^64) does not matter here.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Below(hi - lo + 1)); }
  // True with probability p / 100.
  bool Percent(uint64_t p) { return Below(100) < p; }

 private:
  uint64_t state_;
};

// Independent streams, so that a person's data never depends on how many
// draws other rows made, and each system's view of a person derives from the
// person alone.
enum class Stream : uint64_t { kPerson = 1, kCrmAgain, kErp, kErpAgain, kRoles };

// The generator of item `index` of `stream` under `seed`.
SplitMix64 RngFor(uint64_t seed, Stream stream, uint64_t index);

struct Name {
  const char* text;   // as printed, UTF-8
  const char* ascii;  // lower-case, for e-mail addresses
};

struct City {
  const char* name;
  int postcode;   // the first district's
  int districts;  // postcodes postcode .. postcode + districts - 1
};

// The CRM's local specialty codes; the ERP stores the index + 1.
inline constexpr const char* kSpecialtyCodes[] = {"CARD", "GP",   "DERM", "ONC",
                                                  "PED",  "NEUR", "PSY",  "RAD"};
inline constexpr const char* kAccountTypes[] = {"HOSPITAL", "PRIVATE", "CLINIC"};

struct Person {
  uint64_t national_id = 0;  // 11 digits; "FR" in front when written
  const Name* first = nullptr;
  const Name* last = nullptr;
  int specialty = 0;     // index into kSpecialtyCodes
  int account_type = 0;  // index into kAccountTypes
  int street_number = 0;
  const char* street = nullptr;
  bool street_comma = false;  // "12, rue de la Paix" (quoted in CSV) vs "12 rue de la Paix"
  bool residence = false;     // prefixed by `Résidence "Les Tilleuls", ` (quotes in a field)
  const City* city = nullptr;
  int postcode = 0;
  int phone_lead = 1;       // 1-5 landline, 6-7 mobile
  uint32_t phone_rest = 0;  // 8 digits
  const char* domain = nullptr;
  bool initial_email = false;  // "j.martin@" rather than "jean.martin@"
  bool country_missing = false;
  int64_t registered = 0;     // days since 1970-01-01, 1985..2024
  int64_t revenue_cents = 0;  // 1000.00 .. 999999.99
  int64_t updated_at = 0;     // seconds since 1970-01-01, 2023-01-01 .. 2025-06-30
};

// Person number `index` (0, 1, ...). Distinct indexes have distinct national ids.
Person MakePerson(uint64_t seed, uint64_t index);

// The same person typed in again (another CRM rep, another system): the
// identity stays, contact details and figures drift.
Person Retyped(Person p, SplitMix64& rng);

// "12 rue de la Paix", or "12, rue de la Paix" when `comma`.
std::string Street(const Person& p, bool comma);
// "jean.martin" or "j.martin", then `at`, then the domain.
void AppendEmail(const Person& p, std::string_view at, std::string* out);
// "+33 1 23 45 67 89" when `international`, else "01 23 45 67 89".
void AppendPhone(const Person& p, bool international, std::string* out);

// A CSV field, quoted (RFC 4180) only when it has to be.
void AppendCsvField(std::string_view v, std::string* out);
void AppendInt(int64_t v, std::string* out);
// `v` >= 0 with leading zeros up to `width` digits.
void AppendPadded(int64_t v, int width, std::string* out);
// 1234567 -> "12345.67" (`cents` >= 0).
void AppendCents(int64_t cents, std::string* out);
// Days since 1970-01-01 as "DD/MM/YYYY".
void AppendDayMonthYear(int64_t days, std::string* out);
// Days since 1970-01-01 as "YYYY-MM-DD".
std::string IsoDate(int64_t days);
// Seconds since 1970-01-01 as "YYYY-MM-DDTHH:MM:SS".
std::string IsoTimestamp(int64_t seconds);

}  // namespace sluice::sample
