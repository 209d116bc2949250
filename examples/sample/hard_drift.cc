// The hard profile of the consolidation sample (consolidation_rows.h): the
// drift behind issue 21's bench/dedup_hard.
#include <iterator>

#include "examples/sample/consolidation_rows.h"

namespace sluice::sample::consolidation {
namespace {

constexpr uint64_t kHardPersonStream = 42, kNamesakeStream = 43;

struct Given {
  const char* name;
  const char* nickname;  // "" for none
};

// One country's people: given names (with a short form people use), family
// names, the particles of its compound surnames, and its phone numbering.
struct Country {
  const char* code;   // country calling code
  const char* trunk;  // national prefix written before the NSN ("0"), or ""
  const Given* given;
  size_t given_count;
  const char* const* family;
  size_t family_count;
  const char* const* particles;  // "delle", "de": a surname cut to its particle
  size_t particle_count;
  bool double_surname;           // Spanish: two family names, always
  const char* const* nsn_leads;  // the first digits of a national significant number
  size_t lead_count;
  int nsn_length;
};

constexpr Given kFrGiven[] = {
    {"Jean", ""},           {"Marie", ""},           {"Pierre", ""},         {"Nicolas", "Nico"},
    {"Frédéric", "Fred"},   {"Christophe", "Chris"}, {"Alexandre", "Alex"},  {"Isabelle", "Isa"},
    {"Catherine", "Cathy"}, {"Élisabeth", "Babeth"}, {"Dominique", ""},      {"Sophie", ""},
    {"Thomas", "Tom"},      {"Philippe", "Phil"},    {"Véronique", "Véro"},  {"Stéphane", ""},
    {"Sébastien", "Seb"},   {"Camille", ""},         {"Mathilde", "Mathou"}, {"Laurent", ""},
    {"Benoît", "Ben"},      {"Gaëlle", ""},          {"Jérôme", "Jé"},       {"Hélène", ""}};
constexpr const char* kFrFamily[] = {"Martin",   "Bernard",   "Dubois",   "Durand", "Leroy",
                                     "Moreau",   "Lefèvre",   "Garnier",  "Faure",  "Rousseau",
                                     "Blanc",    "Guérin",    "Muller",   "Henry",  "Roussel",
                                     "Fontaine", "Chevalier", "Gauthier", "Perrin", "Morel"};
constexpr const char* kFrParticles[] = {"de", "de la", "le", "du", "saint"};

constexpr Given kItGiven[] = {
    {"Giuseppe", "Peppe"},    {"Giovanni", "Gianni"}, {"Francesco", "Franco"},
    {"Alessandro", "Sandro"}, {"Antonio", "Tonino"},  {"Salvatore", "Totò"},
    {"Caterina", "Rina"},     {"Domenico", "Mimmo"},  {"Vincenzo", "Enzo"},
    {"Mafalda", ""},          {"Giulia", ""},         {"Chiara", ""},
    {"Federica", "Fede"},     {"Roberto", "Berto"},   {"Beatrice", "Bice"},
    {"Luigi", "Gigi"}};
constexpr const char* kItFamily[] = {"Rossi",  "Russo",    "Ferrari", "Esposito", "Bianchi",
                                     "Romano", "Colombo",  "Ricci",   "Marino",   "Greco",
                                     "Canale", "Bruno",    "Gallo",   "Conti",    "Monache",
                                     "Costa",  "Giordano", "Mancini", "Lombardi", "Moretti"};
constexpr const char* kItParticles[] = {"delle", "de", "di", "dalla", "lo", "la", "del"};

constexpr Given kEsGiven[] = {
    {"José", "Pepe"},      {"Francisco", "Paco"},    {"Manuel", "Manolo"},
    {"Dolores", "Lola"},   {"Concepción", "Concha"}, {"Ignacio", "Nacho"},
    {"Enrique", "Quique"}, {"Rosario", "Charo"},     {"Guadalupe", "Lupe"},
    {"María", ""},         {"Carmen", "Menchu"},     {"Javier", "Javi"},
    {"Lucía", ""},         {"Pilar", "Pili"},        {"Jesús", "Chus"},
    {"Mercedes", "Merche"}};
constexpr const char* kEsFamily[] = {"García",     "López",  "Martínez", "Fernández", "Sáenz",
                                     "Montenegro", "Ortega", "Molina",   "Castro",    "Vidal",
                                     "Peña",       "Ruiz",   "Iglesias", "Navarro",   "Serrano",
                                     "Blanco",     "Sáez",   "Delgado",  "Morales",   "Herrera"};

constexpr Given kPlGiven[] = {{"Katarzyna", "Kasia"},    {"Małgorzata", "Gosia"},
                              {"Aleksandra", "Ola"},     {"Agnieszka", "Aga"},
                              {"Wojciech", "Wojtek"},    {"Stanisław", "Staszek"},
                              {"Krzysztof", "Krzysiek"}, {"Tomasz", "Tomek"},
                              {"Piotr", "Piotrek"},      {"Magdalena", "Magda"},
                              {"Barbara", "Basia"},      {"Joanna", "Asia"},
                              {"Zofia", "Zosia"},        {"Andrzej", "Jędrek"},
                              {"Anna", "Ania"},          {"Ewa", ""}};
constexpr const char* kPlFamily[] = {"Nowak",     "Kowalski", "Wiśniewski",  "Wójcik",
                                     "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
                                     "Szymański", "Woźniak",  "Dąbrowski",   "Kozłowski",
                                     "Jankowski", "Mazur",    "Kwiatkowski"};

constexpr Given kGbGiven[] = {
    {"James", "Jim"},         {"William", "Bill"},   {"Robert", "Bob"},    {"Patricia", "Pat"},
    {"Elizabeth", "Liz"},     {"Margaret", "Peggy"}, {"Richard", "Rick"},  {"Katherine", "Kate"},
    {"Michael", "Mike"},      {"Thomas", "Tom"},     {"Joseph", "Joe"},    {"Daniel", "Dan"},
    {"Christopher", "Chris"}, {"Anthony", "Tony"},   {"Susan", "Sue"},     {"Jennifer", "Jenny"},
    {"Edward", "Ted"},        {"Alexander", "Alex"}, {"Rebecca", "Becky"}, {"Sarah", ""}};
constexpr const char* kGbFamily[] = {"Smith",  "Jones",  "Williams", "Brown",    "Taylor",
                                     "Davies", "Evans",  "Wilson",   "Johnson",  "Roberts",
                                     "Walker", "Wright", "Robinson", "Thompson", "Hughes",
                                     "Carter", "Webber", "Green",    "Hall",     "Wood"};
constexpr const char* kGbParticles[] = {"van", "van der", "von", "de"};

constexpr const char* kFrLeads[] = {"1", "2", "3", "4", "5", "6", "7"};
constexpr const char* kItLeads[] = {"06", "02", "011", "3"};
constexpr const char* kEsLeads[] = {"91", "93", "6", "7"};
constexpr const char* kPlLeads[] = {"22", "12", "5", "6", "7"};
constexpr const char* kGbLeads[] = {"20", "161", "7"};

#define SLUICE_TABLE(t) t, std::size(t)
// Shares: France 60%, the others 10% each.
const Country kCountries[] = {{"33", "0", SLUICE_TABLE(kFrGiven), SLUICE_TABLE(kFrFamily),
                               SLUICE_TABLE(kFrParticles), false, SLUICE_TABLE(kFrLeads), 9},
                              {"39", "", SLUICE_TABLE(kItGiven), SLUICE_TABLE(kItFamily),
                               SLUICE_TABLE(kItParticles), false, SLUICE_TABLE(kItLeads), 10},
                              {"34", "", SLUICE_TABLE(kEsGiven), SLUICE_TABLE(kEsFamily), nullptr,
                               0, true, SLUICE_TABLE(kEsLeads), 9},
                              {"48", "", SLUICE_TABLE(kPlGiven), SLUICE_TABLE(kPlFamily), nullptr,
                               0, false, SLUICE_TABLE(kPlLeads), 9},
                              {"44", "0", SLUICE_TABLE(kGbGiven), SLUICE_TABLE(kGbFamily),
                               SLUICE_TABLE(kGbParticles), false, SLUICE_TABLE(kGbLeads), 10}};
#undef SLUICE_TABLE

constexpr const char* kSyllables[] = {
    "mar", "tin",  "ber", "nard",  "du",  "bois", "mo",  "reau", "la",  "fon", "ta",  "ine",
    "ro",  "bert", "ri",  "chard", "pe",  "tit",  "gar", "nier", "fa",  "ure", "mer", "cier",
    "val", "lé",   "gué", "rin",   "bou", "cher", "vi",  "gne",  "bru", "net", "cam", "pi",
    "kow", "al",   "ski", "gon",   "za",  "lez",  "fer", "nán",  "dez", "sil", "va",  "cos"};
constexpr const char* kDomains[] = {"orange.fr", "gmail.com", "aphp.fr",       "libero.it",
                                    "wp.pl",     "nhs.net",   "telefonica.es", "yahoo.com"};
constexpr const char* kSpecialties[] = {"cardiology", "general_practice", "oncology",
                                        "pediatrics", "dermatology",      "neurology",
                                        "psychiatry", "radiology"};

template <typename T>
T PickFrom(const T* table, size_t n, SplitMix64& rng) {
  return table[rng.Below(n)];
}

std::string Capitalized(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

// A family name: a common one of the country (a third of people), else
// built from syllables (rare ones).
std::string FamilyName(const Country& c, SplitMix64& rng) {
  if (rng.Percent(35)) return PickFrom(c.family, c.family_count, rng);
  std::string s;
  const int parts = 2 + static_cast<int>(rng.Below(2));
  for (int i = 0; i < parts; ++i) s += PickFrom(kSyllables, std::size(kSyllables), rng);
  return Capitalized(s);
}

// The Luhn check digit of `digits` (the RPPS number's scheme).
char LuhnDigit(const std::string& digits) {
  int sum = 0;
  bool twice = true;  // the rightmost payload digit is doubled
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    twice = !twice;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool IsNamesake(uint64_t seed, uint64_t index) {
  return index > 0 && Rng(seed, kNamesakeStream, index).Percent(3);
}

// The names of person `index` as first drawn (before any namesake copy).
void DrawNames(uint64_t seed, uint64_t index, Individual* p) {
  SplitMix64 rng = Rng(seed, kHardPersonStream, index);
  const uint64_t roll = rng.Below(100);
  p->country = roll < 60 ? 0 : 1 + static_cast<int>((roll - 60) / 10);
  const Country& c = kCountries[p->country];
  const Given g = PickFrom(c.given, c.given_count, rng);
  p->first = g.name;
  p->nickname = g.nickname;
  p->last = FamilyName(c, rng);
  if (c.double_surname) {
    p->last += " " + FamilyName(c, rng);
  } else if (c.particle_count > 0 && rng.Percent(15)) {
    p->last = Capitalized(PickFrom(c.particles, c.particle_count, rng)) + " " + p->last;
  } else if (p->country == 4 && rng.Percent(10)) {
    p->last += " " + FamilyName(c, rng);  // double-barrelled
  }
}

// The national significant number in the country's national layout
// ("04 43 78 73 64"), in pairs after the first digit or two.
std::string Grouped(const std::string& nsn) {
  std::string out;
  for (size_t i = 0; i < nsn.size(); ++i) {
    if (i > 0 && (nsn.size() - i) % 2 == 0 && i >= 2) out += ' ';
    out += nsn[i];
  }
  return out;
}

std::string PhoneText(const Individual& p, int form) {
  const Country& c = kCountries[p.country];
  const std::string nsn = p.phone.substr(std::string(c.code).size());
  switch (form) {
    case 0:  // national
      return Grouped(std::string(c.trunk) + nsn);
    case 1:  // E.164
      return "+" + p.phone;
    default:  // international with the 00 prefix
      return "00" + std::string(c.code) + " " + Grouped(nsn);
  }
}

// One, two or a swap-and-one digit errors in an identifier.
std::string DigitError(std::string id, SplitMix64& rng) {
  auto substitute = [&](size_t i) {
    id[i] = static_cast<char>('0' + (id[i] - '0' + 1 + rng.Below(9)) % 10);
  };
  const uint64_t kind = rng.Below(10);
  const size_t i = rng.Below(id.size() - 1);
  if (kind < 4) {
    substitute(i);
  } else if (kind < 7) {
    if (id[i] == id[i + 1]) substitute(i);
    std::swap(id[i], id[i + 1]);
  } else {
    if (id[i] == id[i + 1]) substitute(i);
    std::swap(id[i], id[i + 1]);
    substitute((i + 2 + rng.Below(id.size() - 2)) % id.size());
  }
  return id;
}

}  // namespace

Individual MakeHardIndividual(uint64_t seed, uint64_t index) {
  SplitMix64 rng = Rng(seed, kHardPersonStream + 100, index);
  Individual p;
  DrawNames(seed, index, &p);
  const bool namesake = IsNamesake(seed, index);
  if (namesake) {  // 3% carry the full name of the person drawn before them
    Individual other;
    DrawNames(seed, index - 1, &other);
    p.first = other.first;
    p.nickname = other.nickname;
    p.last = other.last;
    p.country = other.country;
  }
  // Ten digits, a bijection on the index (the stride is coprime to 10), and
  // the Luhn digit: distinct people never share an id.
  const std::string payload = Digits((index * 6180339887ULL + seed * 7919) % 10000000000ULL, 10);
  p.nid = payload + LuhnDigit(payload);
  p.birth = -10957 + rng.Between(0, 365 * 60);
  // Namesakes work at the same practice: its address and e-mail.
  Individual practice;
  SplitMix64 practice_rng = Rng(seed, kHardPersonStream + 200, namesake ? index - 1 : index);
  DrawAddress(practice_rng, &practice);
  p.postcode = practice.postcode;
  p.city = practice.city;
  p.mover = rng.Percent(8);
  const Country& c = kCountries[p.country];
  std::string nsn = PickFrom(c.nsn_leads, c.lead_count, rng);
  while (static_cast<int>(nsn.size()) < c.nsn_length) nsn += static_cast<char>('0' + rng.Below(10));
  p.phone = std::string(c.code) + nsn;
  p.generic_email = namesake || IsNamesake(seed, index + 1);
  if (p.generic_email) {
    p.email_local = "contact";
    p.domain = "cabinet-" + Digits(namesake ? index - 1 : index, 6) + ".eu";
  } else {
    p.email_local = Ascii(p.first) + "." + Ascii(p.last);
    for (char& ch : p.email_local) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      if (ch == ' ') ch = '-';
    }
    if (rng.Percent(50)) p.email_local += std::to_string(rng.Below(100));
    p.domain = PickFrom(kDomains, std::size(kDomains), rng);
  }
  p.specialty = PickFrom(kSpecialties, std::size(kSpecialties), rng);
  return p;
}

Row HardDrift(const Individual& p, System system, SplitMix64& rng) {
  Row r;
  r.first = p.first;
  r.last = p.last;
  // Short forms: the CRM's reps write what people call themselves.
  if (!p.nickname.empty() && rng.Percent(system == kCrm ? 35 : 15)) r.first = p.nickname;
  // Compound surnames cut to their first word (or particle): the ERP's
  // field is short, and people drop the second name.
  if (r.last.find(' ') != std::string::npos && rng.Percent(system == kErp ? 60 : 15)) {
    r.last = r.last.substr(0, r.last.find(' '));
  }
  if (rng.Percent(12)) r.last = Typo(r.last, rng);
  if (rng.Percent(10)) r.first = Typo(r.first, rng);
  if (system == kSfa ? rng.Percent(70) : rng.Percent(25)) {
    r.first = Ascii(r.first);
    r.last = Ascii(r.last);
  }
  if (system == kSfa && rng.Percent(60)) r.last = Upper(r.last);
  if (rng.Percent(5)) {  // the initial
    const unsigned char lead = static_cast<unsigned char>(r.first[0]);
    r.first = r.first.substr(0, lead < 0x80 ? 1 : lead < 0xE0 ? 2 : 3) + ".";
  }
  // The sales tool's import swapped first and last names for a third of
  // its contacts.
  if (system == kSfa && rng.Percent(35)) std::swap(r.first, r.last);
  r.postcode = p.postcode;
  r.city = p.city;
  if (p.mover || rng.Percent(5)) {
    Individual moved;
    DrawAddress(rng, &moved);
    r.postcode = moved.postcode;
    r.city = moved.city;
  }
  if (rng.Percent(10)) r.city = Upper(Ascii(r.city));
  const uint64_t nid_missing[] = {15, 10, 40};
  if (!rng.Percent(nid_missing[system])) {
    r.nid = rng.Percent(6) ? DigitError(p.nid, rng) : p.nid;
  }
  if (!rng.Percent(10)) {
    const int forms[] = {0, 1, 2};  // national, E.164, 00
    r.phone = PhoneText(p, rng.Percent(80) ? forms[system] : static_cast<int>(rng.Below(3)));
  }
  if (!rng.Percent(10)) {
    std::string local = p.email_local;
    if (!p.generic_email && rng.Percent(5)) local = Typo(local, rng);
    r.email = local + "@" + p.domain;
  }
  r.birth = p.birth;
  if (rng.Percent(3)) r.birth += rng.Between(-15, 15);
  r.birth_swapped = rng.Percent(2);
  r.birth_missing = rng.Percent(2);
  r.specialty = p.specialty;
  r.updated = 1672531200 + rng.Between(0, 86400 * 900);
  return r;
}

}  // namespace sluice::sample::consolidation
