#include "cli/run_report.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "coordinator/failures_json.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

nlohmann::json ReadJsonFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  return doc.is_discarded() ? nlohmann::json(nullptr) : doc;
}

// An entity's dedup figures: pairs per band, the weight histogram as
// [floor, pairs] with the thresholds, clusters as [size, count].
nlohmann::json DedupJson(const DedupFigures& f) {
  const v1::MatchSummary& s = f.summary;
  nlohmann::json bins = nlohmann::json::array(), clusters = nlohmann::json::array();
  for (const v1::WeightBin& b : s.weight_bins()) bins.push_back({b.floor(), b.pairs()});
  for (const auto& [size, n] : f.clusters_by_size) clusters.push_back({size, n});
  nlohmann::json j = {{"entity", f.entity},
                      {"comparisons", s.comparisons()},
                      {"merge_pairs", s.merge_pairs()},
                      {"review_pairs", s.review_pairs()},
                      {"distinct_pairs", s.distinct_pairs()},
                      {"weight_bins", bins},
                      {"clusters_by_size", clusters},
                      {"held_for_review", f.held_for_review}};
  if (!bins.empty()) {
    j["merge_threshold"] = s.merge_threshold();
    j["review_threshold"] = s.review_threshold();
  }
  return j;
}

}  // namespace

Result<nlohmann::json> CollectRunReport(AuditStore& audit, const std::string& state_dir,
                                        const std::string& run_id) {
  SLUICE_ASSIGN_OR_RETURN(RunRecord run, audit.Run(run_id));
  nlohmann::json doc;
  doc["run"] = {{"run_id", run.run_id},           {"plan_name", run.plan_name},
                {"environment", run.environment}, {"status", run.status},
                {"halt_reason", run.halt_reason}, {"started_ms", run.started_ms},
                {"ended_ms", run.ended_ms},       {"model_hash", run.model_hash}};
  nlohmann::json summary =
      nlohmann::json::parse(run.summary_json, nullptr, /*allow_exceptions=*/false);
  doc["summary"] = summary.is_discarded() ? nlohmann::json::object() : summary;
  doc["waves"] = nlohmann::json::array();
  SLUICE_ASSIGN_OR_RETURN(auto waves, audit.Waves(run_id));
  const fs::path reports = fs::path(state_dir) / "reports" / run_id;
  for (const auto& [index, wave] : waves) {
    nlohmann::json failures = coordination::FailuresByRuleJson(audit, run_id, index);
    SLUICE_ASSIGN_OR_RETURN(std::vector<DedupFigures> figures, audit.DedupFiguresOf(run_id, index));
    nlohmann::json dedup = nlohmann::json::array();
    for (const DedupFigures& f : figures) dedup.push_back(DedupJson(f));
    doc["waves"].push_back(
        {{"wave", index},
         {"name", wave.first},
         {"status", wave.second},
         {"failures_by_rule", failures},
         {"dedup", dedup},
         {"reconciliation", ReadJsonFile(reports / ("wave-" + std::to_string(index) + ".json"))}});
  }
  return doc;
}

Result<std::string> WriteRunReportHtml(const std::string& state_dir, const std::string& run_id,
                                       std::string path) {
  SLUICE_ASSIGN_OR_RETURN(auto audit,
                          AuditStore::Open((fs::path(state_dir) / "audit.db").string(), true));
  SLUICE_ASSIGN_OR_RETURN(nlohmann::json doc, CollectRunReport(*audit, state_dir, run_id));
  if (path.empty()) {
    const fs::path dir = fs::path(state_dir) / "reports" / run_id;
    std::error_code ec;
    fs::create_directories(dir, ec);
    path = (dir / "report.html").string();
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << RunReportHtml(doc);
  out.close();
  if (!out) return Status::IoError("cannot write " + path);
  return path;
}

}  // namespace sluice::cli
