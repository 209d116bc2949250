#include "tests/supervision_testing.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

namespace sluice::testing {

std::string Sluice(const std::string& args) { return BinDir() + "/sluice " + args; }

// The quickstart (one wave, hcp from a CSV and a SQLite source, dedup and
// validation) in batches of 50, so that a run is many batches long.
void PrepareSmall(const std::string& dir, int crm_rows, int erp_rows) {
  PrepareQuickstart(dir, crm_rows, erp_rows, "batch_size: 50\n");
}

// What a run leaves behind that must not depend on how it got there: every
// loaded row with its source key, every cross-reference entry with the row
// it points at, and every recorded fate of `run_id` (target ids excluded:
// they depend on the load order).
std::string Outcome(const std::string& dir, const std::string& run_id) {
  const std::string target = dir + "/out/target.db";
  std::string all = TargetDigest(target) + "\n";
  // Each entry with the (source, key) of the row it points at (a merged
  // record: its survivor's), joined here: the table has no index for it.
  std::map<std::string, std::string> row_of;  // entity|target_id -> source|key
  const auto xref = Query(target,
                          "SELECT entity || '|' || target_id, source || '|' || key, kind FROM "
                          "sluice_xref ORDER BY entity, source, key");
  for (const auto& r : xref) {
    const size_t a = r.find('|', r.find('|') + 1), b = r.rfind('|');
    if (r.substr(b + 1) == "loaded") row_of[r.substr(0, a)] = r.substr(a + 1, b - a - 1);
  }
  for (const auto& r : xref) {
    const size_t a = r.find('|', r.find('|') + 1);
    all += "xref|" + r.substr(a + 1) + "|" + row_of[r.substr(0, a)] + "\n";
  }
  for (const auto& r : Query(dir + "/state/audit.db",
                             "SELECT entity, source, key, kind, stage, rule, survivor_source, "
                             "survivor_key FROM all_fates WHERE run_id = '" +
                                 run_id + "' ORDER BY 1, 2, 3, 4, 5, 6")) {
    all += "fate|" + r + "\n";
  }
  return all;
}

Background Start(const std::string& command, const std::string& dir, const std::string& name) {
  Background b;
  b.out_path = dir + "/" + name + ".out";
  b.err_path = dir + "/" + name + ".err";
  b.pid = fork();
  if (b.pid == 0) {
    const std::string full = "exec " + command + " >" + b.out_path + " 2>" + b.err_path;
    execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return b;
}

// Waits for it; its exit code, 128 + N when signal N ended it.
int Wait(const Background& b) {
  int status = 0;
  waitpid(b.pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

nlohmann::json LastJson(const std::string& text) {
  auto end = text.find_last_not_of('\n');
  if (end == std::string::npos) return nullptr;
  auto start = text.rfind('\n', end);
  return nlohmann::json::parse(text.substr(start == std::string::npos ? 0 : start + 1), nullptr,
                               false);
}

// Waits for the background run to end; its JSON summary (the last stdout
// line) with its exit code added as "exit_code".
nlohmann::json Ended(const Background& run) {
  const int code = Wait(run);
  nlohmann::json summary = LastJson(ReadFile(run.out_path));
  if (!summary.is_object()) summary = nlohmann::json::object();
  summary["exit_code"] = code;
  return summary;
}

// The run ended halted (exit 3) with `reason` in its halt reason.
void ExpectHalted(const Background& run, const nlohmann::json& summary, const std::string& reason) {
  ASSERT_EQ(summary["exit_code"], 3) << ReadFile(run.out_path) << ReadFile(run.err_path);
  ASSERT_EQ(summary["status"], "halted");
  EXPECT_NE(summary["halt_reason"].get<std::string>().find(reason), std::string::npos)
      << summary["halt_reason"];
}

uint64_t Work(const nlohmann::json& status) {
  uint64_t n = 0;
  for (const auto& e : status["entities"]) {
    n += e["extracted"].get<uint64_t>() + e["ingested"].get<uint64_t>() +
         e["loaded"].get<uint64_t>();
  }
  return n;
}

// `sluice status --json` of the dir's running run until `done` says so;
// the statuses seen, at most `seconds` of them.
std::vector<nlohmann::json> Watch(const std::string& dir,
                                  const std::function<bool(const nlohmann::json&)>& done,
                                  int seconds) {
  std::vector<nlohmann::json> seen;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    auto s = Shell(Sluice("status --json --state-dir " + dir + "/state"));
    if (s.exit_code == 0 && s.json.is_object()) {
      seen.push_back(s.json);
      if (done(s.json)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return seen;
}

std::string RunIdOf(const std::string& dir) {
  auto rows = Query(dir + "/state/audit.db", "SELECT run_id FROM runs ORDER BY started_ms DESC");
  return rows.empty() ? "" : rows.front();
}

std::string ShownStatus(const std::string& dir, const std::string& run_id) {
  auto runs = Shell(Sluice("runs --state-dir " + dir + "/state"));
  for (size_t at = runs.out.find(run_id); at != std::string::npos;) {
    const size_t eol = runs.out.find('\n', at);
    const std::string line = runs.out.substr(at, eol - at);
    // The status column comes first; a halt reason may name another word.
    std::string shown = "?";
    size_t first = std::string::npos;
    for (const char* s : {"interrupted", "running", "halted", "completed", "resumed"}) {
      const size_t pos = line.find(std::string(" ") + s + " ");
      if (pos < first) first = pos, shown = s;
    }
    return shown;
  }
  return "?";
}

// `sluice resume RUN` of the run in `dir`.
CommandResult Resume(const std::string& dir, const std::string& run_id, const std::string& extra) {
  return Shell(
      Sluice("resume " + run_id + " --quiet --json --state-dir " + dir + "/state " + extra));
}

// The clean run's outcome for a fresh copy of the small plan.
std::string CleanOutcome(const std::string& name) {
  ScratchDir clean(name);
  PrepareSmall(clean.path());
  auto r = RunPlan(clean.path(), "--quiet");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return Outcome(clean.path(), r.json["run_id"]);
}

}  // namespace sluice::testing
