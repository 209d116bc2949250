// Request and reply between workers, beside the control and data channels:
// one frame asked, one frame answered (a dedup shard serving cluster members
// to the others, deduper/member_exchange.h). Built on the transport's
// BindSocket and ConnectSocket like every other socket of the runtime.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "common/core/status.h"

namespace sluice {

// A ROUTER that answers every request with what `answer` returns, on a
// thread of its own: a worker busy with other work (or itself waiting for a
// peer's answer) still answers.
class RequestServer {
 public:
  // Computes the reply to one request; called on the serving thread only.
  using Answer = std::function<std::string(const std::string& request)>;

  // Binds `bind` ("tcp://10.0.0.5:*", "ipc:///path") and starts answering.
  static Result<std::unique_ptr<RequestServer>> Start(const std::string& bind, Answer answer);
  // Stops answering and waits for the serving thread.
  ~RequestServer();
  RequestServer(const RequestServer&) = delete;
  RequestServer& operator=(const RequestServer&) = delete;

  // The bound endpoint (ZMQ_LAST_ENDPOINT).
  const std::string& endpoint() const { return endpoint_; }

 private:
  RequestServer() = default;
  void Serve(std::stop_token stop);

  std::string endpoint_;
  Answer answer_;
  std::unique_ptr<zmq::socket_t> socket_;  // used by the serving thread only
  std::jthread thread_;
};

// The asking side: a DEALER connected to one RequestServer. Replies are not
// matched to requests: a caller that asks again may get the answers to both.
// Not thread-safe.
class RequestClient {
 public:
  // Connects to the RequestServer at `endpoint`, whose public key is
  // `server_key` ("" in plaintext).
  static Result<std::unique_ptr<RequestClient>> Create(const std::string& endpoint,
                                                       const std::string& server_key);
  Status Send(const std::string& request);
  // Waits up to `timeout` for one reply; an empty optional on timeout.
  Result<std::optional<std::string>> Receive(std::chrono::milliseconds timeout);

 private:
  RequestClient();
  zmq::socket_t socket_;
};

}  // namespace sluice
