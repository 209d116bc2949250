// A resolution's decisions on their way to the coordinator: dedup_resolve
// commits of bounded size, in order (proto/sluice/v1/resolve.proto), so
// that neither the deduper's message nor the coordinator's copy of it grows
// with the data (a whole resolution of 8M records would pass protobuf's
// 2 GB limit). The parts hold the fates, then the match decisions, the
// review items and the golden records, each in the resolution's order; the
// last carries the counts, the match summary and the totals the coordinator
// checks the parts against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "deduper/dedup.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

class ResolveWriter {
 public:
  // The default bound of a part, in serialized bytes.
  static constexpr size_t kPartBytes = size_t{4} << 20;

  // `head`: the resolve commit's stage, batch, epoch, dedup shard, counts
  // and match summary; `res`: the resolution whose fates, decisions, review
  // items and golden records move into the parts (its batches stay).
  // `max_bytes`: a part's bound (a part holds at least one item).
  ResolveWriter(v1::Commit head, Resolution& res, size_t max_bytes = kPartBytes);

  // The commit the parts are made of (stage, batch, epoch, counts).
  const v1::Commit& head() const { return head_; }
  // Whether every part has been taken.
  bool done() const { return done_; }
  // The next part (the last one once done()).
  v1::Commit Next();

 private:
  v1::Commit head_;
  // Packed until sent: each item is parsed into the part that carries it.
  PackedMessages<v1::Fate> fates_;
  PackedMessages<v1::MatchDecision> decisions_;
  PackedMessages<v1::ReviewItem> review_items_;
  PackedMessages<v1::GoldenRecord> golden_;
  size_t max_bytes_;
  size_t fate_ = 0, decision_ = 0, review_item_ = 0, golden_record_ = 0;  // the next to send
  uint32_t index_ = 0;
  bool done_ = false;
};

}  // namespace sluice
