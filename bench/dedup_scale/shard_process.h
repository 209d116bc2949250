// A dedup shard in a child process of the bench, driven over a socket pair
// the way the coordinator and the transformer drive a sluice-deduper:
// routed batches in, the four resolve rounds relayed (docs/dedup.md#scale-out),
// so that each shard's peak RSS and CPU time are its own process's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/core/record.h"
#include "common/core/status.h"
#include "common/plan/plan.h"
#include "deduper/shard_map.h"
#include "sluice/v1/control.pb.h"

namespace sluice::bench {

// What a shard's resolution gives the bench to score it against the truth.
struct ShardOutcome {
  uint64_t in = 0;  // records the resolution accounts for
  uint64_t comparisons = 0, merge = 0, review = 0, distinct = 0;
  uint64_t merged_records = 0, review_records = 0;  // fates
  double compare_seconds = 0, compare_cpu_seconds = 0;
  std::vector<std::string> notes;
  // Per survivor with merged records: "source:key" of the survivor, then of
  // each record merged into it.
  std::vector<std::vector<std::string>> clusters;
};

// What the child used, read by the child itself when told to finish.
struct ShardUsage {
  uint64_t peak_rss_kb = 0;  // VmHWM of its address space (forked small, see Spawn)
  double cpu_seconds = 0;    // user + system
};

class ShardProcess {
 public:
  // Forks a child that opens a shard of `entity` with its log at `log_path`
  // and serves commands until Finish. Fork before the parent holds much
  // memory: the child's peak RSS starts at the parent's at fork time.
  static Result<ShardProcess> Spawn(const Plan& plan, const std::string& entity,
                                    const std::string& log_path);

  // Each call below is split in a send and a receive so that the bench can
  // drive every shard at once: Send* to all, then Receive* from all.
  Status SendIngest(const RecordBatch& batch);
  Status ReceiveAck();
  Status SendResolve();  // the single-shard resolve
  Result<ShardOutcome> ReceiveOutcome();
  // The rounds' inputs go serialized (every shard's summaries, counts and
  // edges): the relay serializes each once for every shard, as the
  // coordinator relays what the shards sent.
  Status SendSummarize(const ShardMap& map);
  Result<std::string> ReceiveBlocks();  // a serialized v1::DedupBlocks
  Status SendCompare(const ShardMap& map, const std::vector<std::string>& blocks);
  Result<std::string> ReceivePatterns();  // a serialized v1::DedupPatterns
  Status SendDecide(const ShardMap& map, const std::vector<std::string>& blocks,
                    const std::vector<std::string>& patterns);
  Result<v1::DedupEdges> ReceiveEdges();
  Status SendMembersFor(const ShardMap& map, const std::string& all);
  // Per shard ordinal, the serialized v1::RecordBatch this shard serves it;
  // adds the number of records served to `count`.
  Result<std::map<uint32_t, std::string>> ReceiveMembers(uint64_t* count);
  // `members`: per peer ordinal, the serialized batch that peer serves this
  // shard. Answered by ReceiveOutcome.
  Status SendResolveWith(const ShardMap& map, const std::vector<std::string>& blocks,
                         const std::string& all, const std::map<uint32_t, std::string>& members);
  // The pre-round (docs/dedup.md#guests-by-request), relayed as the rounds
  // are: "claim" (answer: per owner, its ordinal and the serialized
  // v1::DedupKeyClaims), "want" given the claims addressed to this shard
  // (answer: a serialized v1::DedupGuestWants), "guests_for" given every
  // shard's wants (answer: per batch of rows, "owner rows" and the
  // serialized v1::RecordBatch), "take_guests" given the batches of rows
  // addressed to this shard.
  Status SendPreRound(const std::string& what, const ShardMap& map,
                      const std::vector<std::string>& payload);
  Result<std::vector<std::string>> ReceiveParts();
  // Ends the child, returns what it used, and reaps it.
  Result<ShardUsage> Finish();

 private:
  int fd_ = -1;
  pid_t pid_ = 0;
};

}  // namespace sluice::bench
