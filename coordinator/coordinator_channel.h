// The coordinator's side of the control channel, as the run engine sees it:
// messages from worker identities in, messages to one identity out. The
// ZeroMQ ROUTER (ControlServer, common/runtime/transport.h) is one
// implementation; tests give the coordinator an in-memory one, so that
// registration, heartbeats, leases and commits are driven in-process.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "common/core/status.h"
#include "common/runtime/control_message.h"
#include "sluice/v1/control.pb.h"

namespace sluice {
class ControlServer;
}

namespace sluice::coordination {

class CoordinatorChannel {
 public:
  // The sender is the identity of the worker's socket ("loader-0", or
  // "loader-0/hb" for its heartbeat socket), with its CURVE public key in a
  // sealed run.
  using Message = ControlMessage;
  virtual ~CoordinatorChannel() = default;

  // Where workers connect (`--coordinator` of a worker).
  virtual const std::string& endpoint() const = 0;
  // Waits up to `timeout` for one message; an empty optional on timeout.
  virtual Result<std::optional<Message>> Receive(std::chrono::milliseconds timeout) = 0;
  // Sends to the worker `identity`; an identity that is not connected is an
  // error, never a silent drop.
  virtual Status Send(const std::string& identity, const v1::Envelope& message) = 0;
};

// The control ROUTER bound on `endpoint` ("tcp://127.0.0.1:*" allowed).
Result<std::unique_ptr<CoordinatorChannel>> BindCoordinatorChannel(const std::string& endpoint);

}  // namespace sluice::coordination
