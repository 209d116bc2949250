#include "common/runtime/endpoint.h"

#include <unistd.h>

#include <climits>

namespace sluice {

std::string AdvertisedEndpoint(const std::string& bound, const std::string& advertise,
                               const std::string& hostname) {
  if (!advertise.empty()) return advertise;
  const std::string tcp = "tcp://";
  if (bound.rfind(tcp, 0) != 0) return bound;  // ipc://, inproc://: local by nature
  const size_t colon = bound.rfind(':');
  if (colon == std::string::npos || colon < tcp.size()) return bound;
  const std::string host = bound.substr(tcp.size(), colon - tcp.size());
  if (host != "0.0.0.0" && host != "*" && host != "[::]" && host != "::") return bound;
  return tcp + hostname + bound.substr(colon);
}

std::string LocalHostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace sluice
