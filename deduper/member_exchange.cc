#include "deduper/member_exchange.h"

#include <algorithm>
#include <thread>

#include "common/runtime/codec.h"

namespace sluice {

Result<std::unique_ptr<MemberServer>> MemberServer::Start(const std::string& bind) {
  std::unique_ptr<MemberServer> s(new MemberServer());
  SLUICE_ASSIGN_OR_RETURN(s->server_,
                          RequestServer::Start(bind, [raw = s.get()](const std::string& request) {
                            return raw->Answer(request);
                          }));
  return s;
}

MemberServer::~MemberServer() { server_.reset(); }

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

Result<std::vector<Record>> FetchMembers(const std::string& endpoint, const std::string& server_key,
                                         const v1::DedupMemberRequest& request,
                                         std::chrono::milliseconds silence) {
  using Clock = std::chrono::steady_clock;
  const std::string peer = "dedup shard at " + endpoint;
  const std::string body = request.SerializeAsString();
  auto client = RequestClient::Create(endpoint, server_key);
  if (!client.ok()) return Status::Unavailable(peer + ": " + client.status().message());
  auto last_answer = Clock::now();
  auto pause = std::chrono::milliseconds(20);
  for (;;) {
    if (Status sent = (*client)->Send(body); !sent.ok()) {
      return Status::Unavailable(peer + ": " + sent.message());
    }
    // Answers to earlier (repeated) requests may queue up: any ready one
    // will do, they are all the same published batch.
    bool answered = false;
    for (;;) {
      auto msg = (*client)->Receive(std::chrono::milliseconds(500));
      if (!msg.ok()) return Status::Unavailable(peer + ": " + msg.status().message());
      if (!*msg) break;
      answered = true;
      v1::DedupMemberReply reply;
      if (!reply.ParseFromString(**msg)) {
        return Status::Corruption(peer + ": member reply does not parse");
      }
      if (!reply.error().empty()) return Status::Corruption(peer + ": " + reply.error());
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
      return Status::Unavailable(peer + " did not answer for " +
                                 std::to_string(silence.count() / 1000) + " s");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(500));
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
