// The pre-round of a multi-shard resolve (docs/dedup.md#guests-by-request),
// before round 1, when the router sent each shard its home records and their
// home rows only (ShardRouter::set_guests_by_request): a record's guest row
// then goes only to the owners of its blocks that hold two records or more.
// Relayed like the rounds: claims to their owner, every owner's wants to
// every shard, each batch of rows to its owner. Each call takes a shard made
// by DedupShard::Create (anything else fails with InvalidArgument).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "common/core/record.h"
#include "common/core/status.h"
#include "deduper/dedup.h"
#include "deduper/shard_map.h"
#include "sluice/v1/dedup_preround.pb.h"

namespace sluice::preround {

// The pre-round's steps, as Lease.dedup_round (rounds 1-4 follow).
inline constexpr uint32_t kClaimRound = 11;
inline constexpr uint32_t kWantRound = 12;
inline constexpr uint32_t kRowRound = 13;

// Per other shard, the blocking keys of `shard`'s home records in the blocks
// it owns (per rule, every occurrence, ascending).
Result<std::vector<v1::DedupKeyClaims>> ClaimBlocks(DedupShard& shard, const ShardMap& shards);

// Given the claims addressed to `shard` (any order): its blocks that hold
// two records or more, one of them another shard's.
Result<v1::DedupGuestWants> WantGuests(DedupShard& shard, const ShardMap& shards,
                                       const std::vector<v1::DedupKeyClaims>& claims);

// Given every owner's wants: per owner, the guest rows of `shard`'s home
// records in the blocks it wants, one batch (guest_rows only, named as the
// batch the records came in) per batch that has any.
Result<std::map<uint32_t, std::vector<RecordBatch>>> GuestsFor(
    DedupShard& shard, const ShardMap& shards, const std::vector<v1::DedupGuestWants>& wants);

// Takes every guest row the other shards sent `shard`. They are not logged:
// a replacement (or a batch ingested later, which makes the shard read its
// log again) needs the pre-round again. Taking them twice keeps one copy.
// Each batch's rows are let go of as they are taken.
Status TakeGuests(DedupShard& shard, std::vector<RecordBatch> guests);

}  // namespace sluice::preround
