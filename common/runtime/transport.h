// ZeroMQ transport: the control channel between the coordinator (ROUTER)
// and workers (DEALER), and the credit-based data channel between workers.
//
// Stable endpoints bind, transient workers connect. Sockets never cross
// threads; every receive takes a timeout. cppzmq throws: exceptions are
// caught here and returned as a Status.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/core/status.h"
#include "common/runtime/control_message.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// A ZeroMQ error as a Status: Unavailable, "what: reason".
Status FromZmq(const zmq::error_t& e, const std::string& what);

// One context per process.
zmq::context_t& ProcessContext();

// Binds `endpoint` ("tcp://127.0.0.1:*" allowed) and returns the resolved
// endpoint from ZMQ_LAST_ENDPOINT. In a sealed process (seal.h) the socket
// is a CurveZMQ server admitting only accepted keys; in one that is not,
// a non-loopback interface is FailedPrecondition unless plaintext is allowed
// there (--insecure).
Result<std::string> BindSocket(zmq::socket_t& socket, const std::string& endpoint);
// Connects `socket` to `endpoint`, whose server has the CURVE public key
// `server_key` ("" for a plaintext server). FailedPrecondition when a sealed
// process is given no key, or an unsealed one a key. Every socket of the
// runtime binds and connects through these two, so what secures a
// connection is set in one place.
Status ConnectSocket(zmq::socket_t& socket, const std::string& endpoint,
                     const std::string& server_key);

// One single-frame message on a connected socket (a DEALER): sent, or
// received within `timeout` (an empty optional on timeout). Errors are
// Unavailable, "what: reason".
Status SendFrame(zmq::socket_t& socket, const std::string& frame, const char* what);
Result<std::optional<zmq::message_t>> ReceiveFrame(zmq::socket_t& socket,
                                                   std::chrono::milliseconds timeout,
                                                   const char* what);

// The coordinator's side of the control channel.
class ControlServer {
 public:
  // Binds a ROUTER on `endpoint`.
  static Result<std::unique_ptr<ControlServer>> Create(const std::string& endpoint);
  const std::string& endpoint() const { return endpoint_; }
  zmq::socket_t& socket() { return socket_; }

  // Waits up to `timeout` for one message; an empty optional on timeout.
  // A frame that does not parse is dropped and reported as an error.
  Result<std::optional<ControlMessage>> Receive(std::chrono::milliseconds timeout);
  // Sends to the worker with `identity`; an unknown identity is an error
  // (ROUTER_MANDATORY), never a silent drop.
  Status Send(const std::string& identity, const v1::Envelope& message);

 private:
  ControlServer() : socket_(ProcessContext(), zmq::socket_type::router) {}
  zmq::socket_t socket_;
  std::string endpoint_;
};

// A worker's side of the control channel, as the worker runtime uses it:
// ControlClient over ZeroMQ, an in-memory fake in tests. Not thread-safe:
// each thread opens its own.
class ControlChannel {
 public:
  virtual ~ControlChannel() = default;
  virtual Status Send(const v1::Envelope& message) = 0;
  // Waits up to `timeout` for one message from the coordinator; an empty
  // optional on timeout. Non-blocking when timeout is zero.
  virtual Result<std::optional<v1::Envelope>> Receive(std::chrono::milliseconds timeout) = 0;
  // The socket to poll together with the data sockets; nullptr for a
  // channel that is not a ZeroMQ socket (read at every turn instead).
  virtual zmq::socket_t* socket() { return nullptr; }
};

// The ZeroMQ control channel: a DEALER connected to the coordinator.
class ControlClient : public ControlChannel {
 public:
  // Connects a DEALER with identity `identity` ("transformer-0") to the
  // coordinator at `endpoint`, whose public key is `server_key` ("" in
  // plaintext).
  static Result<std::unique_ptr<ControlClient>> Create(const std::string& endpoint,
                                                       const std::string& identity,
                                                       const std::string& server_key);
  zmq::socket_t* socket() override { return &socket_; }
  Status Send(const v1::Envelope& message) override;
  Result<std::optional<v1::Envelope>> Receive(std::chrono::milliseconds timeout) override;

 private:
  ControlClient() : socket_(ProcessContext(), zmq::socket_type::dealer) {}
  zmq::socket_t socket_;
};

// The producing side of a data channel: a ROUTER that sends batches only to
// consumers that granted credit. Batches wait in a bounded per-shard queue;
// nothing is sent without credit, so a dead consumer holds at most the
// batches it asked for (the coordinator re-leases those).
class DataProducer {
 public:
  static Result<std::unique_ptr<DataProducer>> Create(const std::string& endpoint);
  const std::string& endpoint() const { return endpoint_; }
  zmq::socket_t& socket() { return socket_; }

  // Whom batches may go to: asked with a consumer's routing id and the
  // CURVE public key its credit came with ("" in plaintext); the credit of
  // a consumer it refuses is ignored, so it is sent nothing. Unset: every
  // consumer the socket admitted (announced_consumers.h is the worker's).
  using ConsumerGate = std::function<bool(const std::string& routing_id, const std::string& key)>;
  void set_gate(ConsumerGate gate) { gate_ = std::move(gate); }

  // Queues a serialized DataMessage holding one batch for `shard`.
  void Enqueue(uint32_t shard, std::string message);
  size_t queued() const;
  size_t queued(uint32_t shard) const;
  // The credit this producer holds for the consumer `identity` (0 for one it
  // never heard of, or that it found gone).
  uint32_t credit(const std::string& identity) const;
  // Reads pending credit messages without blocking and sends what credit
  // allows. Returns the number of batches sent.
  Result<size_t> Pump();

 private:
  DataProducer() : socket_(ProcessContext(), zmq::socket_type::router) {}
  struct Consumer {
    uint32_t shard = 0;
    uint32_t credit = 0;
  };
  zmq::socket_t socket_;
  std::string endpoint_;
  std::map<std::string, Consumer> consumers_;  // by identity, stable order
  std::map<uint32_t, std::deque<std::string>> queues_;
  ConsumerGate gate_;
};

// The consuming side: a DEALER that grants credit and receives batches.
class DataConsumer {
 public:
  // Connects to the producer at `endpoint`, whose public key is
  // `server_key` ("" in plaintext).
  static Result<std::unique_ptr<DataConsumer>> Create(const std::string& endpoint,
                                                      const std::string& identity, uint32_t shard,
                                                      const std::string& server_key);
  zmq::socket_t& socket() { return socket_; }
  // Grants `n` more batches; the first grant after Create resets the
  // producer's view of this consumer.
  Status Grant(uint32_t n);
  // Tells the producer again how much credit this consumer has (absolute);
  // heals a producer that restarted and forgot it.
  Status Resync(uint32_t credits);
  // Receives one batch if one is waiting within `timeout`.
  Result<std::optional<v1::RecordBatch>> Receive(std::chrono::milliseconds timeout);

 private:
  DataConsumer() : socket_(ProcessContext(), zmq::socket_type::dealer) {}
  zmq::socket_t socket_;
  uint32_t shard_ = 0;
  bool reset_sent_ = false;
};

}  // namespace sluice
