// The run report (issue 17, docs/reconciliation.md#the-run-report): one
// document per run gathered from the audit store and the wave reports the
// coordinator wrote, as JSON and as one self-contained HTML page (inline SVG,
// no script, nothing fetched).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/audit/audit_store.h"
#include "common/core/status.h"

namespace sluice::cli {

// The run's record and summary, and per wave its outcome, its failures by
// rule (with examples) and its reconciliation report
// (`state_dir`/reports/RUN/wave-N.json, null when none was written).
// NotFound for an unknown run.
Result<nlohmann::json> CollectRunReport(AuditStore& audit, const std::string& state_dir,
                                        const std::string& run_id);

// The page of a CollectRunReport document.
std::string RunReportHtml(const nlohmann::json& report);

// Writes the page of `run_id` to `path` (default, when empty:
// `state_dir`/reports/RUN/report.html), opening the audit store of
// `state_dir` read-only; returns the path written.
Result<std::string> WriteRunReportHtml(const std::string& state_dir, const std::string& run_id,
                                       std::string path = "");

}  // namespace sluice::cli
