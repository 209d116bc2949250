#include "cli/trace_record.h"

#include <cstdio>

namespace sluice::cli {
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
    case v1::FATE_DELETED_AT_SOURCE:
      return "DELETED AT SOURCE";
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

// The transformer's value changes of `key` in extraction batch `batch`
// (issue 4): "    changed:   field: 'before' -> 'after' (rule)".
void AppendLineage(AuditStore& audit, const std::string& run, const std::string& batch,
                   const std::string& key, std::string* out) {
  auto changes = audit.LineageOf(run, batch, key);
  if (!changes.ok()) {
    *out += "    changed:   (lineage unreadable: " + changes.status().message() + ")\n";
    return;
  }
  auto show = [](const std::optional<std::string>& v) { return v ? "'" + *v + "'" : "NULL"; };
  for (const LineageChange& c : *changes) {
    *out += "    changed:   " + c.field + ": " + show(c.before) + " -> " + show(c.after) + " (" +
            c.rule + ")\n";
  }
}

// The dedup decisions on pairs that name the record in run `run` (issue 5):
// the other record, rule or score with each comparison, band and outcome.
void AppendMatchDecisions(const std::vector<MatchDecisionRow>& rows, const std::string& run,
                          const std::string& source, const std::string& key, std::string* out) {
  for (const MatchDecisionRow& row : rows) {
    if (row.run_id != run) continue;
    const v1::MatchDecision& d = row.decision;
    const bool first = d.a_source() == source && d.a_key() == key;
    const std::string other =
        first ? d.b_source() + ":" + d.b_key() : d.a_source() + ":" + d.a_key();
    char score[48] = "";
    if (d.scored()) std::snprintf(score, sizeof score, ", weight %+.2f", d.score());
    *out += "  MATCH DECISION with " + other + ": " + d.band() + " by " + d.rule() + score + "\n";
    for (const v1::MatchComparison& c : d.comparisons()) {
      char w[32];
      std::snprintf(w, sizeof w, "%+.2f", c.weight());
      *out += "    " + c.name() + ": " + c.label() + " " + w + "\n";
    }
    if (!d.scored() && !d.detail().empty()) *out += "    criteria:  " + d.detail() + "\n";
    if (!d.cluster().empty()) {
      *out +=
          "    cluster:   " + d.cluster() + " (" + std::to_string(d.cluster_size()) + " records)\n";
    }
    *out += "    outcome:   " + d.outcome() + "\n";
    if (!d.survivor_key().empty()) {
      *out += "    survivor:  " + d.survivor_source() + ":" + d.survivor_key() + "\n";
    }
  }
}

// The provenance of the golden record of survivor (source, key) built in
// run `run` (issue 14): each field, the member it came from and the
// strategy. `only_from`, when not empty ("crm:7"), keeps the fields that
// member gave (the trace of a merged record).
void AppendGolden(const std::vector<GoldenRecordRow>& rows, const std::string& run,
                  const std::string& only_from, std::string* out) {
  for (const GoldenRecordRow& row : rows) {
    if (row.run_id != run) continue;
    const v1::GoldenRecord& g = row.record;
    std::string lines;
    for (const v1::GoldenField& f : g.fields()) {
      const std::string member = f.member_source() + ":" + f.member_key();
      if (!only_from.empty() && member != only_from) continue;
      std::string line = "    " + f.field() + " <- " + member + " (" + f.strategy();
      if (!f.note().empty()) line += "; " + f.note();
      lines += line + ")\n";
    }
    if (lines.empty()) continue;
    *out += only_from.empty()
                ? "  GOLDEN RECORD (each field, the member it came from, the strategy)\n"
                : "    in the golden record of " + g.source() + ":" + g.key() + ":\n";
    *out += lines;
  }
}

// The row a record merged in run `run` lives in: its survivor's LOADED fate
// in that run, following survivors that were merged in turn; or why there
// is none.
std::string SurvivorRow(AuditStore& audit, const std::string& entity, const std::string& run,
                        std::string source, std::string key) {
  for (int hops = 0; hops < 32; ++hops) {
    auto fates = audit.FatesOf(entity, source, key);
    if (!fates.ok()) return "unknown (" + fates.status().message() + ")";
    const v1::Fate* terminal = nullptr;
    for (const FateRow& row : *fates) {
      if (row.run_id == run && row.fate.kind() != v1::FATE_WARNING) terminal = &row.fate;
    }
    const std::string who = source + ":" + key;
    if (terminal == nullptr) return "none: " + who + " has no fate in the run";
    switch (terminal->kind()) {
      case v1::FATE_LOADED:
        return "target id " + std::to_string(terminal->target_id()) + " (" + who + ")";
      case v1::FATE_MERGED:
        source = terminal->survivor_source();
        key = terminal->survivor_key();
        continue;
      default:
        return "none: " + who + " was " +
               (terminal->kind() == v1::FATE_REVIEW ? "held for review" : "rejected") + " by " +
               terminal->rule();
    }
  }
  return "none: the survivor chain loops";
}

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

std::string Listed(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::string NoFateAdvice(const KeyHints& hints, const std::string& entity,
                         const std::string& source, const std::string& key) {
  if (!hints.entities.empty()) {
    return "  the store has no fate of entity " + Quoted(entity) +
           "; its entities: " + Listed(hints.entities) + "\n";
  }
  if (!hints.sources.empty()) {
    return "  the store has no fate of " + entity + " from source " + Quoted(source) + "; " +
           entity + "'s sources: " + Listed(hints.sources) + "\n";
  }
  std::string out;
  for (const KeyLookalike& k : hints.lookalikes) {
    if (k.key == key) return "";  // the store holds it (in another run than the one asked)
    out += "  did you mean " + source + ":" + k.key + "? (" + k.kind + " in " + k.run_id;
    if (!k.by_number) {
      out += "; the same key but for case or surrounding spaces)\n";
    } else if (k.target_id == 0 || std::to_string(k.target_id) != key) {
      out += "; read at source line/row " + std::to_string(k.line) + ")\n";
    } else {
      out += "; " + key + " is its target id, not its source key)\n";
    }
  }
  if (hints.before || hints.after) {
    out += "  the keys of " + entity + " from " + source + " either side of " + Quoted(key) +
           " in the store: " + (hints.before ? Quoted(*hints.before) : "none (it sorts first)") +
           " and " + (hints.after ? Quoted(*hints.after) : "none (it sorts last)") + "\n";
  }
  out += "  KEY is the record's key in source " + source +
         " (the column the plan's source names as its key), exactly as the source holds it: "
         "case and spaces count, so quote SOURCE:KEY in the shell when the key has spaces\n";
  return out;
}

Result<std::string> TraceRecord(AuditStore& audit, const std::string& entity,
                                const std::string& source, const std::string& key,
                                const std::string& only_run) {
  SLUICE_ASSIGN_OR_RETURN(auto rows, audit.FatesOf(entity, source, key));
  std::string runs;  // the runs it has fates in, when not in `only_run`
  for (const FateRow& row : rows) {
    if (runs.find(row.run_id) == std::string::npos) runs += (runs.empty() ? "" : ", ") + row.run_id;
  }
  if (!only_run.empty()) {
    std::erase_if(rows, [&](const FateRow& row) { return row.run_id != only_run; });
  }
  if (rows.empty()) {
    return Status::NotFound("no recorded fate for " + entity + " " + source + ":" + key +
                            (only_run.empty()
                                 ? ""
                                 : " in run " + only_run +
                                       (runs.empty() ? ""
                                                     : "; it has fates in " + runs +
                                                           " (leave out --run to see them all)")));
  }
  std::string out = entity + " " + source + ":" + key + "\n";
  auto decisions = audit.MatchDecisionsOf(entity, source, key);
  auto retired = audit.RetiredRowsOf(entity, source, key);  // issue 23
  std::string run;
  for (const auto& row : rows) {
    if (row.run_id != run) {
      run = row.run_id;
      out += "\nrun " + run + "\n";
      if (decisions.ok()) AppendMatchDecisions(*decisions, run, source, key, &out);
      if (auto golden = audit.GoldenRecordsOf(entity, source, key); golden.ok()) {
        AppendGolden(*golden, run, "", &out);
      }
      for (const auto& r : retired.ok() ? *retired : std::vector<AuditStore::RetiredRowRecord>{}) {
        if (r.run_id == run) out += "  row retired: " + r.reason + "\n";
      }
    }
    const v1::Fate& f = row.fate;
    out += std::string("  ") + KindName(f.kind()) + " at " + f.stage();
    if (f.line()) out += " (source line/row " + std::to_string(f.line()) + ")";
    out += "\n";
    if (!f.rule().empty()) out += "    rule:      " + f.rule() + "\n";
    if (!f.field().empty()) out += "    field:     " + f.field() + "\n";
    // A loaded child's value names the parents' rows its references point at.
    if (!f.value().empty()) {
      out += std::string(f.kind() == v1::FATE_LOADED ? "    parents:   " : "    value:     ") +
             f.value() + "\n";
    }
    if (!f.reason().empty()) out += "    reason:    " + f.reason() + "\n";
    if (!f.suggestion().empty()) out += "    suggested: " + f.suggestion() + "\n";
    if (f.kind() == v1::FATE_MERGED) {
      out += "    survivor:  " + f.survivor_source() + ":" + f.survivor_key() + "\n";
      out += "    lives in:  " +
             SurvivorRow(audit, entity, row.run_id, f.survivor_source(), f.survivor_key()) + "\n";
      auto golden = audit.GoldenRecordsOf(entity, f.survivor_source(), f.survivor_key());
      if (golden.ok()) AppendGolden(*golden, row.run_id, source + ":" + key, &out);
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
        AppendLineage(audit, row.run_id, ex->at("batch"), key, &out);
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

}  // namespace sluice::cli
