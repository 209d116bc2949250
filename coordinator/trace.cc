#include "coordinator/trace.h"

#include <cstdio>

namespace sluice {
namespace {

const char* KindName(v1::FateKind k) {
  switch (k) {
    case v1::FATE_LOADED:
      return "LOADED";
    case v1::FATE_MERGED:
      return "MERGED";
    case v1::FATE_REJECTED:
      return "REJECTED";
    case v1::FATE_REVIEW:
      return "HELD FOR REVIEW";
    case v1::FATE_WARNING:
      return "WARNING";
    default:
      return "?";
  }
}

// A checksum stored as a signed SQLite integer, shown as 16 hex digits.
std::string Hex(const std::string& signed_text) {
  char hex[20];
  std::snprintf(
      hex, sizeof hex, "%016llx",
      static_cast<unsigned long long>(std::stoll(signed_text.empty() ? "0" : signed_text)));
  return hex;
}

}  // namespace

Result<std::string> TraceRecord(AuditStore& audit, const std::string& entity,
                                const std::string& source, const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto rows, audit.FatesOf(entity, source, key));
  if (rows.empty()) {
    return Status::NotFound("no recorded fate for " + entity + " " + source + ":" + key);
  }
  std::string out = entity + " " + source + ":" + key + "\n";
  std::string run;
  for (const auto& row : rows) {
    if (row.run_id != run) {
      run = row.run_id;
      out += "\nrun " + run + "\n";
    }
    const v1::Fate& f = row.fate;
    out += std::string("  ") + KindName(f.kind()) + " at " + f.stage();
    if (f.line()) out += " (source line/row " + std::to_string(f.line()) + ")";
    out += "\n";
    if (!f.rule().empty()) out += "    rule:      " + f.rule() + "\n";
    if (!f.field().empty()) out += "    field:     " + f.field() + "\n";
    if (!f.value().empty()) out += "    value:     " + f.value() + "\n";
    if (!f.reason().empty()) out += "    reason:    " + f.reason() + "\n";
    if (!f.suggestion().empty()) out += "    suggested: " + f.suggestion() + "\n";
    if (f.kind() == v1::FATE_MERGED) {
      out += "    survivor:  " + f.survivor_source() + ":" + f.survivor_key() + "\n";
    }
    if (f.kind() == v1::FATE_LOADED) {
      char hash[32];
      std::snprintf(hash, sizeof hash, "%016llx",
                    static_cast<unsigned long long>(f.content_hash()));
      out += "    target id: " + std::to_string(f.target_id()) + ", content hash " + hash + "\n";
    }
    if (f.line() > 0) {
      // Where the record was born: the extraction batch that read its line.
      auto ex = audit.ExtractionBatchOf(row.run_id, row.entity, f.source(), f.line());
      if (ex.ok() && !ex->empty()) {
        out += "    extracted: batch " + ex->at("batch") + " (from line/row " +
               ex->at("first_line") + ", " + ex->at("n_in") + " rows read, key checksum " +
               Hex(ex->at("in_checksum")) + ")\n";
      }
    }
    out += "    decided:   batch " + row.batch + "\n";
    auto commits = audit.BatchCommits(row.run_id, row.batch);
    if (commits.ok()) {
      for (const auto& c : *commits) {
        out += "      " + c.at("stage") + ": in " + c.at("n_in") + ", out " + c.at("n_out") +
               ", out key checksum " + Hex(c.at("out_checksum")) + "\n";
      }
    }
  }
  return out;
}

}  // namespace sluice
