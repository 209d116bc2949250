// Synthetic legacy exports for the quickstart and the benchmarks.
//
// Every byte written is a pure function of the options: the same options give
// byte-identical files on every machine (own PRNG, integer arithmetic only, no
// locale, no clock). Not thread-safe; each call owns its files.
#pragma once

#include <cstdint>
#include <string>

#include "common/core/status.h"

namespace sluice::sample {

struct QuickstartOptions {
  std::string out_dir;       // created if missing; hcp_crm.csv and erp.db go here
  int64_t crm_rows = 40000;  // data rows of hcp_crm.csv (header excluded), >= 1000
  int64_t erp_rows = 15000;  // rows of erp.db's doctors table, >= 1000
  uint64_t seed = 1;         // the same seed gives the same files
};

// What a generated quickstart sample holds: the figures a run's summary must
// show. Every row has exactly one of the roles below, so these add up.
struct QuickstartCounts {
  int64_t crm_rows = 0;
  int64_t erp_rows = 0;
  // hcp_crm.csv
  int64_t crm_duplicates = 0;          // rows repeating another (clean) CRM row's national_id
  int64_t crm_shared = 0;              // clean CRM rows whose person is also in the ERP
  int64_t crm_unmapped_specialty = 0;  // specialty code not in the value map (XXX, ...)
  int64_t crm_impossible_date = 0;     // registered like 31/02/2020
  int64_t crm_wrong_column_count = 0;  // 13 or 15 fields instead of 14
  int64_t crm_empty_key = 0;           // empty hcp_id
  // erp.db
  int64_t erp_shared = 0;      // rows that are the same person as a CRM row (same national_id)
  int64_t erp_duplicates = 0;  // rows repeating another (clean) ERP row's nat_id, later or
                               // earlier updated_at
  int64_t erp_unknown_spec_code = 0;  // spec_code 99
  int64_t erp_null_national_id = 0;   // nat_id NULL: never merged, still loaded
  int64_t erp_email_without_at = 0;   // fails the email_format rule
  int64_t erp_negative_revenue = 0;   // fails the revenue_non_negative rule
};

// Writes `out_dir`/hcp_crm.csv and `out_dir`/erp.db (replacing them) and fills
// `counts`. Fails with an io error when a file cannot be written.
Status WriteQuickstart(const QuickstartOptions& options, QuickstartCounts* counts);

struct BenchOptions {
  std::string out_path;    // the CSV to write (replaced)
  int64_t rows = 1000000;  // data rows, header excluded, >= 1
  uint64_t seed = 1;
};

// Writes a clean CSV of the hcp_crm.csv shape: no dirt, every row valid, and
// 0.5% of rows repeating another row's national_id (so dedup merges).
// `bytes` receives the file size.
Status WriteBenchCsv(const BenchOptions& options, int64_t* bytes);

}  // namespace sluice::sample
