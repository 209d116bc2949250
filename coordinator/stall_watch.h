// Whether a worker is at work while no batch moves. A single deduper
// resolving a million records, or a reconciler comparing a large entity,
// sends no commit for minutes; its heartbeats carry its process's CPU time
// (Heartbeat.busy_ms), and a worker whose CPU time grows is at work, not
// stuck. The coordinator's stall timeout (--stall-timeout) counts from the
// last batch that moved or the last heartbeat of a worker at work, so it
// halts a run where nothing moves and nobody works (a deadlock, a worker
// waiting for what will not come), not a long step. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace sluice::coordination {

class StallWatch {
 public:
  // `heartbeat`: how often workers heartbeat (WorkerOptions::heartbeat).
  explicit StallWatch(std::chrono::milliseconds heartbeat) : heartbeat_(heartbeat) {}

  // A heartbeat of `identity` with the CPU time of its process. True when
  // that time grew since its previous heartbeat by at least a tenth of the
  // heartbeat interval (an idle worker polls for well under a hundredth);
  // a new process (its time smaller) starts afresh.
  bool AtWork(const std::string& identity, uint64_t busy_ms);

 private:
  std::chrono::milliseconds heartbeat_;
  std::map<std::string, uint64_t> last_;
};

}  // namespace sluice::coordination
