#include "common/runtime/request_reply.h"

#include "common/runtime/transport.h"

namespace sluice {

Result<std::unique_ptr<RequestServer>> RequestServer::Start(const std::string& bind,
                                                            Answer answer) {
  std::unique_ptr<RequestServer> s(new RequestServer());
  s->answer_ = std::move(answer);
  try {
    s->socket_ = std::make_unique<zmq::socket_t>(ProcessContext(), zmq::socket_type::router);
  } catch (const zmq::error_t& e) {
    return FromZmq(e, "request socket");
  }
  SLUICE_ASSIGN_OR_RETURN(s->endpoint_, BindSocket(*s->socket_, bind));
  // From here on the socket belongs to the serving thread (starting it is
  // the memory barrier ZeroMQ asks for when a socket changes threads).
  s->thread_ = std::jthread([raw = s.get()](std::stop_token stop) { raw->Serve(stop); });
  return s;
}

RequestServer::~RequestServer() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void RequestServer::Serve(std::stop_token stop) {
  zmq::socket_t& socket = *socket_;
  while (!stop.stop_requested()) {
    try {
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) continue;
      zmq::message_t id, body;
      if (!socket.recv(id, zmq::recv_flags::none)) continue;
      if (!id.more() || !socket.recv(body, zmq::recv_flags::none)) continue;
      for (bool more = body.more(); more;) {  // a malformed request: drop its extra frames
        zmq::message_t extra;
        if (!socket.recv(extra, zmq::recv_flags::none)) break;
        more = extra.more();
      }
      const std::string reply = answer_(body.to_string());
      socket.send(id, zmq::send_flags::sndmore);
      socket.send(zmq::buffer(reply), zmq::send_flags::none);
    } catch (const zmq::error_t&) {
      // The context is shutting down, or the asking peer vanished: a
      // request it repeats is answered again.
      if (stop.stop_requested()) break;
    }
  }
  socket.close();
}

RequestClient::RequestClient() : socket_(ProcessContext(), zmq::socket_type::dealer) {}

Result<std::unique_ptr<RequestClient>> RequestClient::Create(const std::string& endpoint,
                                                             const std::string& server_key) {
  std::unique_ptr<RequestClient> c;
  try {
    c.reset(new RequestClient());
    c->socket_.set(zmq::sockopt::linger, 0);
  } catch (const zmq::error_t& e) {
    return FromZmq(e, "request socket");
  }
  SLUICE_RETURN_IF_ERROR(ConnectSocket(c->socket_, endpoint, server_key));
  return c;
}

Status RequestClient::Send(const std::string& request) {
  return SendFrame(socket_, request, "request send");
}

Result<std::optional<std::string>> RequestClient::Receive(std::chrono::milliseconds timeout) {
  SLUICE_ASSIGN_OR_RETURN(auto reply, ReceiveFrame(socket_, timeout, "request receive"));
  if (!reply) return std::optional<std::string>();
  return std::optional<std::string>(reply->to_string());
}

}  // namespace sluice
