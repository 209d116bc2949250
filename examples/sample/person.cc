#include "examples/sample/person.h"

#include <charconv>

namespace sluice::sample {

uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

SplitMix64 RngFor(uint64_t seed, Stream stream, uint64_t index) {
  return SplitMix64(Mix(Mix(seed ^ (static_cast<uint64_t>(stream) << 56)) + index));
}

namespace {

// ---------------------------------------------------------------------------
// Reference tables.

constexpr Name kFirstNames[] = {
    {"Marie", "marie"},     {"Jean", "jean"},         {"Pierre", "pierre"}, {"Sophie", "sophie"},
    {"Nicolas", "nicolas"}, {"Isabelle", "isabelle"}, {"Paul", "paul"},     {"Anne", "anne"},
    {"Luc", "luc"},         {"Claire", "claire"},     {"Thomas", "thomas"}, {"Julie", "julie"},
    {"Marc", "marc"},       {"Camille", "camille"},   {"Hugo", "hugo"},     {"Emma", "emma"},
    {"Louis", "louis"},     {"Manon", "manon"},       {"David", "david"},   {"Sarah", "sarah"},
    {"Alain", "alain"},     {"Laura", "laura"},       {"Yves", "yves"},     {"Alice", "alice"},
    {"Zoé", "zoe"},         {"Hélène", "helene"},     {"Léa", "lea"},       {"Chloé", "chloe"},
    {"Jérôme", "jerome"},   {"François", "francois"}, {"Inès", "ines"},     {"Éric", "eric"},
};

constexpr Name kLastNames[] = {
    {"Martin", "martin"}, {"Bernard", "bernard"}, {"Dubois", "dubois"}, {"Thomas", "thomas"},
    {"Robert", "robert"}, {"Richard", "richard"}, {"Petit", "petit"},   {"Durand", "durand"},
    {"Leroy", "leroy"},   {"Moreau", "moreau"},   {"Simon", "simon"},   {"Laurent", "laurent"},
    {"Michel", "michel"}, {"Garcia", "garcia"},   {"Roux", "roux"},     {"Morel", "morel"},
    {"Girard", "girard"}, {"Mercier", "mercier"}, {"Dupont", "dupont"}, {"Lambert", "lambert"},
    {"Bonnet", "bonnet"}, {"Blanc", "blanc"},     {"Faure", "faure"},   {"Henry", "henry"},
    {"Perrin", "perrin"}, {"Morin", "morin"},     {"Robin", "robin"},   {"Masson", "masson"},
    {"Nguyen", "nguyen"}, {"Meyer", "meyer"},     {"Lucas", "lucas"},   {"Roche", "roche"},
    {"Müller", "muller"}, {"Lefèvre", "lefevre"}, {"Guérin", "guerin"}, {"André", "andre"},
    {"Noël", "noel"},     {"Gérard", "gerard"},
};

constexpr City kCities[] = {
    {"Paris", 75001, 20},   {"Lyon", 69001, 9},   {"Marseille", 13001, 16},
    {"Toulouse", 31000, 1}, {"Nice", 6000, 1},    {"Nantes", 44000, 1},
    {"Lille", 59000, 1},    {"Rennes", 35000, 1}, {"Bordeaux", 33000, 1},
    {"Reims", 51100, 1},    {"Dijon", 21000, 1},  {"Angers", 49000, 1},
    {"Brest", 29200, 1},    {"Nîmes", 30000, 1},  {"Saint-Étienne", 42000, 1},
    {"Metz", 57000, 1},     {"Pau", 64000, 1},    {"Paris", 75001, 20},
};

constexpr const char* kStreets[] = {
    "rue de la Paix", "rue Pasteur",  "av. Foch",       "rue Nationale",
    "bd Voltaire",    "rue du Lac",   "pl. Bellecour",  "rue des Écoles",
    "quai Monge",     "rue Carnot",   "allée des Pins", "av. Jaurès",
    "rue Gambetta",   "cours Vitton", "rue du Port",    "rue Zola",
};

constexpr const char* kDomains[] = {"orange.fr", "free.fr", "sfr.fr",   "gmail.com",
                                    "aphp.fr",   "chu.fr",  "sante.fr", "yahoo.fr"};

// ---------------------------------------------------------------------------
// Calendar (H. Hinnant's civil-from-days algorithms; proleptic Gregorian).

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

struct Civil {
  int64_t year, month, day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  return {yoe + era * 400 + (month <= 2), month, day};
}

// national_id = "FR" + 11 digits of (p * kIdStride + offset) mod 10^11: a
// bijection on 11-digit numbers (the stride is coprime to 10), so distinct
// persons never share an id, with no lookup table.
constexpr uint64_t kIdSpace = 100000000000ULL;
constexpr uint64_t kIdStride = 61803398877ULL;  // about 10^11 / golden ratio; coprime to 10

template <typename T, size_t N>
const T* Pick(const T (&table)[N], SplitMix64& rng) {
  return &table[rng.Below(N)];
}

int64_t DrawRevenue(SplitMix64& rng) {
  const uint64_t band = rng.Below(100);
  if (band < 40) return rng.Between(100000, 999999);    // 1 000.00 - 9 999.99
  if (band < 90) return rng.Between(1000000, 9999999);  // 10 000.00 - 99 999.99
  return rng.Between(10000000, 99999999);               // 100 000.00 - 999 999.99
}

// 2023-01-01T00:00:00 .. 2025-06-30T23:59:59, in seconds.
int64_t DrawUpdatedAt(SplitMix64& rng) {
  return rng.Between(DaysFromCivil(2023, 1, 1) * 86400, DaysFromCivil(2025, 7, 1) * 86400 - 1);
}

void DrawPhone(SplitMix64& rng, Person* p) {
  p->phone_lead = static_cast<int>(rng.Between(1, 7));
  p->phone_rest = static_cast<uint32_t>(rng.Below(100000000));
}

void DrawAddress(SplitMix64& rng, Person* p) {
  p->street_number = static_cast<int>(rng.Between(1, 99));
  p->street = *Pick(kStreets, rng);
  p->street_comma = rng.Percent(15);
  p->residence = rng.Below(400) == 0;
  p->city = Pick(kCities, rng);
  p->postcode = p->city->postcode + static_cast<int>(rng.Below(p->city->districts));
}

}  // namespace

// ---------------------------------------------------------------------------
// Text building: plain appends, no streams or printf, for speed.

void AppendCsvField(std::string_view v, std::string* out) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char c : v) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

void AppendPadded(int64_t v, int width, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  for (int64_t pad = width - (end - buf); pad > 0; --pad) out->push_back('0');
  out->append(buf, end);
}

void AppendCents(int64_t cents, std::string* out) {
  AppendInt(cents / 100, out);
  out->push_back('.');
  AppendPadded(cents % 100, 2, out);
}

void AppendDayMonthYear(int64_t days, std::string* out) {
  const Civil c = CivilFromDays(days);
  AppendPadded(c.day, 2, out);
  out->push_back('/');
  AppendPadded(c.month, 2, out);
  out->push_back('/');
  AppendInt(c.year, out);
}

std::string IsoDate(int64_t days) {
  const Civil c = CivilFromDays(days);
  std::string s;
  AppendInt(c.year, &s);
  s.push_back('-');
  AppendPadded(c.month, 2, &s);
  s.push_back('-');
  AppendPadded(c.day, 2, &s);
  return s;
}

std::string IsoTimestamp(int64_t seconds) {
  std::string s = IsoDate(seconds / 86400);
  const int64_t t = seconds % 86400;
  s.push_back('T');
  AppendPadded(t / 3600, 2, &s);
  s.push_back(':');
  AppendPadded(t / 60 % 60, 2, &s);
  s.push_back(':');
  AppendPadded(t % 60, 2, &s);
  return s;
}

// ---------------------------------------------------------------------------
// Persons.

Person MakePerson(uint64_t seed, uint64_t index) {
  SplitMix64 rng = RngFor(seed, Stream::kPerson, index);
  Person p;
  p.national_id = static_cast<uint64_t>(
      (static_cast<unsigned __int128>(index) * kIdStride + Mix(seed) % kIdSpace) % kIdSpace);
  p.first = Pick(kFirstNames, rng);
  p.last = Pick(kLastNames, rng);
  p.specialty = static_cast<int>(rng.Below(std::size(kSpecialtyCodes)));
  p.account_type = static_cast<int>(rng.Below(std::size(kAccountTypes)));
  DrawAddress(rng, &p);
  DrawPhone(rng, &p);
  p.domain = *Pick(kDomains, rng);
  p.initial_email = rng.Percent(80);
  p.country_missing = rng.Percent(3);
  p.registered = rng.Between(DaysFromCivil(1985, 1, 1), DaysFromCivil(2024, 12, 31));
  p.revenue_cents = DrawRevenue(rng);
  p.updated_at = DrawUpdatedAt(rng);
  return p;
}

Person Retyped(Person p, SplitMix64& rng) {
  if (rng.Percent(50)) DrawPhone(rng, &p);
  if (rng.Percent(30)) DrawAddress(rng, &p);
  p.street_comma = !p.street_comma;
  p.domain = *Pick(kDomains, rng);
  p.initial_email = !p.initial_email;
  p.revenue_cents = DrawRevenue(rng);
  p.updated_at = DrawUpdatedAt(rng);
  p.country_missing = rng.Percent(2);
  return p;
}

std::string Street(const Person& p, bool comma) {
  std::string s = p.residence ? "Résidence \"Les Tilleuls\", " : "";
  AppendInt(p.street_number, &s);
  s += comma ? ", " : " ";
  s += p.street;
  return s;
}

void AppendEmail(const Person& p, std::string_view at, std::string* out) {
  if (p.initial_email) {
    out->push_back(p.first->ascii[0]);
  } else {
    out->append(p.first->ascii);
  }
  out->push_back('.');
  out->append(p.last->ascii);
  out->append(at);
  out->append(p.domain);
}

void AppendPhone(const Person& p, bool international, std::string* out) {
  out->append(international ? "+33 " : "0");
  AppendInt(p.phone_lead, out);
  for (int div = 1000000; div >= 1; div /= 100) {
    out->push_back(' ');
    AppendPadded(p.phone_rest / div % 100, 2, out);
  }
}

}  // namespace sluice::sample
