// bench/dedup_scale's generator: HCP people with typos, accent drift and format
// drift, deterministic for a seed.
#ifndef SLUICE_BENCH_DEDUP_SCALE_GENERATOR_H_
#define SLUICE_BENCH_DEDUP_SCALE_GENERATOR_H_

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sluice {
namespace bench {

inline const char* const kFirst[] = {
    "Jean",     "José",     "Zoé",      "François", "Hélène",  "Jürgen",   "Łukasz",   "Anna",
    "Marie",    "Pierre",   "Paul",     "Louis",    "Chloé",   "Léa",      "Camille",  "Hugo",
    "Lucas",    "Emma",     "Inès",     "Noémie",   "Thomas",  "Nicolas",  "Julien",   "Sébastien",
    "Émile",    "Agnès",    "Bérénice", "Céline",   "Denis",   "Éric",     "Fabienne", "Gérard",
    "Isabelle", "Jérôme",   "Karine",   "Laurent",  "Michel",  "Nathalie", "Olivier",  "Patrick",
    "Quentin",  "Raphaël",  "Sophie",   "Thérèse",  "Ursula",  "Valérie",  "William",  "Xavier",
    "Yves",     "Zacharie", "Ana",      "João",     "Søren",   "Åsa",      "Björn",    "Mónica",
    "Iñaki",    "Núria",    "Dorothée", "Gaëlle",   "Maëlle",  "Joël",     "Anaïs",    "Loïc",
    "Benoît",   "Mathéo",   "Clément",  "Timothée", "Aurélie", "Stéphane", "Frédéric", "André",
    "Renée"};
inline const char* const kSyllables[] = {
    "mar",  "tin",  "ber",   "nard", "du",    "bois", "mo",   "reau", "la",   "fon", "ta",
    "ine",  "ro",   "bert",  "ri",   "chard", "pe",   "tit",  "gar",  "nier", "fa",  "ure",
    "mer",  "cier", "blanc", "che",  "val",   "lé",   "vè",   "que",  "gué",  "rin", "bou",
    "cher", "ro",   "ux",    "hen",  "ry",    "sch",  "mitt", "mül",  "ler",  "wag", "ner",
    "kow",  "al",   "ski",   "gon",  "za",    "lez",  "fer",  "nán",  "dez",  "sil", "va",
    "cos",  "ta",   "ol",    "sen",  "jo",    "han",  "sson"};
inline const char* const kCities[] = {
    "Paris",       "Lyon",     "Marseille", "Toulouse", "Nice",     "Nantes",        "Strasbourg",
    "Montpellier", "Bordeaux", "Lille",     "Rennes",   "Reims",    "Saint-Étienne", "Le Havre",
    "Grenoble",    "Dijon",    "Angers",    "Nîmes",    "Besançon", "Orléans"};
inline const char* const kSpecialties[] = {"cardiology", "general_practice", "oncology",
                                           "pediatrics", "dermatology",      "neurology"};
inline const char* const kSources[] = {"crm", "erp", "sfa"};

struct Person {
  std::string nid, first, last, postcode, city, phone, email, specialty;
  int64_t birth = 0, updated = 0;
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}
  uint64_t U(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  bool P(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  Person Make(uint64_t id) {
    Person p;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%011llu", (unsigned long long)(10000000000ULL + id * 7919));
    p.nid = buf;
    p.first = kFirst[U(std::size(kFirst))];
    const int parts = 2 + static_cast<int>(U(2));
    for (int i = 0; i < parts; ++i) p.last += kSyllables[U(std::size(kSyllables))];
    p.last[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(p.last[0])));
    p.birth = -10957 + static_cast<int64_t>(U(365 * 60));  // 1940..2000
    std::snprintf(buf, sizeof buf, "%05llu", (unsigned long long)(1000 + U(94000)));
    p.postcode = buf;
    p.city = kCities[U(std::size(kCities))];
    std::snprintf(buf, sizeof buf, "+33%09llu", (unsigned long long)(100000000 + U(800000000)));
    p.phone = buf;
    p.email = Ascii(p.first) + "." + Ascii(p.last) + std::to_string(U(100)) + "@example.org";
    p.specialty = kSpecialties[U(std::size(kSpecialties))];
    p.updated = 18000 + static_cast<int64_t>(U(1500));
    return p;
  }

  // A copy with the drift real systems show: typos, lost accents, upper
  // case, another phone format, a missing national id, a date off by days.
  Person Drift(const Person& src) {
    Person p = src;
    if (P(0.5)) p.first = Typo(p.first);
    if (P(0.5)) p.last = Typo(p.last);
    if (P(0.4)) p.first = Ascii(p.first);
    if (P(0.4)) p.last = Ascii(p.last);
    if (P(0.3)) p.last = Upper(p.last);
    if (P(0.5))
      p.phone = "0" + p.phone.substr(3, 1) + " " + p.phone.substr(4, 2) + " " +
                p.phone.substr(6, 2) + " " + p.phone.substr(8, 2) + " " + p.phone.substr(10, 2);
    if (P(0.2)) p.phone = "N/A";
    if (P(0.4)) p.nid = P(0.5) ? "" : "UNKNOWN";
    if (P(0.1)) p.birth += static_cast<int64_t>(U(20)) - 10;
    if (P(0.2)) p.email = Typo(p.email);
    if (P(0.1)) p.city = Upper(p.city);
    p.updated = src.updated + static_cast<int64_t>(U(300));
    return p;
  }

 private:
  std::string Typo(const std::string& s) {
    if (s.size() < 3) return s;
    std::string t = s;
    size_t i = 1 + U(t.size() - 2);
    while (i > 0 && (static_cast<unsigned char>(t[i]) & 0xC0) == 0x80) --i;  // a char start
    if (static_cast<unsigned char>(t[i]) >= 0x80 || static_cast<unsigned char>(t[i + 1]) >= 0x80) {
      return t;
    }
    switch (U(3)) {
      case 0:
        std::swap(t[i], t[i + 1]);
        break;
      case 1:
        t.erase(i, 1);
        break;
      default:
        t[i] = static_cast<char>('a' + U(26));
    }
    return t;
  }
  static std::string Upper(const std::string& s) {
    std::string t = s;
    for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return t;
  }
  // Drops the accents of the Latin letters used above.
  static std::string Ascii(const std::string& s) {
    static const std::map<std::string, std::string> kPlain = {
        {"é", "e"}, {"è", "e"}, {"ê", "e"}, {"ë", "e"}, {"É", "E"}, {"ç", "c"}, {"ü", "u"},
        {"Ł", "L"}, {"ï", "i"}, {"î", "i"}, {"ô", "o"}, {"ø", "o"}, {"Å", "A"}, {"ö", "o"},
        {"ó", "o"}, {"ñ", "n"}, {"ú", "u"}, {"á", "a"}, {"ã", "a"}, {"à", "a"}};
    std::string out;
    for (size_t i = 0; i < s.size();) {
      if (static_cast<unsigned char>(s[i]) < 0x80) {
        out += s[i++];
        continue;
      }
      auto it = i + 1 < s.size() ? kPlain.find(s.substr(i, 2)) : kPlain.end();
      if (it != kPlain.end()) {
        out += it->second;
        i += 2;
      } else {
        out += s[i++];
      }
    }
    return out;
  }
  std::mt19937_64 rng_;
};

}  // namespace bench
}  // namespace sluice

#endif  // SLUICE_BENCH_DEDUP_SCALE_GENERATOR_H_
