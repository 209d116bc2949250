// Whom a worker's data producer serves (docs/architecture.md, "Security").
// The socket's ZAP handler admits any worker of the run; a batch goes only
// to a consumer whose routing id names a worker of the role that takes this
// worker's batches ("loader-0@..." for a validator) and, in a sealed run,
// whose handshake proved the public key the coordinator announced for that
// worker. A process holding another worker's key (or the right key under a
// name it does not have) is given nothing, whatever routing id it picks.
// Not thread-safe: the worker runtime's thread asks and announces.
#pragma once

#include <map>
#include <set>
#include <string>

#include "sluice/v1/control.pb.h"

namespace sluice {

class AnnouncedConsumers {
 public:
  // For a producer of `producer_role`'s batches ("validator").
  explicit AnnouncedConsumers(std::string producer_role);

  // The run's workers and their public keys, as the coordinator announced
  // them (RegisterReply, PeerKeys); replaces what was announced before.
  void Announce(const v1::PeerKeys& peers);

  // Whether the consumer with `routing_id`, whose credit came with the
  // CURVE public key `key` ("" on a plaintext socket), may take batches.
  // Logs a refused one once per routing id.
  bool Admits(const std::string& routing_id, const std::string& key);

 private:
  std::string producer_role_;
  std::map<std::string, std::string> keys_;  // worker name -> its announced public key
  std::set<std::string> refused_;            // routing ids logged already
};

}  // namespace sluice
