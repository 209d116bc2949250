// Starts and restarts local worker processes for `sluice run --local`.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/core/status.h"

namespace sluice {

struct LaunchSpec {
  std::string role;
  uint32_t ordinal = 0;
  std::string coordinator;  // control endpoint
  std::string bind;         // data endpoint to reuse, "" for a fresh one
  std::string log_path;     // the worker's stderr goes here
  std::string log_level = "info";
  // Sealed runs: the worker's CURVE secret key and the coordinator's public
  // key (Z85), put in its environment (readable by its user only), never in
  // a file or on its command line.
  std::string curve_secret_key;
  std::string coordinator_key;
};

class Launcher {
 public:
  // `bin_dir` holds the sluice-<role> executables.
  explicit Launcher(std::string bin_dir) : bin_dir_(std::move(bin_dir)) {}
  ~Launcher();

  // Starts a worker; it dies with the coordinator (PR_SET_PDEATHSIG).
  Result<pid_t> Start(const LaunchSpec& spec);
  // Reaps exited children without blocking: identity -> exit description.
  std::vector<std::pair<std::string, std::string>> Reap();
  // Asks every child to stop, then kills what is left after `grace_ms`.
  void StopAll(int grace_ms);
  // The folder of the running executable (for finding the workers).
  static std::string SelfDir();
  // Children reaped by StopAll, with how they ended and their CPU time.
  const std::vector<std::pair<std::string, std::string>>& exited() const { return exited_; }

 private:
  std::string bin_dir_;
  std::map<pid_t, std::string> children_;  // pid -> identity
  std::vector<std::pair<std::string, std::string>> exited_;
};

}  // namespace sluice
