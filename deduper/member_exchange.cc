#include "deduper/member_exchange.h"

#include "common/runtime/codec.h"
#include "common/runtime/transport.h"

namespace sluice {

Result<std::unique_ptr<MemberServer>> MemberServer::Start(const std::string& bind) {
  std::unique_ptr<MemberServer> s(new MemberServer());
  s->socket_ = std::make_unique<zmq::socket_t>(ProcessContext(), zmq::socket_type::router);
  SLUICE_ASSIGN_OR_RETURN(s->endpoint_, BindSocket(*s->socket_, bind));
  // From here on the socket belongs to the serving thread (starting it is
  // the memory barrier ZeroMQ asks for when a socket changes threads).
  s->thread_ = std::jthread([raw = s.get()](std::stop_token stop) { raw->Serve(stop); });
  return s;
}

MemberServer::~MemberServer() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void MemberServer::Publish(const std::string& resolution, uint64_t epoch,
                           const std::map<uint32_t, RecordBatch>& by_shard) {
  Published p;
  p.epoch = epoch;
  for (const auto& [shard, batch] : by_shard) {
    v1::RecordBatch wire;
    EncodeBatch(batch, &wire);
    wire.SerializeToString(&p.encoded[shard]);
  }
  std::lock_guard lock(mu_);
  published_[resolution] = std::move(p);
}

uint64_t MemberServer::served() const {
  std::lock_guard lock(mu_);
  return served_;
}

std::string MemberServer::Answer(const std::string& body) {
  v1::DedupMemberRequest request;
  v1::DedupMemberReply reply;
  if (!request.ParseFromString(body)) {
    reply.set_error("not a member request");
  } else {
    std::lock_guard lock(mu_);
    auto it = published_.find(request.resolution());
    if (it != published_.end() && it->second.epoch == request.epoch()) {
      reply.set_ready(true);
      auto members = it->second.encoded.find(request.shard());
      if (members != it->second.encoded.end() &&
          !reply.mutable_members()->ParseFromString(members->second)) {
        reply.set_error("published members do not parse");
      }
      ++served_;
    }
  }
  return reply.SerializeAsString();
}

void MemberServer::Serve(std::stop_token stop) {
  zmq::socket_t& socket = *socket_;
  while (!stop.stop_requested()) {
    try {
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) continue;
      zmq::message_t id, body;
      if (!socket.recv(id, zmq::recv_flags::none)) continue;
      if (!id.more() || !socket.recv(body, zmq::recv_flags::none)) continue;
      while (body.more()) {  // a malformed request: drop its extra frames
        zmq::message_t extra;
        if (!socket.recv(extra, zmq::recv_flags::none)) break;
        body.move(extra);
      }
      const std::string answer = Answer(body.to_string());
      socket.send(id, zmq::send_flags::sndmore);
      socket.send(zmq::buffer(answer), zmq::send_flags::none);
    } catch (const zmq::error_t&) {
      // The context is shutting down, or the asking peer vanished: a
      // request it repeats is answered again.
      if (stop.stop_requested()) break;
    }
  }
  socket_->close();
}

Result<std::vector<Record>> FetchMembers(const std::string& endpoint,
                                         const v1::DedupMemberRequest& request,
                                         std::chrono::milliseconds silence) {
  using Clock = std::chrono::steady_clock;
  const std::string body = request.SerializeAsString();
  try {
    zmq::socket_t socket(ProcessContext(), zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(endpoint);
    auto last_answer = Clock::now();
    auto pause = std::chrono::milliseconds(20);
    for (;;) {
      socket.send(zmq::buffer(body), zmq::send_flags::none);
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      // Answers to earlier (repeated) requests may queue up: any ready
      // one will do, they are all the same published batch.
      bool answered = false;
      while (zmq::poll(&item, 1, std::chrono::milliseconds(500)) > 0) {
        zmq::message_t msg;
        if (!socket.recv(msg, zmq::recv_flags::none)) break;
        answered = true;
        v1::DedupMemberReply reply;
        if (!reply.ParseFromArray(msg.data(), static_cast<int>(msg.size()))) {
          return Status::Corruption("dedup shard at " + endpoint + ": member reply does not parse");
        }
        if (!reply.error().empty()) {
          return Status::Corruption("dedup shard at " + endpoint + ": " + reply.error());
        }
        if (!reply.ready()) break;
        if (!reply.has_members() || reply.members().columns_size() == 0) {
          return std::vector<Record>{};
        }
        SLUICE_ASSIGN_OR_RETURN(RecordBatch batch, DecodeBatch(reply.members()));
        return std::move(batch.records);
      }
      if (answered) {
        last_answer = Clock::now();
      } else if (Clock::now() - last_answer > silence) {
        return Status::Unavailable("dedup shard at " + endpoint + " did not answer for " +
                                   std::to_string(silence.count() / 1000) + " s");
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(500));
    }
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("dedup shard at " + endpoint + ": " + e.what());
  }
}

std::string MemberBindFor(const std::string& data_bind) {
  if (data_bind.rfind("ipc://", 0) == 0) return data_bind + ".members";
  if (data_bind.rfind("tcp://", 0) == 0) {
    const size_t colon = data_bind.rfind(':');
    if (colon != std::string::npos && colon > 5) return data_bind.substr(0, colon) + ":*";
  }
  return "tcp://127.0.0.1:*";
}

}  // namespace sluice
