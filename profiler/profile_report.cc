// The three renderings of a PlanProfile: JSON, text and a self-contained
// HTML page (inline CSS, inline SVG bars, no scripts, no external files).
#include <cstdio>

#include "common/core/html_text.h"
#include "profiler/profile.h"

namespace sluice {
namespace {

std::string Fixed(double v, int digits = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

nlohmann::json Counts(const std::vector<ValueCount>& values) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& [v, c] : values) a.push_back({{"value", v}, {"count", c}});
  return a;
}

std::string Html(std::string_view s) { return HtmlText(s); }

// A horizontal bar of `percent` (0-100), as inline SVG.
std::string Bar(double percent, const char* color, int width = 160) {
  const int w = static_cast<int>(percent / 100.0 * width + 0.5);
  return "<svg width=\"" + std::to_string(width) + "\" height=\"12\" role=\"img\"><rect width=\"" +
         std::to_string(width) + "\" height=\"12\" fill=\"#eee\"/><rect width=\"" +
         std::to_string(w) + "\" height=\"12\" fill=\"" + color + "\"/></svg>";
}

std::string DateNote(const DateOrderEvidence& d) {
  const std::string verdict = d.Verdict();
  if (verdict.empty()) return "";
  return verdict + " (day-first " + std::to_string(d.day_first) + ", month-first " +
         std::to_string(d.month_first) + ", ambiguous " + std::to_string(d.ambiguous) + ")";
}

}  // namespace

nlohmann::json ProfileJson(const PlanProfile& p) {
  nlohmann::json j;
  j["plan"] = p.plan;
  j["rows"] = p.rows;
  j["seconds"] = p.seconds;
  j["rows_per_s"] = p.seconds > 0 ? static_cast<double>(p.rows) / p.seconds : 0;
  j["sources"] = nlohmann::json::array();
  for (const SourceProfile& s : p.sources) {
    nlohmann::json js = {
        {"name", s.name}, {"kind", s.kind}, {"rows", s.rows}, {"rejected_rows", s.rejected_rows}};
    js["fields"] = nlohmann::json::array();
    for (const FieldProfile& f : s.fields) {
      nlohmann::json jf = {{"name", f.name},
                           {"inferred_type", f.inferred_type},
                           {"non_empty", f.non_empty},
                           {"completeness", f.completeness},
                           {"distinct", f.distinct},
                           {"distinct_exact", f.distinct_exact},
                           {"top", Counts(f.top)},
                           {"shapes", Counts(f.shapes)},
                           {"min", f.min},
                           {"max", f.max},
                           {"min_length", f.min_length},
                           {"max_length", f.max_length},
                           {"avg_length", f.avg_length}};
      if (f.numeric) {
        jf["numeric_min"] = f.numeric_min;
        jf["numeric_max"] = f.numeric_max;
      }
      if (!f.dates.Verdict().empty()) {
        jf["date_order"] = {{"verdict", f.dates.Verdict()},
                            {"day_first", f.dates.day_first},
                            {"month_first", f.dates.month_first},
                            {"ambiguous", f.dates.ambiguous}};
      }
      js["fields"].push_back(jf);
    }
    js["unmapped"] = nlohmann::json::array();
    for (const UnmappedValues& u : s.unmapped) {
      js["unmapped"].push_back({{"entity", u.entity},
                                {"field", u.field},
                                {"column", u.column},
                                {"map", u.map},
                                {"records", u.total},
                                {"values", Counts(u.values)}});
    }
    j["sources"].push_back(js);
  }
  j["duplicates"] = nlohmann::json::array();
  for (const DuplicateEstimate& d : p.duplicates) {
    j["duplicates"].push_back({{"entity", d.entity},
                               {"key", d.key_fields},
                               {"records", d.records},
                               {"duplicates", d.duplicates},
                               {"missing_key", d.missing_key}});
  }
  j["orphans"] = nlohmann::json::array();
  for (const OrphanReferences& o : p.orphans) {
    j["orphans"].push_back({{"entity", o.entity},
                            {"field", o.field},
                            {"parent", o.parent},
                            {"source", o.source},
                            {"references", o.references},
                            {"orphans", o.orphans},
                            {"samples", o.samples}});
  }
  return j;
}

std::string ProfileText(const PlanProfile& p) {
  std::string out = "profile of plan " + p.plan + ": " + std::to_string(p.rows) + " rows in " +
                    Fixed(p.seconds, 2) + "s\n";
  for (const SourceProfile& s : p.sources) {
    out += "\nsource " + s.name + " (" + s.kind + "): " + std::to_string(s.rows) + " rows";
    if (s.rejected_rows) out += ", " + std::to_string(s.rejected_rows) + " malformed rows";
    out += "\n";
    char line[512];
    std::snprintf(line, sizeof line, "  %-20s %-9s %9s %10s  %-8s  %s\n", "field", "type",
                  "complete", "distinct", "lengths", "top values / shapes");
    out += line;
    for (const FieldProfile& f : s.fields) {
      std::string top;
      for (size_t i = 0; i < f.top.size() && i < 3; ++i) {
        top += (i ? ", " : "") + f.top[i].first + " (" + std::to_string(f.top[i].second) + ")";
      }
      std::string shapes;
      for (size_t i = 0; i < f.shapes.size() && i < 2; ++i) {
        shapes += (i ? ", " : "") + f.shapes[i].first;
      }
      const std::string distinct = (f.distinct_exact ? "" : "~") + std::to_string(f.distinct);
      const std::string lengths = std::to_string(f.min_length) + "-" + std::to_string(f.max_length);
      std::snprintf(line, sizeof line, "  %-20s %-9s %8s%% %10s  %-8s  %s | %s\n", f.name.c_str(),
                    f.inferred_type.c_str(), Fixed(f.completeness).c_str(), distinct.c_str(),
                    lengths.c_str(), top.c_str(), shapes.c_str());
      out += line;
      if (!f.dates.Verdict().empty()) out += "      dates: " + DateNote(f.dates) + "\n";
    }
    for (const UnmappedValues& u : s.unmapped) {
      if (u.total == 0) continue;
      out += "  unmapped in " + u.entity + "." + u.field + " (column " + u.column + ", map " +
             u.map + "): " + std::to_string(u.total) + " records:";
      for (size_t i = 0; i < u.values.size() && i < 10; ++i) {
        out += " " + u.values[i].first + " (" + std::to_string(u.values[i].second) + ")";
      }
      out += "\n";
    }
  }
  for (const DuplicateEstimate& d : p.duplicates) {
    std::string key;
    for (const auto& k : d.key_fields) key += (key.empty() ? "" : "+") + k;
    out += "\nduplicates of " + d.entity + " on " + key + ": " + std::to_string(d.duplicates) +
           " of " + std::to_string(d.records) + " records would merge";
    if (d.missing_key) out += " (" + std::to_string(d.missing_key) + " without a key)";
    out += "\n";
  }
  for (const OrphanReferences& o : p.orphans) {
    out += "orphans of " + o.entity + "." + o.field + " -> " + o.parent + " (source " + o.source +
           "): " + std::to_string(o.orphans) + " of " + std::to_string(o.references);
    for (const auto& s : o.samples) out += " " + s;
    out += "\n";
  }
  return out;
}

// Issue 17: what needs attention before a run, at the top of the page: each
// item names the source and field to look at.
namespace {
std::string ProblemsHtml(const PlanProfile& p) {
  std::vector<std::string> items;
  for (const SourceProfile& s : p.sources) {
    if (s.rejected_rows) {
      items.push_back("Source <b>" + Html(s.name) + "</b>: " + std::to_string(s.rejected_rows) +
                      " malformed rows");
    }
    for (const FieldProfile& f : s.fields) {
      const std::string verdict = f.dates.Verdict();
      if (!verdict.empty() && verdict != "day-first" && verdict != "month-first") {
        items.push_back("<b>" + Html(s.name + "." + f.name) + "</b>: " + Html(DateNote(f.dates)));
      }
    }
    for (const UnmappedValues& u : s.unmapped) {
      if (u.total == 0) continue;
      items.push_back("<b>" + Html(u.entity + "." + u.field) + "</b> (source " + Html(s.name) +
                      ", column <code>" + Html(u.column) + "</code>): " + std::to_string(u.total) +
                      " records with a value map " + Html(u.map) + " lacks");
    }
  }
  for (const DuplicateEstimate& d : p.duplicates) {
    if (d.missing_key) {
      items.push_back("<b>" + Html(d.entity) + "</b>: " + std::to_string(d.missing_key) +
                      " records without a dedup key");
    }
  }
  for (const OrphanReferences& o : p.orphans) {
    if (o.orphans == 0) continue;
    items.push_back("<b>" + Html(o.entity + "." + o.field) + "</b> from " + Html(o.source) + ": " +
                    std::to_string(o.orphans) + " of " + std::to_string(o.references) +
                    " references have no " + Html(o.parent));
  }
  std::string h = "<h2 id=\"problems\">Problems</h2>\n";
  if (items.empty()) return h + "<p>None found.</p>\n";
  h += "<ul class=\"warn\">";
  for (const std::string& item : items) h += "<li>" + item + "</li>";
  return h + "</ul>\n";
}
}  // namespace

std::string ProfileHtml(const PlanProfile& p) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>sluice profile: " +
      Html(p.plan) +
      "</title><style>"
      "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
      "table{border-collapse:collapse;margin:1em 0}"
      "th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}"
      "th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}"
      "code{background:#f6f6f6;padding:0 3px}.warn{color:#a40}.small{font-size:12px;color:#555}"
      "</style></head><body>\n";
  h += "<h1>Profile of plan " + Html(p.plan) + "</h1><p>" + std::to_string(p.rows) +
       " rows read in " + Fixed(p.seconds, 2) + " s.</p>\n";
  h += ProblemsHtml(p);
  for (const SourceProfile& s : p.sources) {
    h += "<h2>Source " + Html(s.name) + " <span class=\"small\">(" + Html(s.kind) + ", " +
         std::to_string(s.rows) + " rows";
    if (s.rejected_rows) h += ", " + std::to_string(s.rejected_rows) + " malformed";
    h += ")</span></h2>\n<table><tr><th>field</th><th>type</th><th>completeness</th>"
         "<th>distinct</th><th>lengths</th><th>min / max</th><th>shapes</th>"
         "<th>top values</th></tr>\n";
    for (const FieldProfile& f : s.fields) {
      h += "<tr><td><b>" + Html(f.name) + "</b></td><td>" + Html(f.inferred_type);
      if (!f.dates.Verdict().empty()) {
        const bool bad = f.dates.Verdict() != "day-first" && f.dates.Verdict() != "month-first";
        h += std::string("<br><span class=\"") + (bad ? "warn" : "small") + "\">" +
             Html(DateNote(f.dates)) + "</span>";
      }
      h += "</td><td>" + Bar(f.completeness, f.completeness < 90 ? "#d9822b" : "#2b8a3e") + " " +
           Fixed(f.completeness) + "%</td><td class=\"n\">" + (f.distinct_exact ? "" : "~") +
           std::to_string(f.distinct) + "</td><td class=\"n\">" + std::to_string(f.min_length) +
           "-" + std::to_string(f.max_length) + " (avg " + Fixed(f.avg_length) + ")</td><td>";
      if (f.numeric) {
        h += Html(Number(f.numeric_min)) + " / " + Html(Number(f.numeric_max));
      } else {
        h += "<code>" + Html(f.min.substr(0, 40)) + "</code> / <code>" + Html(f.max.substr(0, 40)) +
             "</code>";
      }
      h += "</td><td>";
      for (size_t i = 0; i < f.shapes.size() && i < 3; ++i) {
        h += "<code>" + Html(f.shapes[i].first) + "</code> " + std::to_string(f.shapes[i].second) +
             "<br>";
      }
      h += "</td><td>";
      const uint64_t most = f.top.empty() ? 1 : f.top.front().second;
      for (const auto& [value, count] : f.top) {
        h += Bar(100.0 * static_cast<double>(count) / static_cast<double>(most), "#4263eb", 80) +
             " <code>" + Html(value.substr(0, 40)) + "</code> " + std::to_string(count) + "<br>";
      }
      h += "</td></tr>\n";
    }
    h += "</table>\n";
    for (const UnmappedValues& u : s.unmapped) {
      h += "<p><b>Value map of " + Html(u.entity + "." + u.field) + "</b> (column <code>" +
           Html(u.column) + "</code>, map " + Html(u.map) + "): ";
      if (u.total == 0) {
        h += "every value is covered.</p>\n";
        continue;
      }
      h += "<span class=\"warn\">" + std::to_string(u.total) +
           " records have a value the map lacks</span>:";
      for (const auto& [value, count] : u.values) {
        h += " <code>" + Html(value) + "</code>&nbsp;" + std::to_string(count);
      }
      h += "</p>\n";
    }
  }
  if (!p.duplicates.empty() || !p.orphans.empty()) h += "<h2>Across sources</h2>\n<ul>";
  for (const DuplicateEstimate& d : p.duplicates) {
    std::string key;
    for (const auto& k : d.key_fields) key += (key.empty() ? "" : "+") + k;
    h += "<li>Duplicates of <b>" + Html(d.entity) + "</b> on <code>" + Html(key) +
         "</code>: " + std::to_string(d.duplicates) + " of " + std::to_string(d.records) +
         " records would merge";
    if (d.missing_key) h += " (" + std::to_string(d.missing_key) + " without a key)";
    h += "</li>\n";
  }
  for (const OrphanReferences& o : p.orphans) {
    h += "<li>References <b>" + Html(o.entity + "." + o.field) + "</b> &rarr; " + Html(o.parent) +
         " from " + Html(o.source) + ": <span class=\"" + (o.orphans ? "warn" : "small") + "\">" +
         std::to_string(o.orphans) + " of " + std::to_string(o.references) +
         " have no parent</span>";
    for (const auto& s : o.samples) h += " <code>" + Html(s) + "</code>";
    h += "</li>\n";
  }
  if (!p.duplicates.empty() || !p.orphans.empty()) h += "</ul>\n";
  h += "</body></html>\n";
  return h;
}

}  // namespace sluice
