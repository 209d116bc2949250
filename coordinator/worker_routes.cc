#include "coordinator/worker_routes.h"

#include "common/runtime/routing_id.h"

namespace sluice::coordination {
namespace {

// A worker keeps at most this many former routes (one per process written
// off): enough for every late commit, bounded whatever happens.
constexpr size_t kMaxFormer = 64;

class RoutedChannel final : public CoordinatorChannel {
 public:
  RoutedChannel(std::unique_ptr<CoordinatorChannel> channel, const WorkerRoutes& routes)
      : channel_(std::move(channel)), routes_(routes) {}
  const std::string& endpoint() const override { return channel_->endpoint(); }
  Result<std::optional<Message>> Receive(std::chrono::milliseconds timeout) override {
    return channel_->Receive(timeout);
  }
  Status Send(const std::string& identity, const v1::Envelope& message) override {
    return channel_->Send(routes_.To(identity), message);
  }

 private:
  std::unique_ptr<CoordinatorChannel> channel_;
  const WorkerRoutes& routes_;
};

}  // namespace

void WorkerRoutes::Bind(const std::string& identity, const std::string& route) {
  auto [it, first] = bound_.try_emplace(identity, route);
  if (first || it->second == route) return;
  auto& former = former_[identity];
  if (former.size() < kMaxFormer) former.insert(it->second);
  it->second = route;
}

const std::string& WorkerRoutes::To(const std::string& identity) const {
  auto it = bound_.find(identity);
  return it == bound_.end() ? identity : it->second;
}

bool WorkerRoutes::Current(const std::string& identity, const std::string& route,
                           bool heartbeat) const {
  const std::string& bound = To(identity);
  if (!heartbeat) return route == bound;
  const size_t at = bound.rfind('@');
  const std::string nonce = at == std::string::npos ? "" : bound.substr(at + 1);
  return route == RoutingId(identity + "/hb", nonce);
}

bool WorkerRoutes::Former(const std::string& identity, const std::string& route) const {
  auto it = former_.find(identity);
  return it != former_.end() && it->second.count(route) > 0;
}

std::unique_ptr<CoordinatorChannel> RouteToBound(std::unique_ptr<CoordinatorChannel> channel,
                                                 const WorkerRoutes& routes) {
  return std::make_unique<RoutedChannel>(std::move(channel), routes);
}

}  // namespace sluice::coordination
