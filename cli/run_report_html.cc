// The run report's page: plain HTML, inline CSS and inline SVG charts, no
// script and nothing fetched, so that it opens anywhere and can be archived
// with the run (issue 17).
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "cli/run_report.h"
#include "common/core/html_text.h"

namespace sluice::cli {
namespace {

using Json = nlohmann::json;

std::string Escape(const std::string& text) { return HtmlText(text); }

// A value of a JSON document as text ("" when absent or null).
std::string Text(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

uint64_t Count(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return 0;
  return j[key].get<uint64_t>();
}

std::string Time(int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string Badge(const std::string& verdict) {
  const bool good = verdict == "PASS" || verdict == "completed" || verdict == "n/a";
  return std::string("<span class=\"badge ") + (good ? "good" : "bad") + "\">" + Escape(verdict) +
         "</span>";
}

struct Part {
  const char* name;
  const char* color;
};
constexpr Part kFates[] = {
    {"loaded", "#2e7d32"}, {"merged", "#1565c0"}, {"rejected", "#c62828"}, {"review", "#ef6c00"}};

// One stacked bar per (entity, source): what became of the records
// extracted, in proportion.
std::string FlowChart(const Json& entities) {
  if (!entities.is_array() || entities.empty()) return "<p>No records were extracted.</p>";
  uint64_t widest = 1;
  for (const Json& row : entities) widest = std::max(widest, Count(row, "extracted"));
  const int label = 200, bar = 520, height = 26;
  std::string svg =
      "<svg class=\"chart\" id=\"flow\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
      std::to_string(label + bar + 120) + "\" height=\"" +
      std::to_string(height * entities.size() + 30) + "\" role=\"img\">";
  int y = 0;
  for (const Json& row : entities) {
    svg += "<text x=\"0\" y=\"" + std::to_string(y + 17) + "\">" +
           Escape(Text(row, "entity") + " / " + Text(row, "source")) + "</text>";
    double x = label;
    for (const Part& p : kFates) {
      const uint64_t n = Count(row, p.name);
      if (n == 0) continue;
      const double w = static_cast<double>(bar) * static_cast<double>(n) / widest;
      char rect[200];
      std::snprintf(rect, sizeof rect,
                    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"20\" fill=\"%s\">", x, y + 3,
                    std::max(w, 1.0), p.color);
      svg += std::string(rect) + "<title>" + p.name + ": " + std::to_string(n) + "</title></rect>";
      x += w;
    }
    svg += "<text x=\"" + std::to_string(label + bar + 6) + "\" y=\"" + std::to_string(y + 17) +
           "\">" + std::to_string(Count(row, "extracted")) + "</text>";
    y += height;
  }
  int lx = label;
  for (const Part& p : kFates) {
    svg += "<rect x=\"" + std::to_string(lx) + "\" y=\"" + std::to_string(y + 8) +
           "\" width=\"12\" height=\"12\" fill=\"" + p.color + "\"/><text x=\"" +
           std::to_string(lx + 16) + "\" y=\"" + std::to_string(y + 19) + "\">" + p.name +
           "</text>";
    lx += 110;
  }
  return svg + "</svg>";
}

std::string FlowTable(const Json& entities) {
  std::string html =
      "<table><tr><th>entity</th><th>source</th><th>extracted</th><th>loaded</th>"
      "<th>merged</th><th>rejected</th><th>review</th><th>share held for review</th>"
      "<th>deleted at source</th><th>reconciled</th></tr>";
  for (const Json& row : entities) {
    const uint64_t extracted = Count(row, "extracted");
    char share[32];
    std::snprintf(share, sizeof share, "%.2f%%",
                  extracted ? 100.0 * Count(row, "review") / extracted : 0.0);
    html += "<tr><td>" + Escape(Text(row, "entity")) + "</td><td>" + Escape(Text(row, "source")) +
            "</td>";
    for (const char* k : {"extracted", "loaded", "merged", "rejected", "review"}) {
      html += "<td class=\"n\">" + std::to_string(Count(row, k)) + "</td>";
    }
    html += "<td class=\"n\">" + std::string(share) + "</td><td class=\"n\">" +
            std::to_string(Count(row, "deleted_at_source")) + "</td><td>" +  // issue 18
            Escape(Text(row, "reconciled")) + "</td></tr>";
  }
  return html + "</table>";
}

std::string FailuresTable(const Json& failures) {
  if (!failures.is_array() || failures.empty()) return "<p>No rejections or reviews.</p>";
  std::string html =
      "<table><tr><th>entity</th><th>rule</th><th>kind</th><th>count</th><th>examples "
      "(source/key: field = value; reason; suggestion)</th></tr>";
  for (const Json& f : failures) {
    std::string examples;
    for (const Json& e : f["examples"]) {
      examples +=
          "<div>" +
          Escape(Text(e, "source") + "/" + Text(e, "key") + ": " + Text(e, "field") + " = " +
                 Text(e, "value") + "; " + Text(e, "reason")) +
          (Text(e, "suggestion").empty() ? ""
                                         : "; <em>" + Escape(Text(e, "suggestion")) + "</em>") +
          "</div>";
    }
    html += "<tr><td>" + Escape(Text(f, "entity")) + "</td><td>" + Escape(Text(f, "rule")) +
            "</td><td>" + Escape(Text(f, "kind")) + "</td><td class=\"n\">" +
            std::to_string(Count(f, "count")) + "</td><td>" + examples + "</td></tr>";
  }
  return html + "</table>";
}

// Differences by failure type, as horizontal bars.
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
    svg += "<text x=\"0\" y=\"" + std::to_string(y + 15) + "\">" + Escape(failure) +
           "</text><rect x=\"170\" y=\"" + std::to_string(y + 3) + "\" width=\"" +
           std::to_string(std::max<uint64_t>(1, 320 * n / most)) +
           "\" height=\"16\" fill=\"#c62828\"/><text x=\"" + std::to_string(176 + 320 * n / most) +
           "\" y=\"" + std::to_string(y + 15) + "\">" + std::to_string(n) + "</text>";
    y += 22;
  }
  return svg + "</svg>";
}

std::string EntityReconciliation(const Json& e) {
  std::string html =
      "<h4>" + Escape(Text(e, "entity")) + " " + Badge(e.value("passed", false) ? "PASS" : "FAIL") +
      "</h4><p>" + std::to_string(Count(e, "matched_rows")) + " of " +
      std::to_string(Count(e, "expected_rows")) + " rows matched, " +
      std::to_string(Count(e, "difference_count")) + " differences; reference check " +
      Badge(Text(e, "ri_check")) + " (" + std::to_string(Count(e, "unresolved_references")) +
      " unresolved of " + std::to_string(Count(e, "references")) + "); survivor check " +
      Badge(Text(e, "survivor_check")) + "</p>";
  html += DifferenceChart(e.value("differences_by_failure", Json::object()));
  const Json& diffs = e.value("differences", Json::array());
  if (!diffs.empty()) {
    html +=
        "<table><tr><th>source/key</th><th>failure</th><th>field</th><th>expected</th>"
        "<th>actual</th></tr>";
    size_t shown = 0;
    for (const Json& d : diffs) {
      if (++shown > 50) break;
      html += "<tr><td>" + Escape(Text(d, "source") + "/" + Text(d, "key")) + "</td><td>" +
              Escape(Text(d, "failure")) + "</td><td>" + Escape(Text(d, "field")) + "</td><td>" +
              Escape(Text(d, "expected")) + "</td><td>" + Escape(Text(d, "actual")) + "</td></tr>";
    }
    html += "</table><p class=\"note\">" + std::to_string(std::min<size_t>(50, diffs.size())) +
            " shown of " + std::to_string(Count(e, "difference_count")) +
            "; all of them: <code>sluice diff " + "RUN --entity " + Escape(Text(e, "entity")) +
            "</code></p>";
  }
  const Json& sums = e.value("decimal_sums", Json::object());
  if (!sums.empty()) {
    html += "<table><tr><th>decimal field</th><th>loaded sum</th><th>target sum</th></tr>";
    for (const auto& [field, s] : sums.items()) {
      html += std::string("<tr") + (s.value("equal", true) ? "" : " class=\"differs\"") + "><td>" +
              Escape(field) + "</td><td class=\"n\">" + Escape(Text(s, "expected_text")) +
              "</td><td class=\"n\">" + Escape(Text(s, "actual_text")) + "</td></tr>";
    }
    html += "</table>";
  }
  const Json& segments = e.value("segments", Json::array());
  if (!segments.empty()) {
    html +=
        "<table class=\"segments\"><tr><th>segment</th><th>source records</th>"
        "<th>target records</th><th>source sums</th><th>target sums</th></tr>";
    auto sums_text = [](const Json& side) {
      std::string t;
      const Json sums = side.value("sums", Json::object());
      for (const auto& [f, v] : sums.items()) {
        t += (t.empty() ? "" : ", ") + f + " " + v.get<std::string>();
      }
      return t;
    };
    for (const Json& s : segments) {
      html += std::string("<tr") + (s.value("differs", false) ? " class=\"differs\"" : "") +
              "><td>" + Escape(Text(s, "field") + " = " + Text(s, "value")) +
              "</td><td class=\"n\">" + std::to_string(Count(s["source"], "records")) +
              "</td><td class=\"n\">" + std::to_string(Count(s["target"], "records")) +
              "</td><td>" + Escape(sums_text(s["source"])) + "</td><td>" +
              Escape(sums_text(s["target"])) + "</td></tr>";
    }
    html += "</table>";
  } else if (!Text(e, "segments_note").empty()) {
    html += "<p class=\"note\">Segments: " + Escape(Text(e, "segments_note")) + "</p>";
  }
  return html;
}

constexpr char kStyle[] = R"(<style>
body{font-family:sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:.25em .5em;
font-size:.9em;text-align:left;vertical-align:top}th{background:#f4f4f4}td.n{text-align:right}
tr.differs td{background:#fdecea}.badge{padding:.1em .5em;border-radius:.3em;color:#fff;
font-size:.85em}.badge.good{background:#2e7d32}.badge.bad{background:#c62828}
.chart text{font-size:12px;fill:#222}.note{color:#555;font-size:.9em}
</style>)";

}  // namespace

std::string RunReportHtml(const Json& report) {
  const Json& run = report["run"];
  const Json& summary = report.value("summary", Json::object());
  const Json entities = summary.value("entities", Json::array());
  std::string html =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>sluice run " +
      Escape(Text(run, "run_id")) + "</title>" + kStyle + "</head><body>";
  html += "<h1>Run " + Escape(Text(run, "run_id")) + " of " + Escape(Text(run, "plan_name")) + " " +
          Badge(Text(run, "status")) + "</h1>";
  html += "<table><tr><th>started</th><td>" + Time(run.value("started_ms", int64_t{0})) +
          "</td></tr><tr><th>ended</th><td>" + Time(run.value("ended_ms", int64_t{0})) +
          "</td></tr><tr><th>duration</th><td>" + Escape(Text(summary, "seconds")) +
          " s</td></tr><tr><th>environment</th><td>" + Escape(Text(run, "environment")) +
          "</td></tr><tr><th>conservation</th><td>" + Escape(Text(summary, "conservation")) +
          "</td></tr>";
  if (!Text(run, "halt_reason").empty()) {
    html += "<tr class=\"differs\"><th>halt reason</th><td>" + Escape(Text(run, "halt_reason")) +
            "</td></tr>";
  }
  html += "</table>";
  html += "<h2>Records by source</h2>" + FlowChart(entities) + FlowTable(entities);
  for (const Json& wave : report["waves"]) {
    html += "<h2>Wave " + Escape(Text(wave, "name")) + " (" + Escape(Text(wave, "status")) +
            ")</h2><h3>Rejections and reviews by rule</h3>" +
            FailuresTable(wave["failures_by_rule"]);
    const Json& recon = wave["reconciliation"];
    html += "<h3>Reconciliation ";
    if (!recon.is_object()) {
      html += "</h3><p>No reconciliation report was written for this wave.</p>";
      continue;
    }
    html += Badge(Text(recon, "verdict")) + "</h3>";
    for (const Json& e : recon.value("entities", Json::array())) html += EntityReconciliation(e);
  }
  return html + "</body></html>\n";
}

}  // namespace sluice::cli
