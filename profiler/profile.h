// Source profiling (`sluice profile PLAN`, docs/profile.md): one pass over
// every source of a plan, through the source connectors, collecting per
// field what a migration lead needs before anything moves: inferred type,
// completeness, distinct values, top values, pattern shapes, lengths,
// DD/MM vs MM/DD evidence; and per plan, values the value maps do not
// cover, duplicates on the dedup keys and child references with no parent.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/core/status.h"
#include "common/plan/plan.h"

namespace sluice {

struct ProfileOptions {
  uint64_t max_rows = 0;         // per source; 0: every row
  size_t top_values = 10;        // top values and shapes listed per field
  size_t exact_distinct = 8192;  // distinct values counted exactly up to this; then estimated
};

using ValueCount = std::pair<std::string, uint64_t>;

struct DateOrderEvidence {
  uint64_t day_first = 0;    // first number > 12: only DD/MM reads it
  uint64_t month_first = 0;  // second number > 12: only MM/DD reads it
  uint64_t ambiguous = 0;    // both <= 12 and different: 03/04/2020
  // "day-first", "month-first", "mixed" (both kinds of evidence), "ambiguous"
  // (only ambiguous values) or "" when the field has no such dates.
  std::string Verdict() const;
};

struct FieldProfile {
  std::string name;
  std::string inferred_type;  // string, int, decimal, date, timestamp, bool, empty
  uint64_t non_empty = 0;     // neither NULL nor blank
  double completeness = 0;    // non_empty / rows, in percent
  uint64_t distinct = 0;
  bool distinct_exact = true;      // false: a HyperLogLog estimate
  std::vector<ValueCount> top;     // most frequent values (exact counts while distinct_exact)
  std::vector<ValueCount> shapes;  // "99/99/9999": digits 9, letters A/a, others as is
  std::string min, max;            // text order
  bool numeric = false;            // every non-empty value is a number
  double numeric_min = 0, numeric_max = 0;
  uint64_t min_length = 0, max_length = 0;  // in bytes
  double avg_length = 0;
  DateOrderEvidence dates;
};

// Values of a mapped column that its value map does not cover.
struct UnmappedValues {
  std::string entity, field, column, map;  // map: "inline", or the file name
  uint64_t total = 0;                      // records with an unmapped value
  std::vector<ValueCount> values;          // by count, then value
};

struct SourceProfile {
  std::string name, kind;
  uint64_t rows = 0;           // records read
  uint64_t rejected_rows = 0;  // rows the connector rejected (malformed)
  std::vector<FieldProfile> fields;
  std::vector<UnmappedValues> unmapped;
};

struct DuplicateEstimate {
  std::string entity;
  std::vector<std::string> key_fields;
  uint64_t records = 0;      // records with a complete key
  uint64_t duplicates = 0;   // records whose key was already seen (would merge)
  uint64_t missing_key = 0;  // records with an empty key part (not deduplicated)
};

struct OrphanReferences {
  std::string entity, field, parent, source;
  uint64_t references = 0;           // non-empty reference values
  uint64_t orphans = 0;              // of which no parent source has that key
  std::vector<std::string> samples;  // up to 10
};

struct PlanProfile {
  std::string plan;
  std::vector<SourceProfile> sources;
  std::vector<DuplicateEstimate> duplicates;
  std::vector<OrphanReferences> orphans;
  uint64_t rows = 0;
  double seconds = 0;
};

// Reads every source of `plan` once and profiles it. Fails when a source or
// a value-map file cannot be read.
Result<PlanProfile> ProfilePlan(const Plan& plan, const ProfileOptions& options);

// The profile as JSON (docs/profile.md lists the keys).
nlohmann::json ProfileJson(const PlanProfile& profile);
// As text for a terminal.
std::string ProfileText(const PlanProfile& profile);
// As one self-contained HTML page (inline CSS and SVG, no scripts).
std::string ProfileHtml(const PlanProfile& profile);

}  // namespace sluice
