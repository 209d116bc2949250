#include "cli/review_csv.h"

#include <map>
#include <nlohmann/json.hpp>

#include "cli/csv_writer.h"
#include "cli/review_file.h"

namespace sluice::cli {
namespace {

const std::vector<std::string>& Columns() {
  static const std::vector<std::string> kColumns = {
      "kind",        "run",          "wave",         "entity",   "source",
      "key",         "other_source", "other_key",    "cluster",  "score",
      "stage",       "rule",         "field",        "value",    "reasons",
      "suggestion",  "record",       "other_record", "decision", "corrected_value",
      "corrections", "steward",      "note"};
  return kColumns;
}

std::string RecordKey(const std::string& entity, const std::string& source,
                      const std::string& key) {
  return entity + '\x1f' + source + '\x1f' + key;
}

std::string PairKey(const std::string& entity, std::string s1, std::string k1, std::string s2,
                    std::string k2) {
  if (std::tie(s2, k2) < std::tie(s1, k1)) {
    std::swap(s1, s2);
    std::swap(k1, k2);
  }
  return entity + '\x1f' + s1 + '\x1f' + k1 + '\x1f' + s2 + '\x1f' + k2;
}

std::string ScoreText(double score) {
  if (score == 0) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", score);
  return buf;
}

}  // namespace

Result<uint64_t> ExportReview(AuditStore& audit, const std::string& run_id,
                              const std::string& plan_name, std::ostream& out) {
  SLUICE_ASSIGN_OR_RETURN(v1::ReviewDecisions decisions, audit.ReviewDecisionsOf(plan_name));
  std::map<std::string, const v1::RecordDecision*> records;
  for (const auto& d : decisions.records())
    records[RecordKey(d.entity(), d.source(), d.key())] = &d;
  std::map<std::string, const v1::PairDecision*> pairs;
  for (const auto& d : decisions.pairs()) {
    pairs[PairKey(d.entity(), d.source(), d.key(), d.other_source(), d.other_key())] = &d;
  }
  WriteCsvRow(out, Columns());
  uint64_t n = 0;
  SLUICE_RETURN_IF_ERROR(audit.ForEachReviewItem(run_id, [&](const ReviewItemRow& row) {
    const v1::ReviewItem& it = row.item;
    std::string decision, corrected, corrections, steward, note;
    if (it.kind() == "record") {
      auto d = records.find(RecordKey(it.entity(), it.source(), it.key()));
      if (d != records.end()) {
        decision = d->second->decision();
        steward = d->second->steward();
        note = d->second->note();
        nlohmann::json others = nlohmann::json::object();
        for (const auto& c : d->second->corrections()) {
          if (c.field() == it.field() && !c.null()) {
            corrected = c.value();
          } else {
            others[c.field()] = c.null() ? nlohmann::json(nullptr) : nlohmann::json(c.value());
          }
        }
        if (!others.empty()) corrections = others.dump();
      }
    } else {
      auto d = pairs.find(
          PairKey(it.entity(), it.source(), it.key(), it.other_source(), it.other_key()));
      if (d != pairs.end()) {
        decision = d->second->decision();
        steward = d->second->steward();
        note = d->second->note();
      }
    }
    WriteCsvRow(out, {it.kind(),
                      row.run_id,
                      std::to_string(row.wave),
                      it.entity(),
                      it.source(),
                      it.key(),
                      it.other_source(),
                      it.other_key(),
                      it.cluster(),
                      ScoreText(it.score()),
                      it.stage(),
                      it.rule(),
                      it.field(),
                      it.value(),
                      it.reasons(),
                      it.suggestion(),
                      it.record_json(),
                      it.other_record_json(),
                      decision,
                      corrected,
                      corrections,
                      steward,
                      note});
    ++n;
  }));
  return n;
}

Result<ReviewImportSummary> ImportReview(AuditStore& audit, const Plan& plan,
                                         const std::string& csv_path, int64_t now_ms) {
  SLUICE_ASSIGN_OR_RETURN(ReviewFileDecisions file, ReadReviewDecisions(plan, csv_path, now_ms));
  for (const auto& d : file.records) SLUICE_RETURN_IF_ERROR(audit.SaveRecordDecision(plan.name, d));
  for (const auto& d : file.pairs) SLUICE_RETURN_IF_ERROR(audit.SavePairDecision(plan.name, d));
  ReviewImportSummary summary;
  summary.records = file.records.size();
  summary.pairs = file.pairs.size();
  summary.open = file.open;
  return summary;
}

}  // namespace sluice::cli
