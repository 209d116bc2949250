#include "common/audit/liveness.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <fstream>
#include <sstream>

namespace sluice {

std::string ProcessStartToken(uint32_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) return "";
  // The command name (field 2) is in parentheses and may hold spaces: count
  // the fields after its closing one.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return "";
  }
  return field;
}

LivenessProbe ThisMachine() {
  LivenessProbe p;
  char name[HOST_NAME_MAX + 1] = {};
  p.host = gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0' ? name : "localhost";
  p.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  p.process_alive = [](uint32_t pid, const std::string& start) {
    if (pid == 0) return false;
    if (kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
    if (start.empty()) return true;
    const std::string now = ProcessStartToken(pid);
    return now.empty() || now == start;  // no /proc: the pid is all there is
  };
  return p;
}

bool CoordinatorAlive(const CoordinatorRecord& r, const LivenessProbe& probe) {
  if (probe.now_ms - r.heartbeat_ms > probe.stale_ms) return false;
  if (r.host == probe.host && probe.process_alive) return probe.process_alive(r.pid, r.pid_start);
  return true;
}

std::string ShownStatus(const RunRecord& run, const std::optional<CoordinatorRecord>& coordinator,
                        const LivenessProbe& probe) {
  if (run.status != "running") return run.status;
  if (!coordinator || !CoordinatorAlive(*coordinator, probe)) return "interrupted";
  return run.status;
}

std::string DescribeCoordinator(const CoordinatorRecord& r, const LivenessProbe& probe) {
  std::string s = "pid " + std::to_string(r.pid) + " on " + r.host;
  if (r.heartbeat_ms > 0) {
    const int64_t ago = std::max<int64_t>(0, (probe.now_ms - r.heartbeat_ms) / 1000);
    s += ", last heartbeat " + std::to_string(ago) + "s ago";
  }
  if (!CoordinatorAlive(r, probe)) {
    s += r.host == probe.host && probe.now_ms - r.heartbeat_ms <= probe.stale_ms
             ? " (that process is gone)"
             : " (gone)";
  }
  return s;
}

}  // namespace sluice
