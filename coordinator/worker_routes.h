// The route each worker's messages go to (docs/architecture.md, "Security";
// common/runtime/routing_id.h). A worker's process connects with routing ids
// of its own, "loader-0@<nonce>" and "loader-0/hb@<nonce>"; the coordinator
// binds the worker to the route its admitted registration came from, sends
// to that route only, and believes only what comes from it. A process that
// connects with another route under the worker's name is not the worker.
// Not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "coordinator/coordinator_channel.h"

namespace sluice::coordination {

class WorkerRoutes {
 public:
  // The worker `identity`'s process registered from `route` and was
  // admitted: from now on its messages go there. Its earlier routes are
  // remembered as its former processes'.
  void Bind(const std::string& identity, const std::string& route);
  // The route messages to `identity` go to: the one bound, or `identity`
  // itself when none is (a supervision client answered where it asked).
  const std::string& To(const std::string& identity) const;
  // Whether `route` is the bound route of `identity`'s control socket, or
  // with `heartbeat` of its heartbeat socket. True for a worker not bound
  // yet only when `route` is its name (tests' in-memory channels).
  bool Current(const std::string& identity, const std::string& route, bool heartbeat) const;
  // Whether `route` is the control route of one of `identity`'s former
  // processes (a late commit of a written-off process, judged by epoch).
  bool Former(const std::string& identity, const std::string& route) const;

 private:
  std::map<std::string, std::string> bound_;
  std::map<std::string, std::set<std::string>> former_;
};

// `channel` with every Send to a worker's identity addressed to its bound
// route (`routes` must outlive the result); what arrives is unchanged.
std::unique_ptr<CoordinatorChannel> RouteToBound(std::unique_ptr<CoordinatorChannel> channel,
                                                 const WorkerRoutes& routes);

}  // namespace sluice::coordination
