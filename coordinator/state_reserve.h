// Room kept in the state directory to end a run truthfully (issue 23).
//
// When the state directory fills up, the coordinator halts, and must still
// record the run as halted with its reason: the audit store needs a little
// room to write that. The reserve is a file of real (not sparse) bytes made
// when the run starts; Release() deletes it, so that the last writes fit.
// `sluice resume` makes a new one once the cause is fixed. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "common/core/status.h"

namespace sluice::coordination {

class StateReserve {
 public:
  static constexpr uint64_t kBytes = 4 << 20;

  // Writes `bytes` at `path` (replacing what is there). IoError, saying
  // "no space left on device in the state directory" when that is why, if
  // it cannot.
  static Result<StateReserve> Create(const std::string& path, uint64_t bytes = kBytes);
  StateReserve() = default;

  // Deletes the reserve; true when there was one to free.
  bool Release();

 private:
  std::string path_;
};

// The halt reason for a failure of the coordinator's own state (the audit
// store in `state_dir`): "no space left on device in the state directory
// DIR: ..." when the device is full, else "coordinator error: ...".
std::string StateFaultReason(const Status& st, const std::string& state_dir);

}  // namespace sluice::coordination
