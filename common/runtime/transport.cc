#include "common/runtime/transport.h"

#include <cerrno>

#include "common/core/limits.h"
#include "common/runtime/codec.h"
#include "common/runtime/seal.h"

namespace sluice {

Status FromZmq(const zmq::error_t& e, const std::string& what) {
  return Status::Unavailable(what + ": " + e.what());
}

zmq::context_t& ProcessContext() {
  static zmq::context_t context(1);
  return context;
}

Result<std::string> BindSocket(zmq::socket_t& socket, const std::string& endpoint) {
  std::optional<CurveKeyPair> keys = ProcessKeys();
  if (!keys && !PlaintextAllowed(endpoint)) {
    return Status::FailedPrecondition(
        "refusing to bind " + endpoint +
        " in plaintext: another machine could read and join it; give this process a CURVE key "
        "(--key, deploy/README.md) or accept the risk with --insecure");
  }
  try {
    socket.set(zmq::sockopt::linger, 200);
    if (keys) {
      // A CURVE server: clients must know its public key, and this
      // process's ZAP handler admits only the keys it accepts (seal.h).
      socket.set(zmq::sockopt::curve_server, 1);
      socket.set(zmq::sockopt::curve_secretkey, keys->secret_key);
      socket.set(zmq::sockopt::zap_domain, "sluice");
    }
    socket.bind(endpoint);
    return socket.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return FromZmq(e, "bind " + endpoint);
  }
}

Status ConnectSocket(zmq::socket_t& socket, const std::string& endpoint,
                     const std::string& server_key) {
  std::optional<CurveKeyPair> keys = ProcessKeys();
  if (keys && server_key.empty()) {
    return Status::FailedPrecondition("no public key for " + endpoint +
                                      ": a sealed process connects only to a known server");
  }
  if (!keys && !server_key.empty()) {
    return Status::FailedPrecondition(endpoint +
                                      " is sealed (CURVE) but this process has no key: give --key");
  }
  try {
    if (keys) {
      socket.set(zmq::sockopt::curve_serverkey, server_key);
      socket.set(zmq::sockopt::curve_publickey, keys->public_key);
      socket.set(zmq::sockopt::curve_secretkey, keys->secret_key);
    }
    socket.connect(endpoint);
    return Status::Ok();
  } catch (const zmq::error_t& e) {
    return FromZmq(e, "connect " + endpoint);
  }
}

Status SendFrame(zmq::socket_t& socket, const std::string& frame, const char* what) {
  try {
    socket.send(zmq::buffer(frame), zmq::send_flags::none);
    return Status::Ok();
  } catch (const zmq::error_t& e) {
    return FromZmq(e, what);
  }
}

Result<std::optional<zmq::message_t>> ReceiveFrame(zmq::socket_t& socket,
                                                   std::chrono::milliseconds timeout,
                                                   const char* what) {
  try {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) return std::optional<zmq::message_t>();
    zmq::message_t frame;
    if (!socket.recv(frame, zmq::recv_flags::none)) return std::optional<zmq::message_t>();
    return std::optional<zmq::message_t>(std::move(frame));
  } catch (const zmq::error_t& e) {
    return FromZmq(e, what);
  }
}

// --- ControlServer ---

Result<std::unique_ptr<ControlServer>> ControlServer::Create(const std::string& endpoint) {
  std::unique_ptr<ControlServer> s(new ControlServer());
  try {
    s->socket_.set(zmq::sockopt::router_mandatory, 1);
    // No ROUTER_HANDOVER: a connection with the routing id of a live one
    // gets nothing (routing_id.h); a replacement comes with an id of its own.
    s->socket_.set(zmq::sockopt::sndhwm, 0);
    s->socket_.set(zmq::sockopt::rcvhwm, 0);
    // A peer that sends more is disconnected (docs/limits.md).
    s->socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(limits::kMaxControlMessageBytes));
  } catch (const zmq::error_t& e) {
    return FromZmq(e, "control socket");
  }
  SLUICE_ASSIGN_OR_RETURN(s->endpoint_, BindSocket(s->socket_, endpoint));
  return s;
}

Result<std::optional<ControlMessage>> ControlServer::Receive(std::chrono::milliseconds timeout) {
  try {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) return std::optional<ControlMessage>();
    zmq::message_t id, body;
    if (!socket_.recv(id, zmq::recv_flags::none)) return std::optional<ControlMessage>();
    if (!id.more()) return Status::Corruption("control frame without body");
    if (!socket_.recv(body, zmq::recv_flags::none)) return Status::Corruption("control frame lost");
    while (body.more()) {  // drain unexpected extra frames
      zmq::message_t extra;
      (void)socket_.recv(extra, zmq::recv_flags::none);
      if (!extra.more()) break;
    }
    ControlMessage m;
    m.sender = id.to_string();
    m.sender_key = SenderKey(body);
    if (!m.envelope.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return Status::Corruption("unparseable control message from " + m.sender);
    }
    return std::optional<ControlMessage>(std::move(m));
  } catch (const zmq::error_t& e) {
    // A signal (Ctrl-C, SIGTERM of `sluice run`) interrupted the wait: no
    // message; the caller's loop sees what the handler recorded.
    if (e.num() == EINTR) return std::optional<ControlMessage>();
    return FromZmq(e, "control receive");
  }
}

Status ControlServer::Send(const std::string& identity, const v1::Envelope& message) {
  try {
    std::string body = SerializeForWire(message);  // a raw byte would make it unreadable
    socket_.send(zmq::buffer(identity), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(body), zmq::send_flags::none);
    return Status::Ok();
  } catch (const zmq::error_t& e) {
    return FromZmq(e, "send to " + identity);
  }
}

// --- ControlClient ---

Result<std::unique_ptr<ControlClient>> ControlClient::Create(const std::string& endpoint,
                                                             const std::string& identity,
                                                             const std::string& server_key) {
  std::unique_ptr<ControlClient> c(new ControlClient());
  try {
    c->socket_.set(zmq::sockopt::routing_id, identity);
    c->socket_.set(zmq::sockopt::linger, 500);
    c->socket_.set(zmq::sockopt::sndhwm, 0);
    c->socket_.set(zmq::sockopt::reconnect_ivl, 100);
    c->socket_.set(zmq::sockopt::reconnect_ivl_max, 2000);
  } catch (const zmq::error_t& e) {
    return FromZmq(e, "control socket");
  }
  SLUICE_RETURN_IF_ERROR(ConnectSocket(c->socket_, endpoint, server_key));
  return c;
}

Status ControlClient::Send(const v1::Envelope& message) {
  // A raw byte in a text field would make the whole message unreadable.
  return SendFrame(socket_, SerializeForWire(message), "control send");
}

Result<std::optional<v1::Envelope>> ControlClient::Receive(std::chrono::milliseconds timeout) {
  SLUICE_ASSIGN_OR_RETURN(auto body, ReceiveFrame(socket_, timeout, "control receive"));
  if (!body) return std::optional<v1::Envelope>();
  v1::Envelope env;
  if (!env.ParseFromArray(body->data(), static_cast<int>(body->size()))) {
    return Status::Corruption("unparseable control message from the coordinator");
  }
  return std::optional<v1::Envelope>(std::move(env));
}

// --- DataProducer ---

Result<std::unique_ptr<DataProducer>> DataProducer::Create(const std::string& endpoint) {
  std::unique_ptr<DataProducer> p(new DataProducer());
  try {
    p->socket_.set(zmq::sockopt::router_mandatory, 1);
    // No ROUTER_HANDOVER, as on the control socket.
    p->socket_.set(zmq::sockopt::sndhwm, 0);
  } catch (const zmq::error_t& e) {
    return FromZmq(e, "data socket");
  }
  SLUICE_ASSIGN_OR_RETURN(p->endpoint_, BindSocket(p->socket_, endpoint));
  return p;
}

void DataProducer::Enqueue(uint32_t shard, std::string message) {
  queues_[shard].push_back(std::move(message));
}

size_t DataProducer::queued() const {
  size_t n = 0;
  for (const auto& [shard, q] : queues_) n += q.size();
  return n;
}

size_t DataProducer::queued(uint32_t shard) const {
  auto it = queues_.find(shard);
  return it == queues_.end() ? 0 : it->second.size();
}

uint32_t DataProducer::credit(const std::string& identity) const {
  auto it = consumers_.find(identity);
  return it == consumers_.end() ? 0 : it->second.credit;
}

Result<size_t> DataProducer::Pump() {
  try {
    for (;;) {
      zmq::message_t id, body;
      if (!socket_.recv(id, zmq::recv_flags::dontwait)) break;
      if (!id.more() || !socket_.recv(body, zmq::recv_flags::none)) continue;
      v1::DataMessage msg;
      if (!msg.ParseFromArray(body.data(), static_cast<int>(body.size())) || !msg.has_credit()) {
        continue;  // consumers only ever send credit
      }
      if (gate_ && !gate_(id.to_string(), SenderKey(body))) continue;
      Consumer& c = consumers_[id.to_string()];
      c.shard = msg.credit().shard();
      c.credit = msg.credit().reset() ? msg.credit().credits() : c.credit + msg.credit().credits();
    }
    size_t sent = 0;
    for (auto& [identity, c] : consumers_) {
      auto& q = queues_[c.shard];
      while (c.credit > 0 && !q.empty()) {
        try {
          socket_.send(zmq::buffer(identity), zmq::send_flags::sndmore);
          socket_.send(zmq::buffer(q.front()), zmq::send_flags::none);
        } catch (const zmq::error_t& e) {
          if (e.num() == EHOSTUNREACH) {  // consumer gone: keep the batch
            c.credit = 0;
            break;
          }
          throw;
        }
        q.pop_front();
        --c.credit;
        ++sent;
      }
    }
    return sent;
  } catch (const zmq::error_t& e) {
    return FromZmq(e, "data pump");
  }
}

// --- DataConsumer ---

Result<std::unique_ptr<DataConsumer>> DataConsumer::Create(const std::string& endpoint,
                                                           const std::string& identity,
                                                           uint32_t shard,
                                                           const std::string& server_key) {
  std::unique_ptr<DataConsumer> c(new DataConsumer());
  c->shard_ = shard;
  try {
    c->socket_.set(zmq::sockopt::routing_id, identity);
    c->socket_.set(zmq::sockopt::linger, 0);
    c->socket_.set(zmq::sockopt::rcvhwm, 0);
    c->socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(limits::kMaxDataMessageBytes));
    c->socket_.set(zmq::sockopt::reconnect_ivl, 100);
  } catch (const zmq::error_t& e) {
    return FromZmq(e, "data socket");
  }
  SLUICE_RETURN_IF_ERROR(ConnectSocket(c->socket_, endpoint, server_key));
  return c;
}

Status DataConsumer::Resync(uint32_t credits) {
  reset_sent_ = false;
  return Grant(credits);
}

Status DataConsumer::Grant(uint32_t n) {
  v1::DataMessage msg;
  msg.mutable_credit()->set_credits(n);
  msg.mutable_credit()->set_shard(shard_);
  msg.mutable_credit()->set_reset(!reset_sent_);
  reset_sent_ = true;
  return SendFrame(socket_, msg.SerializeAsString(), "grant credit");
}

Result<std::optional<v1::RecordBatch>> DataConsumer::Receive(std::chrono::milliseconds timeout) {
  SLUICE_ASSIGN_OR_RETURN(auto body, ReceiveFrame(socket_, timeout, "data receive"));
  if (!body) return std::optional<v1::RecordBatch>();
  v1::DataMessage msg;
  if (!msg.ParseFromArray(body->data(), static_cast<int>(body->size())) || !msg.has_batch()) {
    return Status::Corruption("unparseable data message");
  }
  return std::optional<v1::RecordBatch>(std::move(*msg.mutable_batch()));
}

}  // namespace sluice
