// Whether a run's coordinator is still there (issue 15; docs/operations.md):
// a run recorded `running` whose coordinator died with kill -9, a power cut
// or a second Ctrl-C is shown `interrupted`, never `running` forever.
//
// The coordinator records its host, pid and the pid's start time, and beats
// every second (CoordinatorRecord, audit_store.h). Seen from its own host,
// it is alive while that process exists; from anywhere, it is gone once its
// heartbeat is older than `stale_ms`.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/audit/audit_store.h"

namespace sluice {

// What the assessment knows of the machine it runs on. Injected, so that
// tests decide which processes exist and what time it is.
struct LivenessProbe {
  std::string host;  // this machine's host name
  int64_t now_ms = 0;
  // Whether process `pid` exists here and, when `start` is not empty, was
  // started at `start` (ProcessStartToken): a reused pid is not alive.
  std::function<bool(uint32_t pid, const std::string& start)> process_alive;
  // A heartbeat older than this means the coordinator is gone, wherever it
  // ran. It beats every second; its loop can stall for a few seconds on a
  // large audit write.
  int64_t stale_ms = 30000;
};

// The probe of this machine: its host name, the wall clock and /proc.
LivenessProbe ThisMachine();

// The start time of process `pid` on this machine (field 22 of
// /proc/<pid>/stat), "" when there is no such process or no /proc.
std::string ProcessStartToken(uint32_t pid);

// Whether the coordinator of `record` is alive, as seen by `probe`.
bool CoordinatorAlive(const CoordinatorRecord& record, const LivenessProbe& probe);

// The status to show for `run`: its recorded status, except that a
// `running` run whose coordinator is gone (or never recorded itself: a run
// of an earlier version) is `interrupted`.
std::string ShownStatus(const RunRecord& run, const std::optional<CoordinatorRecord>& coordinator,
                        const LivenessProbe& probe);

// In words, for `sluice status` and `resume`: "pid 4242 on host db1, last
// heartbeat 2s ago" / "... gone".
std::string DescribeCoordinator(const CoordinatorRecord& record, const LivenessProbe& probe);

}  // namespace sluice
