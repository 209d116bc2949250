#include "cli/error_log.h"

#include <cstdio>
#include <map>
#include <tuple>

#include "cli/csv_writer.h"

namespace sluice::cli {
namespace {

const char* Severity(v1::FateKind k) {
  switch (k) {
    case v1::FATE_REJECTED:
      return "error";
    case v1::FATE_REVIEW:
      return "review";
    case v1::FATE_WARNING:
      return "warning";
    case v1::FATE_DELETED_AT_SOURCE:
      return "deleted";
    default:
      return "?";
  }
}

std::string SeverityOfKind(const std::string& kind) {
  if (kind == "rejected") return "error";
  return kind;  // review, warning
}

// Deletions at the source (issue 18) are listed unless --rule names
// another rule: theirs are "report" and "propagate", or "deleted_at_source".
bool ListsDeletions(const ErrorFilter& filter) {
  return filter.rule.empty() || filter.rule == "deleted_at_source" || filter.rule == "report" ||
         filter.rule == "propagate";
}

std::string Shorten(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 3) + "...";
}

}  // namespace

Result<uint64_t> WriteErrorsCsv(AuditStore& audit, const std::string& run_id,
                                const ErrorFilter& filter, std::ostream& out) {
  WriteCsvRow(out, {"run", "wave", "entity", "source", "key", "line", "stage", "rule", "field",
                    "value", "severity", "reason", "suggestion", "batch"});
  uint64_t n = 0;
  SLUICE_RETURN_IF_ERROR(
      audit.ForEachError(run_id, filter.rule, filter.entity, [&](const FateRow& row) {
        const v1::Fate& f = row.fate;
        WriteCsvRow(out, {row.run_id, std::to_string(row.wave), row.entity, f.source(), f.key(),
                          std::to_string(f.line()), f.stage(), f.rule(), f.field(), f.value(),
                          Severity(f.kind()), f.reason(), f.suggestion(), row.batch});
        ++n;
      }));
  // Issue 18: the keys found deleted at the source, after the failures.
  if (!ListsDeletions(filter)) return n;
  SLUICE_RETURN_IF_ERROR(audit.ForEachDeletion(run_id, filter.entity, [&](const FateRow& row) {
    const v1::Fate& f = row.fate;
    WriteCsvRow(out, {row.run_id, std::to_string(row.wave), row.entity, f.source(), f.key(), "0",
                      f.stage(), f.rule(), "", "", Severity(f.kind()), f.reason(), "", row.batch});
    ++n;
  }));
  return n;
}

Result<uint64_t> WriteErrorsText(AuditStore& audit, const std::string& run_id,
                                 const ErrorFilter& filter, std::ostream& out) {
  char line[1024];
  std::snprintf(line, sizeof line, "%-10s %-24s %-8s %-22s %-16s %-20s %s\n", "entity", "record",
                "severity", "rule", "field", "value", "reason / suggestion");
  out << line;
  uint64_t n = 0;
  SLUICE_RETURN_IF_ERROR(
      audit.ForEachError(run_id, filter.rule, filter.entity, [&](const FateRow& row) {
        const v1::Fate& f = row.fate;
        std::string record = f.source() + ":" + f.key();
        std::string why = f.reason();
        if (!f.suggestion().empty()) why += " (suggested: " + f.suggestion() + ")";
        std::snprintf(line, sizeof line, "%-10s %-24s %-8s %-22s %-16s %-20s %s\n",
                      row.entity.c_str(), Shorten(record, 24).c_str(), Severity(f.kind()),
                      Shorten(f.rule(), 22).c_str(), Shorten(f.field(), 16).c_str(),
                      Shorten(f.value(), 20).c_str(), why.c_str());
        out << line;
        ++n;
      }));
  if (!ListsDeletions(filter)) return n;
  SLUICE_RETURN_IF_ERROR(audit.ForEachDeletion(run_id, filter.entity, [&](const FateRow& row) {
    const v1::Fate& f = row.fate;
    const std::string record = f.source() + ":" + f.key();
    std::snprintf(line, sizeof line, "%-10s %-24s %-8s %-22s %-16s %-20s %s\n", row.entity.c_str(),
                  Shorten(record, 24).c_str(), Severity(f.kind()), Shorten(f.rule(), 22).c_str(),
                  "", "", f.reason().c_str());
    out << line;
    ++n;
  }));
  return n;
}

Status WriteErrorTrend(AuditStore& audit, const std::string& plan_name, std::ostream& out) {
  SLUICE_ASSIGN_OR_RETURN(auto runs, audit.Runs());
  std::vector<RunRecord> mine;
  for (auto& r : runs) {
    if (r.plan_name == plan_name) mine.push_back(std::move(r));
  }
  if (mine.empty()) return Status::NotFound("no runs of plan " + plan_name);
  using RuleKey = std::tuple<std::string, std::string, std::string>;  // entity, rule, severity
  std::map<RuleKey, std::vector<uint64_t>> counts;
  for (size_t i = 0; i < mine.size(); ++i) {
    SLUICE_ASSIGN_OR_RETURN(auto per_rule, audit.ErrorCounts(mine[i].run_id));
    for (const auto& c : per_rule) {
      auto& v = counts[{c.entity, c.rule, SeverityOfKind(c.kind)}];
      v.resize(mine.size(), 0);
      v[i] = c.count;
    }
  }
  out << "failures per rule across the " << mine.size() << " run(s) of plan " << plan_name
      << ", oldest first\n";
  for (size_t i = 0; i < mine.size(); ++i) {
    out << "  #" << i + 1 << " " << mine[i].run_id << " (" << mine[i].status << ")\n";
  }
  char line[512];
  std::snprintf(line, sizeof line, "%-10s %-24s %-8s", "entity", "rule", "severity");
  out << line;
  for (size_t i = 0; i < mine.size(); ++i) {
    std::snprintf(line, sizeof line, " %9s", ("#" + std::to_string(i + 1)).c_str());
    out << line;
  }
  out << "  trend\n";
  for (auto& [key, v] : counts) {
    v.resize(mine.size(), 0);
    const auto& [entity, rule, severity] = key;
    std::snprintf(line, sizeof line, "%-10s %-24s %-8s", entity.c_str(), Shorten(rule, 24).c_str(),
                  severity.c_str());
    out << line;
    for (uint64_t n : v) {
      std::snprintf(line, sizeof line, " %9llu", static_cast<unsigned long long>(n));
      out << line;
    }
    const char* trend = "first run";
    if (v.size() >= 2) {
      uint64_t last = v[v.size() - 1], before = v[v.size() - 2];
      trend = last < before ? "better" : last > before ? "worse" : "same";
    }
    out << "  " << trend << "\n";
  }
  return Status::Ok();
}

}  // namespace sluice::cli
