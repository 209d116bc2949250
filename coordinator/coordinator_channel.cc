#include "coordinator/coordinator_channel.h"

#include "common/runtime/transport.h"

namespace sluice::coordination {
namespace {

class RouterChannel final : public CoordinatorChannel {
 public:
  explicit RouterChannel(std::unique_ptr<ControlServer> server) : server_(std::move(server)) {}
  const std::string& endpoint() const override { return server_->endpoint(); }
  Result<std::optional<Message>> Receive(std::chrono::milliseconds timeout) override {
    return server_->Receive(timeout);
  }
  Status Send(const std::string& identity, const v1::Envelope& message) override {
    return server_->Send(identity, message);
  }

 private:
  std::unique_ptr<ControlServer> server_;
};

}  // namespace

Result<std::unique_ptr<CoordinatorChannel>> BindCoordinatorChannel(const std::string& endpoint) {
  SLUICE_ASSIGN_OR_RETURN(auto server, ControlServer::Create(endpoint));
  return std::unique_ptr<CoordinatorChannel>(new RouterChannel(std::move(server)));
}

}  // namespace sluice::coordination
