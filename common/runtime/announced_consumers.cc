#include "common/runtime/announced_consumers.h"

#include "common/core/log.h"
#include "common/core/stage.h"
#include "common/runtime/routing_id.h"

namespace sluice {

AnnouncedConsumers::AnnouncedConsumers(std::string producer_role)
    : producer_role_(std::move(producer_role)) {}

void AnnouncedConsumers::Announce(const v1::PeerKeys& peers) {
  keys_.clear();
  for (const auto& p : peers.keys()) keys_[p.identity()] = p.public_key();
}

bool AnnouncedConsumers::Admits(const std::string& routing_id, const std::string& key) {
  const std::string name = SocketNameOf(routing_id);
  std::string why;
  if (UpstreamRole(RoleOf(routing_id)) != producer_role_) {
    why = "not a worker that takes " + producer_role_ + " batches";
  } else if (!key.empty()) {
    // Sealed: the key must be the one announced for the name it claims.
    auto announced = keys_.find(name);
    if (announced == keys_.end()) {
      why = "no key announced for " + name;
    } else if (announced->second != key) {
      why = "not the key announced for " + name;
    }
  }
  if (why.empty()) return true;
  // Bounded: a flood of invented routing ids must not grow the set.
  if (refused_.size() < 256 && refused_.insert(routing_id).second) {
    LogContext ctx;
    ctx.stage = "data";
    LogWarn(ctx, "refused the credit of consumer " + routing_id +
                     (key.empty() ? "" : " (key " + key + ")") + ": " + why);
  }
  return false;
}

}  // namespace sluice
