// Reading a steward's review file: the CSV `sluice review export` writes
// (docs/review.md), edited in a spreadsheet, checked against the plan. No
// audit store here: `sluice review import` (review_csv.cc) stores what this
// returns, and fuzz/review_import_fuzz.cc feeds it hostile files.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/core/status.h"
#include "common/plan/plan.h"
#include "sluice/v1/control.pb.h"

namespace sluice::cli {

// One data row of a review CSV, by column name.
struct ReviewCsvRow {
  uint64_t line = 0;
  std::map<std::string, std::string> cells;
  // The cell of `column`; empty when the file has no such column.
  const std::string& operator[](const std::string& column) const {
    static const std::string kEmpty;
    auto it = cells.find(column);
    return it == cells.end() ? kEmpty : it->second;
  }
};

// Reads a review CSV. InvalidArgument, naming every bad line, when a
// required column is missing or a row is malformed.
Result<std::vector<ReviewCsvRow>> ReadReviewCsv(const std::string& path);

// The steward's decisions in a review file.
struct ReviewFileDecisions {
  std::vector<v1::RecordDecision> records;
  std::vector<v1::PairDecision> pairs;
  uint64_t open = 0;  // rows left undecided
};

// Reads the review file at `path` and checks every row against `plan`
// (entities, fields, the values of corrections; JSON cells within
// limits::kMaxJsonDepth); decisions are stamped `now_ms`. InvalidArgument
// naming the file's line of every problem, one per line, all of them.
Result<ReviewFileDecisions> ReadReviewDecisions(const Plan& plan, const std::string& path,
                                                int64_t now_ms);

}  // namespace sluice::cli
