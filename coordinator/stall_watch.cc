#include "coordinator/stall_watch.h"

namespace sluice::coordination {

bool StallWatch::AtWork(const std::string& identity, uint64_t busy_ms) {
  auto [it, first] = last_.try_emplace(identity, busy_ms);
  if (first) return false;
  const uint64_t before = it->second;
  it->second = busy_ms;
  if (busy_ms < before) return false;  // another process under the same name
  const auto tenth = static_cast<uint64_t>(heartbeat_.count()) / 10;
  return busy_ms - before >= std::max<uint64_t>(tenth, 1);
}

}  // namespace sluice::coordination
