// The run report's page: plain HTML, inline CSS and inline SVG charts, no
// script and nothing fetched, so that it opens anywhere and can be archived
// with the run (issue 17).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "cli/report_page.h"
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

// The run's duration as "12.34" (the summary's "seconds"), "-" when absent.
std::string Seconds(const Json& summary) {
  if (!summary.is_object() || !summary.contains("seconds") || !summary["seconds"].is_number()) {
    return "-";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", summary["seconds"].get<double>());
  return buf;
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

// One entity of a wave's reconciliation: its verdict, differences, sums and segments.
std::string EntityReconciliation(const Json& e) {
  std::string html = "<h4>" + Escape(Text(e, "entity")) + " " +
                     ReportBadge(e.value("passed", false) ? "PASS" : "FAIL") + "</h4><p>" +
                     std::to_string(Count(e, "matched_rows")) + " of " +
                     std::to_string(Count(e, "expected_rows")) + " rows matched, " +
                     std::to_string(Count(e, "difference_count")) +
                     " differences; reference check " + ReportBadge(Text(e, "ri_check")) + " (" +
                     std::to_string(Count(e, "unresolved_references")) + " unresolved of " +
                     std::to_string(Count(e, "references")) + "); survivor check " +
                     ReportBadge(Text(e, "survivor_check")) + "</p>";
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

// Vertical bars of `bins` ([x, count] pairs, x ascending), labelled with
// their x; `mark` draws the vertical threshold lines at x positions.
struct Mark {
  double x;
  const char* label;
  const char* color;
};
std::string Bars(const char* id, const Json& bins, const char* color,
                 const std::vector<Mark>& marks, const char* x_label) {
  if (!bins.is_array() || bins.empty()) return "";
  double lo = bins.front()[0].get<double>(), hi = bins.back()[0].get<double>() + 1;
  for (const Mark& m : marks) {
    lo = std::min(lo, std::floor(m.x));
    hi = std::max(hi, std::floor(m.x) + 1);
  }
  uint64_t most = 1;
  for (const Json& b : bins) most = std::max(most, b[1].get<uint64_t>());
  const double left = 50, width = 640, top = 16, height = 160;
  const double step = width / (hi - lo);
  auto x_of = [&](double x) { return left + (x - lo) * step; };
  char buf[320];
  std::string svg = std::string("<svg class=\"chart\" id=\"") + id +
                    "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"220\" "
                    "role=\"img\">";
  for (const Json& b : bins) {
    const double x = b[0].get<double>();
    const uint64_t n = b[1].get<uint64_t>();
    // Square-root scale: the distinct pairs far outnumber the matches.
    const double h = height * std::sqrt(static_cast<double>(n) / most);
    // A bar at most 40 px wide, in the middle of its unit; its count above.
    const double w = std::clamp(step - 2, 1.0, 40.0), at = x_of(x) + (step - w) / 2;
    std::snprintf(buf, sizeof buf,
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                  "<title>%g: %llu</title></rect>",
                  at, top + height - h, w, std::max(h, 1.0), color, x,
                  static_cast<unsigned long long>(n));
    svg += buf;
    if (step >= 24) {
      std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\">%llu</text>", at,
                    top + height - h - 3, static_cast<unsigned long long>(n));
      svg += buf;
    }
  }
  const int every = std::max(1, static_cast<int>(std::ceil((hi - lo) / 16)));
  for (int x = static_cast<int>(lo); x < hi; x += every) {
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\">%d</text>",
                  x_of(x) + std::max(1.0, (step - 8) / 2), top + height + 16, x);
    svg += buf;
  }
  for (const Mark& m : marks) {
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                  "stroke-width=\"2\" stroke-dasharray=\"5,3\"/><text x=\"%.1f\" y=\"%.1f\" "
                  "fill=\"%s\">%s %g</text>",
                  x_of(m.x), x_of(m.x), top - 4, top + height, m.color, x_of(m.x) + 3, top + 6,
                  m.color, m.label, m.x);
    svg += buf;
  }
  std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"214\">%s</text>", left, x_label);
  return svg + buf + "</svg>";
}

// Per entity: pairs by band, clusters by size and the histogram of match
// weights with the merge and review thresholds drawn on it.
std::string DedupSection(const Json& dedup) {
  if (!dedup.is_array() || dedup.empty()) return "";
  std::string html = "<h3>Deduplication</h3>";
  for (const Json& e : dedup) {
    html += "<h4>" + Escape(Text(e, "entity")) + "</h4>";
    if (Count(e, "comparisons") == 0) {
      // Exact-key dedup (or nothing blocked together): no pair was scored.
      html += "<p>No pairs scored (exact-key dedup); " +
              std::to_string(Count(e, "held_for_review")) + " records held for review.</p>";
    } else {
      html +=
          "<table><tr><th>pairs compared</th><th>merge</th><th>review</th><th>distinct</th>"
          "<th>records held for review</th></tr><tr>";
      for (const char* k :
           {"comparisons", "merge_pairs", "review_pairs", "distinct_pairs", "held_for_review"}) {
        html += "<td class=\"n\">" + std::to_string(Count(e, k)) + "</td>";
      }
      html += "</tr></table>";
    }
    const Json clusters = e.value("clusters_by_size", Json::array());
    if (clusters.is_array() && !clusters.empty()) {
      html +=
          "<p class=\"note\">Clusters by size (records per cluster; a record merged into no "
          "other is not counted):</p>" +
          Bars("clusters", clusters, "#1565c0", {}, "records in the cluster");
    }
    const Json bins = e.value("weight_bins", Json::array());
    if (bins.is_array() && !bins.empty()) {
      const double merge = e.value("merge_threshold", 0.0);
      const double review = e.value("review_threshold", merge);
      std::vector<Mark> marks = {{merge, "merge", "#2e7d32"}};
      if (review < merge) marks.push_back({review, "review", "#ef6c00"});
      html +=
          "<p class=\"note\">Match weight (log2 of the odds) of every scored pair, "
          "square-root scale:</p>" +
          Bars("weights", bins, "#607d8b", marks, "match weight");
    }
  }
  return html;
}

}  // namespace

std::string RunReportHtml(const Json& report) {
  const Json& run = report["run"];
  const Json& summary = report.value("summary", Json::object());
  const Json entities = summary.value("entities", Json::array());
  std::string html =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>sluice run " +
      Escape(Text(run, "run_id")) + "</title>" + kReportStyle + "</head><body>";
  html += "<h1>Run " + Escape(Text(run, "run_id")) + " of " + Escape(Text(run, "plan_name")) + " " +
          ReportBadge(Text(run, "status")) + "</h1>";
  html += "<table><tr><th>started</th><td>" + ReportTime(run.value("started_ms", int64_t{0})) +
          "</td></tr><tr><th>ended</th><td>" + ReportTime(run.value("ended_ms", int64_t{0})) +
          "</td></tr><tr><th>duration</th><td>" + Seconds(summary) +
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
            FailuresTable(wave["failures_by_rule"]) +
            DedupSection(wave.value("dedup", Json::array()));
    const Json& recon = wave["reconciliation"];
    html += "<h3>Reconciliation ";
    if (!recon.is_object()) {
      html += "</h3><p>No reconciliation report was written for this wave.</p>";
      continue;
    }
    html += ReportBadge(Text(recon, "verdict")) + "</h3>";
    for (const Json& e : recon.value("entities", Json::array())) html += EntityReconciliation(e);
  }
  return html + "</body></html>\n";
}

}  // namespace sluice::cli
