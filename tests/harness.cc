#include "tests/harness.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "common/audit/sqlite_util.h"
#include "common/core/hash.h"

namespace sluice::testing {

CommandResult Shell(const std::string& command) {
  CommandResult r;
  // One file per call: tests run commands from several threads at once.
  static std::atomic<int> calls{0};
  std::string err_path =
      std::filesystem::temp_directory_path() / ("sluice-stderr-" + std::to_string(getpid()) + "-" +
                                                std::to_string(calls.fetch_add(1)) + ".txt");
  std::string full = command + " 2>" + err_path;
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 8192> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = ReadFile(err_path);
  std::filesystem::remove(err_path);
  auto end = r.out.find_last_not_of('\n');
  if (end != std::string::npos) {
    auto start = r.out.rfind('\n', end);
    std::string last = r.out.substr(start == std::string::npos ? 0 : start + 1, end - start);
    r.json = nlohmann::json::parse(last, nullptr, /*allow_exceptions=*/false);
  }
  return r;
}

ScratchDir::ScratchDir(const std::string& name) {
  std::random_device rd;
  path_ =
      (std::filesystem::temp_directory_path() /
       ("sluice-" + name + "-" + std::to_string(getpid()) + "-" + std::to_string(rd() % 100000)))
          .string();
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  if (std::getenv("SLUICE_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

std::string BinDir() { return SLUICE_BIN_DIR; }
std::string SourceDir() { return SLUICE_SOURCE_DIR; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

void PrepareQuickstart(const std::string& dir, int crm_rows, int erp_rows,
                       const std::string& plan_prefix) {
  std::string q = SourceDir() + "/examples/quickstart/";
  WriteFile(dir + "/plan.yaml", plan_prefix + ReadFile(q + "plan.yaml"));
  WriteFile(dir + "/model.yaml", ReadFile(q + "model.yaml"));
  auto gen = Shell(BinDir() + "/sluice-sample quickstart --out " + dir + "/data --crm-rows " +
                   std::to_string(crm_rows) + " --erp-rows " + std::to_string(erp_rows));
  // gtest reports an exception thrown by a test body as a failure.
  if (gen.exit_code != 0) throw std::runtime_error("sluice-sample failed: " + gen.err);
}

void PrepareConsolidation(const std::string& dir,
                          const std::vector<std::pair<std::string, std::string>>& replace) {
  const std::string ex = SourceDir() + "/examples/consolidation/";
  std::string plan = ReadFile(ex + "plan.yaml");
  for (const auto& [from, to] : replace) {
    auto at = plan.find(from);
    if (at == std::string::npos) throw std::runtime_error("plan has no '" + from + "'");
    plan.replace(at, from.size(), to);
  }
  WriteFile(dir + "/plan.yaml", plan);
  WriteFile(dir + "/model.yaml", ReadFile(ex + "model.yaml"));
  for (const char* f : {"fr.csv", "eu.jsonl", "eu_calls.jsonl", "us.sql"}) {
    WriteFile(dir + "/data/" + f, ReadFile(ex + "data/" + f));
  }
  auto built = Shell("sqlite3 " + dir + "/data/us.db < " + dir + "/data/us.sql");
  if (built.exit_code != 0) throw std::runtime_error("sqlite3 failed: " + built.err);
}

std::map<std::pair<std::string, std::string>, nlohmann::json> Rows(const nlohmann::json& s) {
  std::map<std::pair<std::string, std::string>, nlohmann::json> out;
  for (const auto& e : s["entities"]) out[{e["entity"], e["source"]}] = e;
  return out;
}

std::string TargetId(const std::string& db, const std::string& entity, const std::string& source,
                     const std::string& key) {
  auto rows = Query(db, "SELECT target_id FROM sluice_xref WHERE entity = '" + entity +
                            "' AND source = '" + source + "' AND key = '" + key + "'");
  return rows.empty() ? "" : rows[0];
}

std::string HcpRefOf(const std::string& db, const std::string& source, const std::string& key) {
  auto rows = Query(db,
                    "SELECT i.hcp_ref FROM interaction i JOIN sluice_xref x ON x.entity = "
                    "'interaction' AND x.target_id = i.sluice_id WHERE x.source = '" +
                        source + "' AND x.key = '" + key + "'");
  return rows.empty() ? "" : rows[0];
}

CommandResult RunPlan(const std::string& dir, const std::string& extra) {
  return Shell(BinDir() + "/sluice run " + dir + "/plan.yaml --local --json --state-dir " + dir +
               "/state " + extra);
}

std::vector<std::string> Query(const std::string& db, const std::string& sql) {
  std::vector<std::string> rows;
  auto conn = SqliteDb::Open(db, /*readonly=*/true);
  if (!conn.ok()) return rows;
  auto st = (*conn)->Prepare(sql);
  if (!st.ok()) return rows;
  for (;;) {
    auto more = st->Step();
    if (!more.ok() || !*more) break;
    std::string row;
    for (int c = 0; c < st->ColumnCount(); ++c) {
      if (c) row += "|";
      row += st->ColumnIsNull(c) ? "NULL" : std::string(st->ColumnText(c));
    }
    rows.push_back(row);
  }
  return rows;
}

std::string TargetDigest(const std::string& db) {
  auto cols = Query(db, "SELECT name FROM pragma_table_info('hcp') WHERE name != 'sluice_id'");
  std::string select;
  for (const auto& c : cols) select += ", h." + c;
  auto rows = Query(db, "SELECT x.source, x.key" + select +
                            " FROM sluice_xref x JOIN hcp h ON h.sluice_id = x.target_id "
                            "WHERE x.kind = 'loaded' ORDER BY x.source, x.key");
  std::string all;
  for (const auto& r : rows) all += r + "\n";
  char hex[32];
  std::snprintf(hex, sizeof hex, "%zu rows, %016llx", rows.size(),
                static_cast<unsigned long long>(Hash64(all)));
  return hex;
}

uint64_t Sum(const nlohmann::json& summary, const char* field) {
  uint64_t total = 0;
  for (const auto& e : summary["entities"]) total += e[field].get<uint64_t>();
  return total;
}

}  // namespace sluice::testing
