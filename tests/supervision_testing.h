// What the supervision tests share (tests/supervision_test.cc,
// tests/remote_supervision_test.cc): the small quickstart plan, the outcome
// of a run to compare with a clean run's, processes in the background, and
// `sluice status`, `runs` and `resume` as an operator types them.
#pragma once

#include <sys/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/harness.h"

namespace sluice::testing {

// BinDir()/sluice ARGS.
std::string Sluice(const std::string& args);

// The quickstart (one wave, hcp from a CSV and a SQLite source, dedup and
// validation) in batches of 50, so that a run is many batches long.
void PrepareSmall(const std::string& dir, int crm_rows = 1500, int erp_rows = 1000);

// What a run leaves behind that must not depend on how it got there: every
// loaded row with its source key, every cross-reference entry with the row
// it points at, and every recorded fate of `run_id` (target ids excluded).
std::string Outcome(const std::string& dir, const std::string& run_id);

// A process started in the background with its stdout and stderr in files.
struct Background {
  pid_t pid = -1;
  std::string out_path, err_path;
};
// Starts `command` through sh, its output in DIR/NAME.out and DIR/NAME.err.
Background Start(const std::string& command, const std::string& dir,
                 const std::string& name = "bg");
// Waits for it; its exit code, 128 + N when signal N ended it.
int Wait(const Background& b);
// The last line of `text` parsed as JSON (null when it is none).
nlohmann::json LastJson(const std::string& text);
// Waits for the background run to end; its JSON summary (the last stdout
// line) with its exit code added as "exit_code".
nlohmann::json Ended(const Background& run);
// The run ended halted (exit 3) with `reason` in its halt reason.
void ExpectHalted(const Background& run, const nlohmann::json& summary, const std::string& reason);

// Records extracted, ingested and loaded of a `sluice status --json`.
uint64_t Work(const nlohmann::json& status);
// `sluice status --json` of the dir's running run until `done` says so;
// the statuses seen, for at most `seconds`.
std::vector<nlohmann::json> Watch(const std::string& dir,
                                  const std::function<bool(const nlohmann::json&)>& done,
                                  int seconds = 120);
// The latest run of DIR/state.
std::string RunIdOf(const std::string& dir);
// The status `sluice runs` shows for the run.
std::string ShownStatus(const std::string& dir, const std::string& run_id);
// `sluice resume RUN --quiet --json` of the run in `dir`, with `extra`.
CommandResult Resume(const std::string& dir, const std::string& run_id,
                     const std::string& extra = "");
// The clean run's outcome for a fresh copy of the small plan.
std::string CleanOutcome(const std::string& name);

}  // namespace sluice::testing
