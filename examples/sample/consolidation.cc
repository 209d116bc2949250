#include "examples/sample/consolidation.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string_view>

#include "examples/sample/consolidation_rows.h"
#include "examples/sample/person.h"  // SplitMix64, RngFor, dates

namespace sluice::sample {
namespace consolidation {

// Streams of their own (person.h's enum stops well below these).
constexpr uint64_t kPersonStream = 40, kRowStream = 41;

SplitMix64 Rng(uint64_t seed, uint64_t stream, uint64_t index) {
  return RngFor(seed, static_cast<Stream>(stream), index);
}

// First names with accents, common and rare; last names either one of the
// very common ones (about a fifth of people: "Martin = Martin" is weak
// evidence) or built from syllables (many rare ones).
constexpr const char* kFirst[] = {
    "Marie",   "Jean",     "Pierre",    "Sophie",   "Nicolas",  "Isabelle", "Paul",
    "Anne",    "Luc",      "Claire",    "Thomas",   "Julie",    "Marc",     "Camille",
    "Hugo",    "Emma",     "Louis",     "Manon",    "David",    "Sarah",    "Alain",
    "Laura",   "Yves",     "Alice",     "Zoé",      "Hélène",   "Léa",      "Chloé",
    "Jérôme",  "François", "Inès",      "Éric",     "José",     "Jürgen",   "Łukasz",
    "Agnès",   "Bérénice", "Céline",    "Denis",    "Fabienne", "Gérard",   "Karine",
    "Laurent", "Michel",   "Nathalie",  "Olivier",  "Patrick",  "Quentin",  "Raphaël",
    "Thérèse", "Ursula",   "Valérie",   "William",  "Xavier",   "Zacharie", "João",
    "Søren",   "Åsa",      "Björn",     "Mónica",   "Iñaki",    "Núria",    "Dorothée",
    "Gaëlle",  "Maëlle",   "Joël",      "Anaïs",    "Loïc",     "Benoît",   "Mathéo",
    "Clément", "Timothée", "Aurélie",   "Stéphane", "Frédéric", "André",    "Renée",
    "Amélie",  "Noémie",   "Sébastien", "Émile",    "Solène",   "Maïwenn",  "Gwénaëlle",
    "Erwan",   "Yannick",  "Rémi",      "Mathilde", "Baptiste", "Océane",   "Morgane",
    "Kévin",   "Ludovic",  "Véronique", "Sylvie",   "Ophélie"};
constexpr const char* kCommonLast[] = {
    "Martin", "Bernard", "Dubois",  "Thomas",   "Robert",  "Richard", "Petit",  "Durand",
    "Leroy",  "Moreau",  "Simon",   "Laurent",  "Lefèvre", "Michel",  "Garcia", "David",
    "Bertin", "Roux",    "Vincent", "Fournier", "Morel",   "Girard",  "André",  "Mercier"};
constexpr const char* kSyllables[] = {
    "mar",   "tin",  "ber",  "nard",  "du",  "bois", "mo",  "reau", "la",  "fon",  "ta",  "ine",
    "ro",    "bert", "ri",   "chard", "pe",  "tit",  "gar", "nier", "fa",  "ure",  "mer", "cier",
    "blanc", "che",  "val",  "lé",    "vè",  "que",  "gué", "rin",  "bou", "cher", "ux",  "hen",
    "ry",    "sch",  "mitt", "mül",   "ler", "wag",  "ner", "kow",  "al",  "ski",  "gon", "za",
    "lez",   "fer",  "nán",  "dez",   "sil", "va",   "cos", "ol",   "sen", "jo",   "han", "sson",
    "ker",   "gal",  "lo",   "pin",   "cas", "tel",  "vi",  "gne",  "bru", "net",  "cam", "pi"};
constexpr const char* kCities[] = {"Paris",  "Lyon",       "Marseille",     "Toulouse", "Nice",
                                   "Nantes", "Strasbourg", "Montpellier",   "Bordeaux", "Lille",
                                   "Rennes", "Reims",      "Saint-Étienne", "Le Havre", "Grenoble",
                                   "Dijon",  "Angers",     "Nîmes",         "Besançon", "Orléans"};
constexpr const char* kDomains[] = {"orange.fr",   "free.fr",  "gmail.com", "aphp.fr",
                                    "chu-lyon.fr", "sante.fr", "yahoo.fr",  "laposte.net"};
constexpr const char* kSpecialties[] = {"cardiology", "general_practice", "oncology",
                                        "pediatrics", "dermatology",      "neurology",
                                        "psychiatry", "radiology"};

template <typename T, size_t N>
T Pick(const T (&table)[N], SplitMix64& rng) {
  return table[rng.Below(N)];
}

std::string Digits(uint64_t v, int width) {
  std::string s;
  AppendPadded(static_cast<int64_t>(v), width, &s);
  return s;
}

void DrawAddress(SplitMix64& rng, Individual* p) {
  const uint64_t c = rng.Below(std::size(kCities));
  p->city = kCities[c];
  p->postcode = Digits(10000 + c * 4000 + rng.Below(4000), 5);
}

Individual MakeIndividual(uint64_t seed, uint64_t index) {
  SplitMix64 rng = Rng(seed, kPersonStream, index);
  Individual p;
  // A bijection on 11-digit numbers (the stride is coprime to 10): distinct
  // people never share an id.
  p.nid = Digits((index * 61803398877ULL + seed * 7919) % 100000000000ULL, 11);
  // First names: a skewed draw, the first ones far more common.
  const uint64_t f = rng.Below(std::size(kFirst));
  p.first = kFirst[rng.Percent(50) ? f / 4 : f];
  if (rng.Percent(20)) {
    p.last = Pick(kCommonLast, rng);
  } else {
    const int parts = 2 + static_cast<int>(rng.Below(2));
    for (int i = 0; i < parts; ++i) p.last += Pick(kSyllables, rng);
    p.last[0] = static_cast<char>(p.last[0] - 'a' + 'A');
  }
  p.birth = -10957 + rng.Between(0, 365 * 60);  // 1940 .. 2000
  DrawAddress(rng, &p);
  p.phone = std::to_string(rng.Between(1, 7)) + Digits(rng.Below(100000000), 8);
  p.email_local = Ascii(p.first) + "." + Ascii(p.last);
  for (char& ch : p.email_local) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    if (ch == ' ') ch = '-';
  }
  if (rng.Percent(50)) p.email_local += std::to_string(rng.Below(100));
  p.domain = Pick(kDomains, rng);
  p.specialty = Pick(kSpecialties, rng);
  return p;
}

// Drops the accents of the Latin letters used above (two-byte UTF-8).
std::string Ascii(std::string_view s) {
  static constexpr std::string_view kFrom[] = {"é", "è", "ê", "ë", "É", "ç", "ü", "Ł", "ł", "ï",
                                               "î", "ô", "ø", "Å", "å", "ö", "ó", "ñ", "ú", "á",
                                               "ã", "à", "â", "ò", "û", "ù", "ß", "Ø", "Ö", "Ü"};
  static constexpr std::string_view kTo[] = {"e", "e", "e", "e", "E", "c", "u",  "L", "l", "i",
                                             "i", "o", "o", "A", "a", "o", "o",  "n", "u", "a",
                                             "a", "a", "a", "o", "u", "u", "ss", "O", "O", "U"};
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80 || i + 1 >= s.size()) {
      out += s[i++];
      continue;
    }
    const std::string_view two = s.substr(i, 2);
    size_t k = 0;
    while (k < std::size(kFrom) && kFrom[k] != two) ++k;
    out += k < std::size(kFrom) ? kTo[k] : two;
    i += 2;
  }
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

// One typing mistake on an ASCII letter away from the first: swap, drop or
// substitute.
std::string Typo(std::string s, SplitMix64& rng) {
  if (s.size() < 4) return s;
  const size_t i = 1 + rng.Below(s.size() - 2);
  auto ascii = [&](size_t k) { return static_cast<unsigned char>(s[k]) < 0x80; };
  if (!ascii(i) || !ascii(i + 1)) return s;
  switch (rng.Below(3)) {
    case 0:
      std::swap(s[i], s[i + 1]);
      break;
    case 1:
      s.erase(i, 1);
      break;
    default:
      s[i] = static_cast<char>('a' + rng.Below(26));
  }
  return s;
}

Row Drift(const Individual& p, System system, SplitMix64& rng) {
  Row r;
  r.first = p.first;
  r.last = p.last;
  if (rng.Percent(12)) r.last = Typo(r.last, rng);
  if (rng.Percent(10)) r.first = Typo(r.first, rng);
  // The sales tool stores plain upper-case ASCII surnames, mostly.
  if (system == kSfa ? rng.Percent(70) : rng.Percent(30)) {
    r.first = Ascii(r.first);
    r.last = Ascii(r.last);
  }
  if (system == kSfa && rng.Percent(70)) r.last = Upper(r.last);
  if (rng.Percent(6)) {  // the initial: its first character, whole
    const unsigned char lead = static_cast<unsigned char>(r.first[0]);
    r.first = r.first.substr(0, lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4) + ".";
  }
  if (rng.Percent(3)) std::swap(r.first, r.last);
  r.postcode = p.postcode;
  r.city = p.city;
  if (rng.Percent(8)) {  // moved
    Individual moved;
    DrawAddress(rng, &moved);
    r.postcode = moved.postcode;
    r.city = moved.city;
  }
  if (rng.Percent(10)) r.city = Upper(Ascii(r.city));
  const uint64_t nid_missing[] = {20, 10, 50};
  if (!rng.Percent(nid_missing[system])) r.nid = p.nid;
  if (!rng.Percent(10)) {
    const std::string& d = p.phone;  // 9 digits
    switch (system) {
      case kCrm:  // 01 23 45 67 89
        r.phone = "0" + d.substr(0, 1);
        for (size_t k = 1; k < 9; k += 2) r.phone += " " + d.substr(k, 2);
        break;
      case kErp:
        r.phone = "+33" + d;
        break;
      case kSfa:  // +33 1 23 45 67 89
        r.phone = "+33 " + d.substr(0, 1);
        for (size_t k = 1; k < 9; k += 2) r.phone += " " + d.substr(k, 2);
        break;
    }
  }
  if (!rng.Percent(10)) {
    std::string local = p.email_local;
    if (rng.Percent(5)) local = Typo(local, rng);
    r.email = local + "@" + (rng.Percent(15) ? std::string(Pick(kDomains, rng)) : p.domain);
  }
  r.birth = p.birth;
  if (rng.Percent(3)) r.birth += rng.Between(-15, 15);
  r.birth_swapped = rng.Percent(2);
  r.birth_missing = rng.Percent(2);
  r.specialty = p.specialty;
  r.updated = 1672531200 + rng.Between(0, 86400 * 900);  // 2023-01-01 + up to 900 days
  return r;
}

// "YYYY-MM-DD" as the system writes it; day and month swapped when asked
// (and the day is a month).
std::string DateText(const Row& r, System system) {
  std::string iso = IsoDate(r.birth);
  std::string y = iso.substr(0, 4), m = iso.substr(5, 2), d = iso.substr(8, 2);
  if (r.birth_swapped && std::stoi(d) <= 12) std::swap(d, m);
  switch (system) {
    case kCrm:
      return d + "/" + m + "/" + y;
    case kErp:
      return y + "-" + m + "-" + d;
    case kSfa:
      return y + m + d;
  }
  return iso;
}

void AppendJson(std::string_view name, const std::string& v, bool null, std::string* out) {
  out->append(out->back() == '{' ? "\"" : ",\"");
  out->append(name);
  out->append("\":");
  if (null) {
    out->append("null");
    return;
  }
  out->push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') out->push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out->push_back(c);
  }
  out->push_back('"');
}

constexpr const char* kSfaSchema =
    "CREATE TABLE contacts (contact_id TEXT PRIMARY KEY, first TEXT, last TEXT, born INTEGER, "
    "rpps TEXT, tel TEXT, email TEXT, postcode TEXT, city TEXT, specialty TEXT, "
    "modified_at TEXT)";

// The three systems and the truth file, written as rows come.
class Writers {
 public:
  Status Open(const std::string& dir) {
    dir_ = dir;
    crm_.open(dir + "/crm.csv", std::ios::binary | std::ios::trunc);
    erp_.open(dir + "/erp.jsonl", std::ios::binary | std::ios::trunc);
    truth_.open(dir + "/truth.csv", std::ios::binary | std::ios::trunc);
    if (!crm_ || !erp_ || !truth_) return Status::IoError(dir + ": cannot write the sample");
    crm_ << "crm_id,first_name,last_name,birth_date,national_id,phone,email,postcode,city,"
            "specialty,updated_at\n";
    truth_ << "system,key,entity\n";
    const std::string db = dir + "/sfa.db";
    std::filesystem::remove(db);
    if (sqlite3_open(db.c_str(), &sfa_) != SQLITE_OK ||
        sqlite3_exec(sfa_, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", nullptr, nullptr,
                     nullptr) != SQLITE_OK ||
        sqlite3_exec(sfa_, kSfaSchema, nullptr, nullptr, nullptr) != SQLITE_OK ||
        sqlite3_exec(sfa_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(sfa_, "INSERT INTO contacts VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1, &insert_,
                           nullptr) != SQLITE_OK) {
      return Status::IoError(db + ": " + sqlite3_errmsg(sfa_));
    }
    return Status::Ok();
  }

  Status Write(System system, const std::string& key, const Row& r, uint64_t entity) {
    truth_ << (system == kCrm   ? "crm"
               : system == kErp ? "erp"
                                : "sfa")
           << ',' << key << ',' << entity << '\n';
    line_.clear();
    switch (system) {
      case kCrm:
        for (const std::string* v : {&key, &r.first, &r.last}) {
          AppendCsvField(*v, &line_);
          line_.push_back(',');
        }
        if (!r.birth_missing) line_ += DateText(r, kCrm);
        for (const std::string* v :
             {&r.nid, &r.phone, &r.email, &r.postcode, &r.city, &r.specialty}) {
          line_.push_back(',');
          AppendCsvField(*v, &line_);
        }
        line_.push_back(',');
        line_ += IsoTimestamp(r.updated);
        line_.push_back('\n');
        crm_ << line_;
        return crm_ ? Status::Ok() : Status::IoError(dir_ + "/crm.csv: write failed");
      case kErp:
        line_ = "{";
        AppendJson("erp_id", key, false, &line_);
        AppendJson("given_name", r.first, false, &line_);
        AppendJson("family_name", r.last, false, &line_);
        AppendJson("dob", r.birth_missing ? "" : DateText(r, kErp), r.birth_missing, &line_);
        AppendJson("nid", r.nid, r.nid.empty(), &line_);
        AppendJson("phone", r.phone, r.phone.empty(), &line_);
        AppendJson("mail", r.email, r.email.empty(), &line_);
        AppendJson("zip", r.postcode, false, &line_);
        AppendJson("town", r.city, false, &line_);
        AppendJson("specialty", r.specialty, false, &line_);
        AppendJson("updated", IsoTimestamp(r.updated), false, &line_);
        line_ += "}\n";
        erp_ << line_;
        return erp_ ? Status::Ok() : Status::IoError(dir_ + "/erp.jsonl: write failed");
      case kSfa: {
        int column = 1;
        auto text = [&](const std::string& v) {
          if (v.empty()) {
            sqlite3_bind_null(insert_, column++);
          } else {
            sqlite3_bind_text(insert_, column++, v.data(), static_cast<int>(v.size()),
                              SQLITE_TRANSIENT);
          }
        };
        text(key);
        text(r.first);
        text(r.last);
        if (r.birth_missing) {
          sqlite3_bind_null(insert_, column++);
        } else {
          sqlite3_bind_int64(insert_, column++, std::stoll(DateText(r, kSfa)));
        }
        for (const std::string* v :
             {&r.nid, &r.phone, &r.email, &r.postcode, &r.city, &r.specialty}) {
          text(*v);
        }
        text(IsoTimestamp(r.updated));
        if (sqlite3_step(insert_) != SQLITE_DONE || sqlite3_reset(insert_) != SQLITE_OK) {
          return Status::IoError(dir_ + "/sfa.db: " + sqlite3_errmsg(sfa_));
        }
        return Status::Ok();
      }
    }
    return Status::Ok();
  }

  Status Close() {
    sqlite3_finalize(insert_);
    insert_ = nullptr;
    const bool ok = sqlite3_exec(sfa_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
    sqlite3_close(sfa_);
    sfa_ = nullptr;
    crm_.close();
    erp_.close();
    truth_.close();
    if (!ok || !crm_ || !erp_ || !truth_) return Status::IoError(dir_ + ": cannot finish");
    return Status::Ok();
  }

  ~Writers() {
    if (insert_ != nullptr) sqlite3_finalize(insert_);
    if (sfa_ != nullptr) sqlite3_close(sfa_);
  }

 private:
  std::string dir_;
  std::ofstream crm_, erp_, truth_;
  sqlite3* sfa_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  std::string line_;
};

}  // namespace consolidation

using namespace consolidation;  // NOLINT: this file's own helpers

Status WriteConsolidation(const ConsolidationOptions& options, ConsolidationCounts* counts) {
  if (options.entities < 1) return Status::InvalidArgument("--entities must be at least 1");
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return Status::IoError(options.out_dir + ": " + ec.message());
  Writers out;
  SLUICE_RETURN_IF_ERROR(out.Open(options.out_dir));
  ConsolidationCounts c;
  c.entities = options.entities;
  int64_t next_key[3] = {0, 0, 0};
  const char kPrefix[3] = {'C', 'E', 'S'};
  const uint64_t kPresent[3] = {70, 50, 35};  // percent of people each system holds
  for (int64_t e = 0; e < options.entities; ++e) {
    const Individual p = options.hard ? MakeHardIndividual(options.seed, static_cast<uint64_t>(e))
                                      : MakeIndividual(options.seed, static_cast<uint64_t>(e));
    SplitMix64 rng = Rng(options.seed, kRowStream, static_cast<uint64_t>(e));
    bool in[3];
    for (int s = 0; s < 3; ++s) in[s] = rng.Percent(kPresent[s]);
    if (!in[0] && !in[1] && !in[2]) in[rng.Below(3)] = true;
    int64_t rows = 0, systems = 0;
    for (int s = 0; s < 3; ++s) {
      if (!in[s]) continue;
      ++systems;
      const int copies = rng.Percent(3) ? 2 : 1;  // typed in twice in the same system
      c.in_system_duplicates += copies - 1;
      for (int k = 0; k < copies; ++k) {
        const std::string key = kPrefix[s] + Digits(static_cast<uint64_t>(++next_key[s]), 8);
        const System system = static_cast<System>(s);
        SLUICE_RETURN_IF_ERROR(out.Write(
            system, key, options.hard ? HardDrift(p, system, rng) : Drift(p, system, rng), e));
        ++rows;
      }
    }
    c.cross_system_people += systems > 1;
    c.true_pairs += rows * (rows - 1) / 2;
  }
  SLUICE_RETURN_IF_ERROR(out.Close());
  c.crm_rows = next_key[0];
  c.erp_rows = next_key[1];
  c.sfa_rows = next_key[2];
  for (const char* f : {"crm.csv", "erp.jsonl", "sfa.db", "truth.csv"}) {
    c.bytes += static_cast<int64_t>(
        std::filesystem::file_size(std::filesystem::path(options.out_dir) / f, ec));
  }
  *counts = c;
  return Status::Ok();
}

}  // namespace sluice::sample
