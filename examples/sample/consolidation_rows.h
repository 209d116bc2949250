// The people and rows behind the consolidation sample (consolidation.h),
// shared by its two drift profiles: the ordinary one (consolidation.cc) and
// the hard one of bench/dedup_hard (hard_drift.cc). Internal to
// sluice_sample_lib; pure functions of their arguments.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "examples/sample/person.h"

namespace sluice::sample::consolidation {

// A person as the population holds them (the truth behind every row).
struct Individual {
  std::string nid;  // 11 digits
  std::string first, last;
  int64_t birth = 0;  // days since 1970-01-01
  std::string postcode, city;
  std::string phone;  // ordinary: 9 digits after +33; hard: E.164 without '+'
  std::string email_local, domain;
  const char* specialty = nullptr;
  // Hard profile only.
  std::string nickname;        // a short form of `first` ("Jim"), or empty
  int country = 0;             // index into hard_drift.cc's countries
  bool generic_email = false;  // "contact@cabinet-..." shared with a namesake
  bool mover = false;          // a different address in every system
};

enum System { kCrm, kErp, kSfa };

// One system's row of a person, drifted as people type. Empty text: missing.
struct Row {
  std::string first, last, nid, phone, email, postcode, city, specialty;
  int64_t birth = 0;
  bool birth_missing = false;
  bool birth_swapped = false;  // day and month written the wrong way round
  int64_t updated = 0;         // seconds since 1970-01-01
};

// The generator of item `index` of one of the sample's own streams.
SplitMix64 Rng(uint64_t seed, uint64_t stream, uint64_t index);
// `v` with leading zeros up to `width` digits.
std::string Digits(uint64_t v, int width);
// Drops the accents of the Latin letters the samples use.
std::string Ascii(std::string_view s);
// ASCII letters to upper case.
std::string Upper(std::string s);
// One typing mistake on an ASCII letter away from the first: swap, drop or
// substitute (texts of fewer than 4 bytes are kept).
std::string Typo(std::string s, SplitMix64& rng);
// A French postcode and its city.
void DrawAddress(SplitMix64& rng, Individual* p);

// The ordinary profile (sluice-sample consolidation).
Individual MakeIndividual(uint64_t seed, uint64_t index);
Row Drift(const Individual& p, System system, SplitMix64& rng);

// The hard profile (sluice-sample consolidation --hard, bench/dedup_hard):
// people of five countries, nicknames, compound surnames cut short, first
// and last names swapped in one system, national ids (Luhn) with digit
// errors, phones in national, E.164 and 00 forms, movers, namesakes sharing a
// practice's e-mail and address.
Individual MakeHardIndividual(uint64_t seed, uint64_t index);
Row HardDrift(const Individual& p, System system, SplitMix64& rng);

}  // namespace sluice::sample::consolidation
