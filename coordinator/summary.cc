#include <cstdio>
#include <nlohmann/json.hpp>

#include "coordinator/run_controller.h"

namespace sluice {

namespace {

// "holds" or "BROKEN" over the entities that finished; "not reached" for
// those a halt stopped (their figures are what they reached), and when
// nothing finished.
std::string ConservationText(const RunSummary& s) {
  uint64_t extracted = 0, accounted = 0;
  std::string unfinished;
  size_t finished = 0;
  for (const auto& r : s.rows) {
    if (!r.finished) {
      unfinished += (unfinished.empty() ? "" : ", ") + r.entity + "/" + r.source;
      continue;
    }
    ++finished;
    extracted += r.extracted;
    accounted += r.merged + r.rejected + r.review + r.loaded;
  }
  if (finished == 0) return "not reached (no entity finished)";
  std::string text = extracted == accounted ? "holds" : "BROKEN";
  if (!unfinished.empty()) {
    text += " for the entities that finished; not reached for " + unfinished +
            " (stopped before it finished: the figures are those reached)";
  }
  return text;
}

// Issue 18: per source of a delta run, the mark it was extracted above, the
// rows left out, the residents read by key and the keys found deleted at the
// source; "" when none.
std::string DeltaText(const RunSummary& s) {
  std::string out;
  for (const auto& r : s.rows) {
    if (r.mark.empty() && r.skipped == 0 && r.deleted == 0 && r.residents == 0) continue;
    // Residents (issue 18 item 3): read by key, besides the changed rows.
    const std::string residents =
        r.residents == 0 ? ""
                         : " (" + std::to_string(r.extracted - r.residents) + " changed, " +
                               std::to_string(r.residents) + " residents of their blocks)";
    out += "delta " + r.entity + "/" + r.source + ": " +
           (r.mark.empty() ? std::string("read whole") : "above " + r.mark) + ", " +
           std::to_string(r.extracted) + " extracted" + residents + ", " +
           std::to_string(r.skipped) + " skipped, " + std::to_string(r.deleted) +
           " deleted at the source\n";
  }
  return out;
}

}  // namespace

std::string SummaryText(const RunSummary& s) {
  std::string out;
  char line[512];
  std::snprintf(
      line, sizeof line, "run %s: %s in %.1fs%s\n", s.run_id.c_str(),
      s.status == "completed"    ? "COMPLETED"
      : s.status == "superseded" ? "SUPERSEDED"
                                 : "HALTED",
      s.seconds,
      s.restarts ? (" (" + std::to_string(s.restarts) + " worker restart(s))").c_str() : "");
  out += line;
  if (s.generation > 1) {
    out += "continued after its coordinator died (coordinator " + std::to_string(s.generation) +
           " of the run)\n";
  }
  if (!s.halt_reason.empty()) out += "halt reason: " + s.halt_reason + "\n";
  out += "\n";
  std::snprintf(line, sizeof line, "%-14s %-10s %10s %8s %9s %7s %9s %9s %8s %10s  %s\n", "entity",
                "source", "extracted", "merged", "rejected", "review", "loaded", "inserted",
                "updated", "unchanged", "reconciled");
  out += line;
  uint64_t tot[8] = {0};
  for (const auto& r : s.rows) {
    std::snprintf(
        line, sizeof line, "%-14s %-10s %10llu %8llu %9llu %7llu %9llu %9llu %8llu %10llu  %s%s\n",
        r.entity.c_str(), r.source.c_str(), (unsigned long long)r.extracted,
        (unsigned long long)r.merged, (unsigned long long)r.rejected, (unsigned long long)r.review,
        (unsigned long long)r.loaded, (unsigned long long)r.inserted, (unsigned long long)r.updated,
        (unsigned long long)r.unchanged, r.reconciled ? "yes" : "no",
        r.finished ? "" : " (not finished)");
    out += line;
    uint64_t v[8] = {r.extracted, r.merged,   r.rejected, r.review,
                     r.loaded,    r.inserted, r.updated,  r.unchanged};
    for (int i = 0; i < 8; ++i) tot[i] += v[i];
  }
  std::snprintf(line, sizeof line,
                "%-14s %-10s %10llu %8llu %9llu %7llu %9llu %9llu %8llu %10llu\n", "total", "",
                (unsigned long long)tot[0], (unsigned long long)tot[1], (unsigned long long)tot[2],
                (unsigned long long)tot[3], (unsigned long long)tot[4], (unsigned long long)tot[5],
                (unsigned long long)tot[6], (unsigned long long)tot[7]);
  out += line;
  out += "\nconservation: extracted = merged + rejected + review + loaded: " + ConservationText(s) +
         "\n";
  if (!s.waves_reconciled.empty() || !s.waves_not_reconciled.empty()) {
    auto list = [](const std::vector<std::string>& names) {
      std::string t;
      for (const auto& n : names) t += (t.empty() ? "" : ", ") + n;
      return t.empty() ? std::string("none") : t;
    };
    out += "waves reconciled: " + list(s.waves_reconciled) +
           "; not reconciled: " + list(s.waves_not_reconciled) + "\n";
  }
  if (s.status == "completed" && tot[5] == 0 && tot[6] == 0 && tot[4] > 0) {
    out += "target already up to date: nothing inserted or updated\n";
  }
  out += DeltaText(s);
  std::string ri;
  for (const auto& r : s.rows) {
    if (r.ri_check == "n/a" || ri.find(" " + r.entity + ": ") != std::string::npos) continue;
    ri += std::string(ri.empty() ? "" : ";") + " " + r.entity + ": " + r.ri_check + " (" +
          std::to_string(r.unresolved_references) + " unresolved)";
  }
  if (!ri.empty()) out += "ri_check:" + ri + "\n";
  std::string survivors;
  for (const auto& r : s.rows) {
    if (r.survivor_check == "n/a") continue;
    survivors += std::string(survivors.empty() ? "" : ";") + " " + r.entity + "/" + r.source +
                 ": " + r.survivor_check + " (" + std::to_string(r.unresolved_survivors) + " of " +
                 std::to_string(r.merged) + " merged reach no row)";
  }
  if (!survivors.empty()) out += "survivor_check:" + survivors + "\n";
  for (const auto& r : s.reconciliation) out += "reconciliation " + r + "\n";
  for (const auto& r : s.reports) out += "report: " + r + "\n";
  return out;
}

std::string SummaryJson(const RunSummary& s) {
  nlohmann::json j;
  j["run_id"] = s.run_id;
  j["status"] = s.status;
  j["halt_reason"] =
      s.halt_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.halt_reason);
  j["seconds"] = s.seconds;
  j["restarts"] = s.restarts;
  j["generation"] = s.generation;
  j["reports"] = s.reports;
  j["conservation"] = ConservationText(s);
  j["waves_reconciled"] = s.waves_reconciled;
  j["waves_not_reconciled"] = s.waves_not_reconciled;
  j["entities"] = nlohmann::json::array();
  for (const auto& r : s.rows) {
    j["entities"].push_back({{"entity", r.entity},
                             {"source", r.source},
                             {"wave", r.wave},
                             {"extracted", r.extracted},
                             {"merged", r.merged},
                             {"rejected", r.rejected},
                             {"review", r.review},
                             {"loaded", r.loaded},
                             {"inserted", r.inserted},
                             {"updated", r.updated},
                             {"unchanged", r.unchanged},
                             {"reconciled", r.reconciled},
                             {"finished", r.finished},
                             {"ri_check", r.ri_check},
                             {"unresolved_references", r.unresolved_references},
                             {"survivor_check", r.survivor_check},
                             {"unresolved_survivors", r.unresolved_survivors},
                             {"mark", r.mark},
                             {"skipped", r.skipped},
                             {"deleted_at_source", r.deleted},
                             {"residents", r.residents}});
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sluice
