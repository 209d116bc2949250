#include "cli/report_page.h"

#include <algorithm>
#include <ctime>

#include "common/core/html_text.h"

namespace sluice::cli {

using Json = nlohmann::json;

const char kReportStyle[] = R"(<style>
body{font-family:sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:.25em .5em;
font-size:.9em;text-align:left;vertical-align:top}th{background:#f4f4f4}td.n{text-align:right}
tr.differs td{background:#fdecea}.badge{padding:.1em .5em;border-radius:.3em;color:#fff;
font-size:.85em}.badge.good{background:#2e7d32}.badge.bad{background:#c62828}
.chart text{font-size:12px;fill:#222}.note{color:#555;font-size:.9em}
</style>)";

std::string ReportTime(int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string ReportBadge(const std::string& verdict) {
  const bool good =
      verdict == "PASS" || verdict == "completed" || verdict == "n/a" || verdict == "equal";
  return std::string("<span class=\"badge ") + (good ? "good" : "bad") + "\">" + HtmlText(verdict) +
         "</span>";
}

std::string DifferenceChart(const Json& by_failure) {
  if (!by_failure.is_object() || by_failure.empty()) return "";
  uint64_t most = 1;
  for (const auto& [k, v] : by_failure.items()) most = std::max(most, v.get<uint64_t>());
  std::string svg =
      "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"560\" "
      "height=\"" +
      std::to_string(22 * by_failure.size() + 4) + "\" role=\"img\">";
  int y = 0;
  for (const auto& [failure, v] : by_failure.items()) {
    const uint64_t n = v.get<uint64_t>();
    svg += "<text x=\"0\" y=\"" + std::to_string(y + 15) + "\">" + HtmlText(failure) +
           "</text><rect x=\"170\" y=\"" + std::to_string(y + 3) + "\" width=\"" +
           std::to_string(std::max<uint64_t>(1, 320 * n / most)) +
           "\" height=\"16\" fill=\"#c62828\"/><text x=\"" + std::to_string(176 + 320 * n / most) +
           "\" y=\"" + std::to_string(y + 15) + "\">" + std::to_string(n) + "</text>";
    y += 22;
  }
  return svg + "</svg>";
}

}  // namespace sluice::cli
