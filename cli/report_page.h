// The pieces of sluice's self-contained HTML pages (plain HTML, inline CSS
// and SVG, no script): the run report (`sluice report`) and the comparison
// page (`sluice compare --html`) share them.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace sluice::cli {

// The <style> element of the pages.
extern const char kReportStyle[];

// A time in milliseconds since the epoch as "YYYY-MM-DD HH:MM:SS UTC"; "-"
// for 0.
std::string ReportTime(int64_t ms);

// A verdict as a coloured badge: green for PASS, completed, equal and n/a,
// red otherwise.
std::string ReportBadge(const std::string& verdict);

// A horizontal bar per failure type of `by_failure` ({"RECORD_DIFF": 3,
// ...}) as inline SVG; "" when it is empty.
std::string DifferenceChart(const nlohmann::json& by_failure);

}  // namespace sluice::cli
