#include "common/runtime/routing_id.h"

#include <cstdio>
#include <random>

namespace sluice {

std::string NewRouteNonce() {
  std::random_device random;
  char nonce[17];
  std::snprintf(nonce, sizeof nonce, "%08x%08x", random(), random());
  return nonce;
}

std::string RoutingId(const std::string& socket_name, const std::string& nonce) {
  return nonce.empty() ? socket_name : socket_name + "@" + nonce;
}

std::string SocketNameOf(const std::string& routing_id) {
  const size_t at = routing_id.rfind('@');
  return at == std::string::npos ? routing_id : routing_id.substr(0, at);
}

std::string WorkerNameOf(const std::string& routing_id) {
  std::string name = SocketNameOf(routing_id);
  if (name.size() > 3 && name.compare(name.size() - 3, 3, "/hb") == 0) name.resize(name.size() - 3);
  return name;
}

std::string RoleOf(const std::string& routing_id) {
  const std::string name = WorkerNameOf(routing_id);
  const size_t dash = name.rfind('-');
  return dash == std::string::npos ? "" : name.substr(0, dash);
}

}  // namespace sluice
