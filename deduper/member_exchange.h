// Round 4 of a multi-shard resolve, shard to shard (docs/dedup.md#scale-out):
// the owner of a cluster builds its golden record from every member, and
// members whose home is another shard come from that shard directly, never
// through the coordinator.
//
// Each dedup shard runs a MemberServer: the runtime's RequestServer
// (common/runtime/request_reply.h), answering on its own thread, so that a
// shard busy with its own round 4 (or blocked fetching from a peer that is
// fetching from it) still answers. A shard publishes what it serves for one
// resolution and epoch; a request for anything else is answered "not
// ready", and the asking shard asks again.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/core/record.h"
#include "common/core/status.h"
#include "common/runtime/request_reply.h"
#include "sluice/v1/control.pb.h"
#include "sluice/v1/dedup_preround.pb.h"

namespace sluice {

class MemberServer {
 public:
  // Binds `bind` ("tcp://10.0.0.5:*", "ipc:///path") and starts serving.
  static Result<std::unique_ptr<MemberServer>> Start(const std::string& bind);
  ~MemberServer();
  MemberServer(const MemberServer&) = delete;
  MemberServer& operator=(const MemberServer&) = delete;

  // The bound endpoint (ZMQ_LAST_ENDPOINT).
  const std::string& endpoint() const { return server_->endpoint(); }

  // From now on, requests of `epoch` for `resolution` ("<wave>-<entity>")
  // get `by_shard[asking shard]` (no entry: an empty batch). Replaces what
  // was published for that resolution before.
  void Publish(const std::string& resolution, uint64_t epoch,
               const std::map<uint32_t, RecordBatch>& by_shard);
  // The pre-round's guest rows (docs/dedup.md#guests-by-request): from now
  // on, requests of `epoch` for "<resolution>/guests" get
  // `by_owner[asking shard]` (one batch of guest rows per transformer batch;
  // no entry: none), as a DedupGuestReply. Replaces what was published for
  // that resolution before; the rows are moved out of `by_owner`.
  void PublishGuests(const std::string& resolution, uint64_t epoch,
                     std::map<uint32_t, std::vector<RecordBatch>> by_owner);
  // Stops serving the rows of `resolution` (round 4 needs none); requests
  // for them are answered "not ready".
  void WithdrawGuests(const std::string& resolution);
  // Requests answered so far (for tests and the log).
  uint64_t served() const;

 private:
  MemberServer() = default;
  std::string Answer(const std::string& request);

  struct Published {
    uint64_t epoch = 0;
    std::map<uint32_t, std::string> encoded;  // by asking shard: serialized RecordBatch
  };
  mutable std::mutex mu_;
  std::map<std::string, Published> published_;  // by resolution
  // The rows by resolution; encoded: the whole serialized DedupGuestReply.
  std::map<std::string, Published> guests_;
  uint64_t served_ = 0;
  // Last: stopped first, while what Answer reads still exists.
  std::unique_ptr<RequestServer> server_;
};

// Asks the shard at `endpoint` (CURVE public key `server_key`, "" in
// plaintext) for the members of `request.resolution`
// that it serves for `request.shard`, until it answers ready. A peer that
// answers "not ready" is asked again; one that stays silent for `silence`
// (dead, or replaced at another endpoint) fails the fetch with
// Unavailable, and the coordinator leases round 4 again with the
// replacement's endpoint.
Result<std::vector<Record>> FetchMembers(const std::string& endpoint, const std::string& server_key,
                                         const v1::DedupMemberRequest& request,
                                         std::chrono::milliseconds silence);

// Asks the shard at `endpoint` for the guest rows it serves for
// `request.shard` (`request.resolution` is "<wave>-<entity>/guests"), until
// it answers ready; as FetchMembers otherwise. One batch of rows per
// transformer batch.
Result<std::vector<RecordBatch>> FetchGuests(const std::string& endpoint,
                                             const std::string& server_key,
                                             const v1::DedupMemberRequest& request,
                                             std::chrono::milliseconds silence);

// The bind endpoint of a worker's member socket: the host (or ipc path) of
// its data bind, on a port of its own.
std::string MemberBindFor(const std::string& data_bind);

}  // namespace sluice
