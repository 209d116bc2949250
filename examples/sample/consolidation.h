// The consolidation sample (issue 16): one population of healthcare
// professionals as three legacy systems hold it, for the fuzzy-dedup
// pipeline benchmark (bench/consolidation_scale) and for trying plans.
//
// Every byte is a pure function of the options (own PRNG, integer arithmetic,
// no locale, no clock). Files are written row by row: memory does not grow
// with `entities`. Not thread-safe; each call owns its files.
#pragma once

#include <cstdint>
#include <string>

#include "common/core/status.h"

namespace sluice::sample {

struct ConsolidationOptions {
  std::string out_dir;      // created if missing; the four files below go here
  int64_t entities = 1000;  // people in the population, >= 1
  uint64_t seed = 1;        // the same seed gives the same files
  // The hard drift of bench/dedup_hard (consolidation_rows.h): nicknames,
  // compound surnames cut short, names swapped in one system, id typos,
  // phones in national/E.164/00 form without a country, movers, namesakes
  // sharing an e-mail.
  bool hard = false;
};

// What was written. Every row of every system is one person's record; the
// truth file names that person for each (system, key).
struct ConsolidationCounts {
  int64_t entities = 0;
  int64_t crm_rows = 0;              // crm.csv (CSV, DD/MM/YYYY dates, "01 23 45 67 89" phones)
  int64_t erp_rows = 0;              // erp.jsonl (JSON Lines, ISO dates, "+33123456789" phones)
  int64_t sfa_rows = 0;              // sfa.db, table contacts (SQLite, YYYYMMDD integer dates)
  int64_t in_system_duplicates = 0;  // rows repeating a person already in the same system
  int64_t cross_system_people = 0;   // people held by two or three systems
  int64_t true_pairs = 0;            // pairs of rows of the same person (all systems)
  int64_t bytes = 0;                 // of the four files
};

// Writes `out_dir`/{crm.csv, erp.jsonl, sfa.db, truth.csv} (replacing them).
// truth.csv: `system,key,entity`, one line per row of the three systems.
// Drift between a person's rows: typos, dropped accents, upper case,
// initials for first names, first and last names swapped, a moved address,
// a missing national id or phone, a birth date off by days or with day and
// month swapped, a mistyped e-mail. Fails with InvalidArgument for
// entities < 1, IoError when a file cannot be written.
Status WriteConsolidation(const ConsolidationOptions& options, ConsolidationCounts* counts);

}  // namespace sluice::sample
