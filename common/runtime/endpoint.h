// The data endpoint a worker tells the coordinator about, for consumers on
// other machines to connect to.
#pragma once

#include <string>

namespace sluice {

// `advertise` when given; otherwise `bound` (ZMQ_LAST_ENDPOINT of the data
// socket) with a wildcard host (0.0.0.0, *, [::]) replaced by `hostname`:
// a worker bound to tcp://0.0.0.0:5601 must not send its consumers to
// 0.0.0.0, which would connect them to themselves.
std::string AdvertisedEndpoint(const std::string& bound, const std::string& advertise,
                               const std::string& hostname);

// This machine's host name, as other machines are expected to resolve it.
std::string LocalHostName();

}  // namespace sluice
