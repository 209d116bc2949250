#include "deduper/member_exchange.h"

#include <algorithm>
#include <functional>
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

void MemberServer::PublishGuests(const std::string& resolution, uint64_t epoch,
                                 std::map<uint32_t, std::vector<RecordBatch>> by_owner) {
  Published p;
  p.epoch = epoch;
  for (auto& [owner, batches] : by_owner) {
    v1::DedupGuestReply reply;
    reply.set_ready(true);
    for (RecordBatch& b : batches) {
      std::string rows = std::move(b.guest_rows);
      b.guest_rows.clear();
      v1::RecordBatch* wire = reply.add_batches();
      EncodeBatch(b, wire);
      wire->set_guest_rows(std::move(rows));
    }
    std::vector<RecordBatch>().swap(batches);
    reply.SerializeToString(&p.encoded[owner]);
  }
  std::lock_guard lock(mu_);
  guests_[resolution] = std::move(p);
}

void MemberServer::WithdrawGuests(const std::string& resolution) {
  std::lock_guard lock(mu_);
  guests_.erase(resolution);
}

uint64_t MemberServer::served() const {
  std::lock_guard lock(mu_);
  return served_;
}

std::string MemberServer::Answer(const std::string& body) {
  v1::DedupMemberRequest request;
  v1::DedupMemberReply reply;
  static constexpr std::string_view kGuests = "/guests";
  if (!request.ParseFromString(body)) {
    reply.set_error("not a member request");
    return reply.SerializeAsString();
  }
  if (request.resolution().ends_with(kGuests)) {
    const std::string resolution =
        request.resolution().substr(0, request.resolution().size() - kGuests.size());
    std::lock_guard lock(mu_);
    auto it = guests_.find(resolution);
    if (it == guests_.end() || it->second.epoch != request.epoch()) {
      return v1::DedupGuestReply().SerializeAsString();  // not ready
    }
    ++served_;
    auto rows = it->second.encoded.find(request.shard());
    if (rows != it->second.encoded.end()) return rows->second;
    v1::DedupGuestReply none;
    none.set_ready(true);
    return none.SerializeAsString();
  }
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
  return reply.SerializeAsString();
}

namespace {

// Asks until a peer answers with a `Reply` that is ready, and gives it to
// `take`; an answer that does not parse or carries an error fails, one not
// ready yet is asked again; a peer silent for `silence` is Unavailable.
// `what` names the reply in errors.
template <typename Reply>
Status AskUntilReady(const std::string& endpoint, const std::string& server_key,
                     const v1::DedupMemberRequest& request, std::chrono::milliseconds silence,
                     const char* what, const std::function<Status(Reply&)>& take) {
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
    // will do, they are all the same.
    bool answered = false;
    for (;;) {
      auto msg = (*client)->Receive(std::chrono::milliseconds(500));
      if (!msg.ok()) return Status::Unavailable(peer + ": " + msg.status().message());
      if (!*msg) break;
      answered = true;
      Reply reply;
      if (!reply.ParseFromString(**msg)) {
        return Status::Corruption(peer + ": " + what + " reply does not parse");
      }
      std::string().swap(**msg);  // the parsed reply holds it now
      if (!reply.error().empty()) return Status::Corruption(peer + ": " + reply.error());
      if (reply.ready()) return take(reply);
      break;
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

}  // namespace

Result<std::vector<RecordBatch>> FetchGuests(const std::string& endpoint,
                                             const std::string& server_key,
                                             const v1::DedupMemberRequest& request,
                                             std::chrono::milliseconds silence) {
  std::vector<RecordBatch> out;
  SLUICE_RETURN_IF_ERROR(AskUntilReady<v1::DedupGuestReply>(
      endpoint, server_key, request, silence, "guest rows",
      [&](v1::DedupGuestReply& reply) -> Status {
        // Batch by batch, each one's rows moved, not copied.
        for (v1::RecordBatch& wire : *reply.mutable_batches()) {
          std::string rows = std::move(*wire.mutable_guest_rows());
          wire.clear_guest_rows();
          SLUICE_ASSIGN_OR_RETURN(RecordBatch b, DecodeBatch(wire));
          b.guest_rows = std::move(rows);
          out.push_back(std::move(b));
        }
        return Status::Ok();
      }));
  return out;
}

Result<std::vector<Record>> FetchMembers(const std::string& endpoint, const std::string& server_key,
                                         const v1::DedupMemberRequest& request,
                                         std::chrono::milliseconds silence) {
  std::vector<Record> out;
  SLUICE_RETURN_IF_ERROR(AskUntilReady<v1::DedupMemberReply>(
      endpoint, server_key, request, silence, "member", [&](v1::DedupMemberReply& reply) -> Status {
        if (reply.has_members() && reply.members().columns_size() != 0) {
          SLUICE_ASSIGN_OR_RETURN(RecordBatch batch, DecodeBatch(reply.members()));
          out = std::move(batch.records);
        }
        return Status::Ok();
      }));
  return out;
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
