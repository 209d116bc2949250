// Test harness for the integration tests: a scratch folder with a copy of a
// plan and its data, the real `sluice` binary, and readers for its output.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace sluice::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;      // stdout
  std::string err;      // stderr
  nlohmann::json json;  // the last stdout line, when it parses
};

// Runs `command` through the shell, capturing stdout and stderr.
CommandResult Shell(const std::string& command);

// A fresh folder under the system temp dir, removed on destruction unless
// SLUICE_KEEP_TEST_DIRS is set.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name);
  ~ScratchDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

std::string BinDir();
std::string SourceDir();
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& text);

// Copies examples/quickstart/{plan,model}.yaml into `dir` (with `plan_prefix`
// put in front of the plan text) and generates its data with sluice-sample.
void PrepareQuickstart(const std::string& dir, int crm_rows, int erp_rows,
                       const std::string& plan_prefix = "");

// Copies examples/consolidation's plan (with `replace` applied: each
// (from, to) once), model and data into `dir` and builds its SQLite database
// from data/us.sql.
void PrepareConsolidation(const std::string& dir,
                          const std::vector<std::pair<std::string, std::string>>& replace = {});

// The total of `field` ("extracted", "loaded", ...) over the entities of a
// run's JSON summary.
uint64_t Sum(const nlohmann::json& summary, const char* field);

// (entity, source) -> the row of a run's JSON summary.
std::map<std::pair<std::string, std::string>, nlohmann::json> Rows(const nlohmann::json& summary);

// The target id the cross-reference of `db` gives (entity, source, key); ""
// when it has none.
std::string TargetId(const std::string& db, const std::string& entity, const std::string& source,
                     const std::string& key);

// examples/consolidation: the hcp_ref stored for interaction (source, key).
std::string HcpRefOf(const std::string& db, const std::string& source, const std::string& key);

// `sluice run PLAN --local --json --state-dir DIR/state` plus `extra`.
CommandResult RunPlan(const std::string& dir, const std::string& extra = "");

// Rows of a query on a SQLite file, each row's columns joined by '|'.
std::vector<std::string> Query(const std::string& db, const std::string& sql);
// A digest of the target's content: every loaded row's values with its
// source key, in key order (target ids excluded, they depend on load order).
std::string TargetDigest(const std::string& db);

}  // namespace sluice::testing
