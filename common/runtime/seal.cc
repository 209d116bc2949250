#include "common/runtime/seal.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "common/core/log.h"
#include "common/runtime/transport.h"

namespace sluice {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Handshakes held at once; more are refused at once (a flood of unknown keys).
constexpr size_t kMaxHeld = 256;

// The ZAP handler (ZeroMQ RFC 27): a ROUTER on the context's
// inproc://zeromq.zap.01, asked by libzmq at every CURVE handshake of a
// bound socket. It answers 200 with the client's public key as User-Id for
// an accepted key, and 400 for any other: at once when the list is
// complete (the coordinator's), after SealOptions::peer_wait when it may
// still grow (a worker's: a peer often connects a moment before the
// announcement of its key reaches this worker, or while it is busy with a
// long batch). libzmq's client does not connect again after a 400.
class ZapHandler {
 public:
  ZapHandler() : socket_(ProcessContext(), zmq::socket_type::router) {}
  ~ZapHandler() {
    if (thread_.joinable()) {
      thread_.request_stop();
      thread_.join();
    }
  }

  Status Start() {
    try {
      socket_.set(zmq::sockopt::linger, 0);
      socket_.bind("inproc://zeromq.zap.01");
    } catch (const zmq::error_t& e) {
      return FromZmq(e, "ZAP handler");
    }
    thread_ = std::jthread([this](std::stop_token stop) { Serve(stop); });
    return Status::Ok();
  }

 private:
  // A handshake waiting for its answer.
  struct Request {
    std::string route;       // the asking session's pipe on our ROUTER
    std::string request_id;  // echoed in the reply
    std::string address;     // the client's, for the log
    std::string key;         // Z85; "" for a client that is not CURVE
    SteadyClock::time_point since;
  };
  void Serve(std::stop_token stop);
  void Read();
  // Answers what can be answered now; keeps the rest in held_.
  void Answer(SteadyClock::time_point now);
  void Reply(const Request& r, bool ok);

  zmq::socket_t socket_;  // used by the serving thread only, once started
  std::vector<Request> held_;
  std::jthread thread_;
};

struct SealState {
  std::mutex mu;
  std::optional<CurveKeyPair> keys;
  std::map<std::string, std::string> accepted;
  bool accepted_complete = true;
  std::chrono::milliseconds peer_wait{0};
  bool insecure = false;
  std::vector<std::string> refused;  // in order first seen
  std::map<std::string, SteadyClock::time_point> refused_logged;
  std::unique_ptr<ZapHandler> zap;
};

SealState& State() {
  // Built after the context, so destroyed before it: the ZAP handler's
  // socket is closed before the context terminates.
  (void)ProcessContext();
  static SealState state;
  return state;
}

void ZapHandler::Serve(std::stop_token stop) {
  while (!stop.stop_requested()) {
    try {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      // Held handshakes are looked at again every 50 ms: a key the
      // coordinator announced meanwhile lets them in.
      if (zmq::poll(&item, 1, std::chrono::milliseconds(held_.empty() ? 100 : 50)) > 0) Read();
      Answer(SteadyClock::now());
    } catch (const zmq::error_t&) {
      if (stop.stop_requested()) break;
    }
  }
  socket_.close();
}

void ZapHandler::Read() {
  // [route][""] version, request id, domain, address, routing id, mechanism, credentials
  std::vector<zmq::message_t> frames;
  do {
    frames.emplace_back();
    if (!socket_.recv(frames.back(), zmq::recv_flags::dontwait)) return;
  } while (frames.back().more());
  if (frames.size() < 8) return;
  Request r;
  r.route = frames[0].to_string();
  r.request_id = frames[3].to_string();
  r.address = frames[5].to_string();
  r.since = SteadyClock::now();
  if (frames.size() >= 9 && frames[7].to_string_view() == "CURVE" && frames[8].size() == 32) {
    char z85[41];
    zmq_z85_encode(z85, static_cast<const uint8_t*>(frames[8].data()), 32);
    r.key = z85;
  }
  held_.push_back(std::move(r));
}

void ZapHandler::Answer(SteadyClock::time_point now) {
  SealState& s = State();
  std::vector<Request> still;
  std::vector<std::pair<Request, bool>> answers;
  {
    std::lock_guard lock(s.mu);
    for (Request& r : held_) {
      bool ok = !r.key.empty() && s.accepted.count(r.key) > 0;
      bool wait = !ok && !r.key.empty() && !s.accepted_complete && now - r.since < s.peer_wait &&
                  still.size() < kMaxHeld;
      if (wait) {
        still.push_back(std::move(r));
        continue;
      }
      if (!ok) {
        // Logged with its public key (never a secret), once a minute per
        // key: a refused client may come back at once.
        const std::string key = r.key.empty() ? "(not CURVE)" : r.key;
        if (std::find(s.refused.begin(), s.refused.end(), key) == s.refused.end()) {
          s.refused.push_back(key);
        }
        auto [logged, never] = s.refused_logged.try_emplace(key, now);
        if (never || now - logged->second > std::chrono::minutes(1)) {
          logged->second = now;
          LogContext ctx;
          ctx.stage = "curve";
          LogWarn(ctx, "refused CURVE key " + key + " from " + r.address +
                           (s.accepted_complete ? ": not among the accepted keys"
                                                : ": not a peer the coordinator announced"));
        }
      }
      answers.emplace_back(std::move(r), ok);
    }
  }
  held_ = std::move(still);
  for (const auto& [r, ok] : answers) Reply(r, ok);
}

void ZapHandler::Reply(const Request& r, bool ok) {
  const std::string frames[] = {
      r.route,         "", "1.0", r.request_id, ok ? "200" : "400", ok ? "OK" : "unknown key",
      ok ? r.key : "", ""};
  const size_t n = sizeof frames / sizeof frames[0];
  for (size_t i = 0; i < n; ++i) {
    socket_.send(zmq::buffer(frames[i]),
                 i + 1 < n ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "lo" || host.rfind("127.", 0) == 0 || host == "[::1]" ||
         host == "::1";
}

}  // namespace

Status SealProcess(const SealOptions& options) {
  SealState& s = State();
  std::lock_guard lock(s.mu);
  s.keys = options.keys;
  s.accepted = options.accepted;
  s.accepted_complete = options.accepted_complete;
  s.peer_wait = options.peer_wait;
  s.insecure = options.insecure;
  if (s.keys && !s.zap) {
    auto zap = std::make_unique<ZapHandler>();
    SLUICE_RETURN_IF_ERROR(zap->Start());
    s.zap = std::move(zap);
  }
  return Status::Ok();
}

std::optional<CurveKeyPair> ProcessKeys() {
  SealState& s = State();
  std::lock_guard lock(s.mu);
  return s.keys;
}

bool PlaintextAllowed(const std::string& endpoint) {
  if (endpoint.rfind("tcp://", 0) != 0) return true;  // ipc, inproc: this machine only
  {
    SealState& s = State();
    std::lock_guard lock(s.mu);
    if (s.insecure) return true;
  }
  // tcp://HOST:PORT, or tcp://IFACE;HOST:PORT (a source address).
  std::string host = endpoint.substr(6, endpoint.rfind(':') - 6);
  if (auto semi = host.find(';'); semi != std::string::npos) host = host.substr(semi + 1);
  return IsLoopbackHost(host);
}

void AcceptKeys(const std::map<std::string, std::string>& accepted) {
  SealState& s = State();
  std::lock_guard lock(s.mu);
  s.accepted = accepted;
}

std::vector<std::string> RefusedKeys() {
  SealState& s = State();
  std::lock_guard lock(s.mu);
  return s.refused;
}

std::string SenderKey(const zmq::message_t& message) {
  const char* key = zmq_msg_gets(message.handle(), "User-Id");
  return key == nullptr ? std::string() : std::string(key);
}

}  // namespace sluice
