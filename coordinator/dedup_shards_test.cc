#include "coordinator/dedup_shards.h"

#include <gtest/gtest.h>

#include "common/core/hash.h"
#include "common/core/record.h"
#include "deduper/shard_map.h"

namespace sluice::coordination {
namespace {

v1::BatchId Entity() {
  v1::BatchId id;
  id.set_run_id("r");
  id.set_wave(0);
  id.set_entity("hcp");
  return id;
}

v1::Commit RoundCommit(const std::string& stage, uint32_t shard, uint64_t epoch) {
  v1::Commit c;
  c.set_stage(stage);
  *c.mutable_batch() = Entity();
  c.mutable_batch()->set_source("dedup/" + std::to_string(shard) + "/x");
  c.set_epoch(epoch);
  c.set_dedup_shard(shard);
  return c;
}

// A shard's resolution: `out` survivors, and fates (MERGED) for `merged`.
v1::Commit Resolved(uint32_t shard, uint64_t epoch, std::vector<std::string> out,
                    std::vector<std::string> merged) {
  v1::Commit c = RoundCommit("dedup_resolve", shard, epoch);
  c.mutable_batch()->set_source("dedup/" + std::to_string(shard) + "/resolve");
  KeyChecksum in, o;
  for (const auto& k : out) {
    o.Add("crm", k);
    in.Add("crm", k);
  }
  for (const auto& k : merged) {
    v1::Fate* f = c.add_fates();
    f->set_kind(v1::FATE_MERGED);
    f->set_source("crm");
    f->set_key(k);
    in.Add("crm", k);
    v1::MatchDecision* d = c.add_match_decisions();
    d->set_a_source("crm");
    d->set_a_key(k);
  }
  c.mutable_counts()->set_in(out.size() + merged.size());
  c.mutable_counts()->set_out(out.size());
  c.mutable_counts()->set_merged(merged.size());
  c.mutable_counts()->set_in_checksum(in.value());
  c.mutable_counts()->set_out_checksum(o.value());
  c.mutable_match_summary()->set_comparisons(10 + shard);
  c.mutable_match_summary()->add_notes("EM: the same everywhere");
  // Shard s scored s + 1 pairs at weight 3 and one at weight -2.
  for (auto [floor, pairs] : {std::pair<int, uint64_t>{-2, 1}, {3, shard + 1}}) {
    v1::WeightBin* bin = c.mutable_match_summary()->add_weight_bins();
    bin->set_floor(floor);
    bin->set_pairs(pairs);
  }
  c.mutable_match_summary()->set_merge_threshold(12);
  c.mutable_match_summary()->set_review_threshold(6);
  return c;
}

TEST(DedupShardsTest, RelaysEachRoundOnceEveryShardReported) {
  DedupShards shards(2, 2);
  Ledger ledger;
  auto start = shards.StartResolve(Entity(), 7);
  ASSERT_EQ(start.size(), 2u);
  EXPECT_EQ(start[1].first, "deduper-1");
  EXPECT_EQ(start[1].second.dedup_round(), 1u);

  // Round 1: block summaries, relayed to every shard.
  v1::Commit b0 = RoundCommit("dedup_blocks", 0, 7);
  b0.mutable_dedup_blocks()->set_records(5);
  EXPECT_TRUE(shards.OnCommit(v1::Commit(b0), &ledger).leases.empty());
  EXPECT_TRUE(shards.OnCommit(RoundCommit("dedup_blocks", 1, 6), &ledger).leases.empty())
      << "a stale epoch must not count";
  auto round2 = shards.OnCommit(RoundCommit("dedup_blocks", 1, 7), &ledger);
  ASSERT_EQ(round2.leases.size(), 2u);
  EXPECT_EQ(round2.leases[0].second.dedup_round(), 2u);
  ASSERT_EQ(round2.leases[0].second.dedup_blocks_size(), 2);
  EXPECT_EQ(round2.leases[0].second.dedup_blocks(0).records(), 5u);

  // Round 2: pattern counts, relayed with the summaries.
  v1::Commit p0 = RoundCommit("dedup_patterns", 0, 7);
  p0.mutable_dedup_patterns()->set_records(5);
  EXPECT_TRUE(shards.OnCommit(v1::Commit(p0), &ledger).leases.empty());
  auto round3 = shards.OnCommit(RoundCommit("dedup_patterns", 1, 7), &ledger);
  ASSERT_EQ(round3.leases.size(), 2u);
  EXPECT_EQ(round3.leases[1].second.dedup_round(), 3u);
  EXPECT_EQ(round3.leases[1].second.dedup_patterns_size(), 2);
  EXPECT_EQ(round3.leases[1].second.dedup_blocks_size(), 2);

  // Round 3: edges, all of them to every shard.
  v1::Commit e0 = RoundCommit("dedup_edges", 0, 7), e1 = RoundCommit("dedup_edges", 1, 7);
  e0.mutable_dedup_edges()->add_edges()->set_a_key("a1");
  e1.mutable_dedup_edges()->add_edges()->set_a_key("a2");
  e1.mutable_dedup_edges()->add_edges()->set_a_key("a3");
  EXPECT_FALSE(shards.RebuildLease(1, 9).has_value());
  EXPECT_TRUE(shards.MemberRoundAgain(0).empty()) << "no round 4 before every edge is in";
  EXPECT_TRUE(shards.OnCommit(v1::Commit(e1), &ledger).leases.empty());
  auto round4 = shards.OnCommit(v1::Commit(e0), &ledger);
  ASSERT_EQ(round4.leases.size(), 2u);
  EXPECT_EQ(round4.leases[1].second.dedup_round(), 4u);
  EXPECT_EQ(round4.leases[1].second.dedup_edges().edges_size(), 3);
  auto rebuild = shards.RebuildLease(1, 9);
  ASSERT_TRUE(rebuild.has_value());
  EXPECT_TRUE(rebuild->dedup_rebuild());
  EXPECT_EQ(rebuild->dedup_round(), 4u);
  EXPECT_EQ(rebuild->dedup_edges().edges_size(), 3);
  // A shard registering again: the others get round 4 again, for its new
  // member endpoint (filled in as the lease is sent).
  auto again = shards.MemberRoundAgain(1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].first, "deduper-0");
  EXPECT_EQ(again[0].second.dedup_round(), 4u);
  DedupShards::FillPeers({"tcp://a:1", "tcp://b:2"}, &again[0].second);
  ASSERT_EQ(again[0].second.dedup_peers_size(), 2);
  EXPECT_EQ(again[0].second.dedup_peers(1), "tcp://b:2");

  auto first = shards.OnCommit(Resolved(1, 7, {"b", "c", "d"}, {"x"}), &ledger);
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  EXPECT_FALSE(first.resolved);
  auto done = shards.OnCommit(Resolved(0, 7, {"a"}, {"w", "y"}), &ledger);
  ASSERT_TRUE(done.status.ok()) << done.status.ToString();
  ASSERT_TRUE(done.resolved);
  // Their resolutions as one (a single part here: they are small).
  v1::Commit r;
  ASSERT_TRUE(shards
                  .EmitResolution([&](v1::Commit&& part) {
                    r.MergeFrom(part);
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_TRUE(r.resolve_part().last());
  EXPECT_EQ(r.epoch(), 7u);
  EXPECT_EQ(r.batch().source(), "dedup/resolve");
  EXPECT_EQ(r.counts().in(), 7u);
  EXPECT_EQ(r.counts().out(), 4u);
  EXPECT_EQ(r.counts().merged(), 3u);
  ASSERT_EQ(r.fates_size(), 3);
  EXPECT_EQ(r.fates(0).key(), "w");  // (source, key) order across shards
  EXPECT_EQ(r.fates(1).key(), "x");
  EXPECT_EQ(r.match_decisions(1).a_key(), "x");
  EXPECT_EQ(r.match_summary().comparisons(), 21u);
  EXPECT_EQ(r.match_summary().notes_size(), 1);
  // The weight histograms add up bin by bin; the thresholds are the plan's.
  ASSERT_EQ(r.match_summary().weight_bins_size(), 2);
  EXPECT_EQ(r.match_summary().weight_bins(0).floor(), -2);
  EXPECT_EQ(r.match_summary().weight_bins(0).pairs(), 2u);
  EXPECT_EQ(r.match_summary().weight_bins(1).floor(), 3);
  EXPECT_EQ(r.match_summary().weight_bins(1).pairs(), 3u);
  EXPECT_EQ(r.match_summary().merge_threshold(), 12);
  EXPECT_EQ(r.match_summary().review_threshold(), 6);
  // Shard 0: one batch of its one survivor; shard 1: two batches of two.
  ASSERT_EQ(shards.outputs().size(), 3u);
  EXPECT_EQ(BatchName(shards.outputs()[0]), "r/0/hcp/dedup/0/0");
  EXPECT_EQ(BatchName(shards.outputs()[2]), "r/0/hcp/dedup/1/1");
  EXPECT_EQ(shards.OutputShard(2), 1u);
  EXPECT_TRUE(ledger.Totals({}, {}).empty());
}

// Round 4: every shard gets every edge, but the detail of an edge only
// when a record its edges join is home there (deduper/edge_routes.h), in
// the round's leases and in those that bring a replacement back.
TEST(DedupShardsTest, EachShardGetsTheDetailOfItsOwnRecordsEdgesOnly) {
  DedupShards shards(2, 2);
  Ledger ledger;
  shards.StartResolve(Entity(), 3);
  for (uint32_t s : {0u, 1u}) shards.OnCommit(RoundCommit("dedup_blocks", s, 3), &ledger);
  for (uint32_t s : {0u, 1u}) shards.OnCommit(RoundCommit("dedup_patterns", s, 3), &ledger);
  // Two keys homed on each shard.
  const ShardMap map(2, 0);
  std::vector<std::vector<std::string>> homed(2);
  for (int i = 0; homed[0].size() < 2 || homed[1].size() < 2; ++i) {
    const std::string key = "k" + std::to_string(i);
    auto& keys = homed[map.HomeOf("crm", key)];
    if (keys.size() < 2) keys.push_back(key);
  }
  DedupShards::Step step;
  for (uint32_t s : {0u, 1u}) {
    v1::Commit c = RoundCommit("dedup_edges", s, 3);
    v1::DedupEdge* e = c.mutable_dedup_edges()->add_edges();
    e->set_a_source("crm");
    e->set_a_key(homed[s][0]);
    e->set_b_source("crm");
    e->set_b_key(homed[s][1]);
    e->set_rule("scored");
    e->set_detail("pair of shard " + std::to_string(s));
    step = shards.OnCommit(std::move(c), &ledger);
  }
  auto details = [](const v1::Lease& lease) {
    std::vector<std::string> out;
    for (const v1::DedupEdge& e : lease.dedup_edges().edges()) {
      EXPECT_FALSE(e.a_key().empty());
      out.push_back(e.detail());
    }
    return out;
  };
  const std::vector<std::vector<std::string>> want = {{"pair of shard 0", ""},
                                                      {"", "pair of shard 1"}};
  ASSERT_EQ(step.leases.size(), 2u);
  for (uint32_t s : {0u, 1u}) {
    EXPECT_EQ(step.leases[s].first, DedupShards::Identity(s));
    EXPECT_EQ(details(step.leases[s].second), want[s]);
  }
  auto round4 = shards.Redrive(1, nullptr);  // a replacement: its own view
  ASSERT_EQ(round4.size(), 1u);
  EXPECT_EQ(details(round4[0].second), want[1]);
  auto again = shards.MemberRoundAgain(1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(details(again[0].second), want[0]);
  auto rebuild = shards.RebuildLease(1, 3);
  ASSERT_TRUE(rebuild.has_value());
  EXPECT_EQ(details(*rebuild), want[1]);
}

// A shard that dies mid-resolve is brought back into the round it owes,
// under the same epoch; one that had resolved is rebuilt and resends.
TEST(DedupShardsTest, ADeadShardIsRedrivenIntoTheCurrentRound) {
  DedupShards shards(2, 2);
  Ledger ledger;
  shards.StartResolve(Entity(), 5);
  auto r1 = shards.Redrive(1, nullptr);
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r1[0].first, "deduper-1");
  EXPECT_EQ(r1[0].second.dedup_round(), 1u);
  EXPECT_EQ(r1[0].second.epoch(), 5u);
  shards.OnCommit(RoundCommit("dedup_blocks", 1, 5), &ledger);
  EXPECT_TRUE(shards.Redrive(1, nullptr).empty());  // reported: round 2 will reach it
  shards.OnCommit(RoundCommit("dedup_blocks", 0, 5), &ledger);
  auto r2 = shards.Redrive(0, nullptr);
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(r2[0].second.dedup_round(), 2u);
  EXPECT_EQ(r2[0].second.dedup_blocks_size(), 2);
  shards.OnCommit(RoundCommit("dedup_patterns", 0, 5), &ledger);
  shards.OnCommit(RoundCommit("dedup_patterns", 1, 5), &ledger);
  auto r3 = shards.Redrive(1, nullptr);
  ASSERT_EQ(r3.size(), 1u);
  EXPECT_EQ(r3[0].second.dedup_round(), 3u);
  EXPECT_EQ(r3[0].second.dedup_patterns_size(), 2);
  shards.OnCommit(RoundCommit("dedup_edges", 0, 5), &ledger);
  shards.OnCommit(RoundCommit("dedup_edges", 1, 5), &ledger);
  auto r4 = shards.Redrive(1, nullptr);
  ASSERT_EQ(r4.size(), 1u);
  EXPECT_EQ(r4[0].second.dedup_round(), 4u);
  EXPECT_FALSE(r4[0].second.dedup_rebuild());
  ASSERT_TRUE(shards.OnCommit(Resolved(1, 5, {"b", "c", "d"}, {}), &ledger).status.ok());
  EXPECT_TRUE(shards.Resolved(1));
  std::vector<v1::BatchId> resend;
  auto again = shards.Redrive(1, &resend);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].second.dedup_rebuild());
  ASSERT_EQ(resend.size(), 2u);
  EXPECT_EQ(BatchName(resend[1]), "r/0/hcp/dedup/1/1");
}

TEST(DedupShardsTest, AShardResolutionThatDoesNotAddUpIsRefused) {
  DedupShards shards(2, 10);
  Ledger ledger;
  shards.StartResolve(Entity(), 3);
  v1::Commit bad = Resolved(0, 3, {"a"}, {"b"});
  bad.mutable_counts()->set_in(3);  // one record unaccounted for
  auto step = shards.OnCommit(v1::Commit(bad), &ledger);
  EXPECT_EQ(step.status.code(), StatusCode::kCorruption);
  EXPECT_NE(step.status.message().find("does not add up"), std::string::npos);
  EXPECT_FALSE(step.resolved);
}

TEST(DedupShardsTest, RegisterReplyCarriesTheShardMap) {
  v1::RegisterReply reply;
  DedupShards(4, 10).FillRegisterReply(&reply);
  EXPECT_EQ(reply.dedup_shards(), 4u);
  ASSERT_EQ(reply.dedup_shard_map_size(), 256);
  EXPECT_EQ(reply.dedup_shard_map(6), 2u);
}

// The pre-round of a fuzzy spec (docs/dedup.md#guests-by-request): claims
// to their owner, every owner's wants to every shard, round 1 once every
// shard took its rows; a replacement is brought back into the step it owes,
// and in rounds 1-3 takes its rows again first.
TEST(DedupShardsTest, RelaysThePreRoundBeforeRoundOne) {
  DedupShards shards(2, 2);
  Ledger ledger;
  auto start = shards.StartResolve(Entity(), 4, /*preround=*/true);
  ASSERT_EQ(start.size(), 2u);
  EXPECT_EQ(start[0].second.dedup_round(), DedupShards::kClaimRound);
  EXPECT_EQ(shards.Redrive(1, nullptr).at(0).second.dedup_round(), DedupShards::kClaimRound);
  // Claims: shard s claims key 10 + s on the other's blocks.
  auto claims = [](uint32_t s) {
    v1::Commit c = RoundCommit("dedup_claims", s, 4);
    v1::DedupKeyClaims* claim = c.add_dedup_key_claims();
    claim->set_shard(s);
    claim->set_owner(1 - s);
    claim->add_rules()->add_keys(10 + s);
    return c;
  };
  EXPECT_TRUE(shards.OnCommit(RoundCommit("dedup_blocks", 0, 4), &ledger).leases.empty())
      << "no summary before the rows";
  EXPECT_TRUE(shards.OnCommit(claims(0), &ledger).leases.empty());
  EXPECT_TRUE(shards.Redrive(0, nullptr).empty()) << "claimed: the wants will reach it";
  auto wants = shards.OnCommit(claims(1), &ledger);
  ASSERT_EQ(wants.leases.size(), 2u);
  for (uint32_t s : {0u, 1u}) {
    const v1::Lease& lease = wants.leases[s].second;
    EXPECT_EQ(lease.dedup_round(), DedupShards::kWantRound);
    ASSERT_EQ(lease.dedup_key_claims_size(), 1);
    EXPECT_EQ(lease.dedup_key_claims(0).owner(), s) << "each owner its own claims";
    EXPECT_EQ(lease.dedup_key_claims(0).rules(0).keys(0), 10 + (1 - s));
  }
  // A replacement of shard 1 before it wanted: its claims again.
  auto again = shards.Redrive(1, nullptr);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].second.dedup_round(), DedupShards::kWantRound);
  EXPECT_EQ(again[0].second.dedup_key_claims(0).rules(0).keys(0), 10u);
  v1::Commit bad = RoundCommit("dedup_wants", 0, 4);
  bad.mutable_dedup_guest_wants()->set_owner(1);
  EXPECT_FALSE(shards.OnCommit(std::move(bad), &ledger).status.ok()) << "another's wants";
  for (uint32_t s : {0u, 1u}) {
    v1::Commit w = RoundCommit("dedup_wants", s, 4);
    w.mutable_dedup_guest_wants()->set_owner(s);
    w.mutable_dedup_guest_wants()->add_rules()->add_keys(20 + s);
    wants = shards.OnCommit(std::move(w), &ledger);
  }
  ASSERT_EQ(wants.leases.size(), 2u);
  const v1::Lease& rows = wants.leases[1].second;
  EXPECT_EQ(rows.dedup_round(), DedupShards::kRowRound);
  EXPECT_TRUE(DedupShards::NeedsPeers(rows));
  ASSERT_EQ(rows.dedup_guest_wants_size(), 2);
  EXPECT_EQ(rows.dedup_guest_wants(1).rules(0).keys(0), 21u);
  // Shard 0 took its rows; shard 1 registers again: shard 0 is done, so
  // nothing for it, and the replacement is given the rows lease.
  EXPECT_TRUE(shards.OnCommit(RoundCommit("dedup_guests", 0, 4), &ledger).leases.empty());
  EXPECT_TRUE(shards.MemberRoundAgain(1).empty());
  auto back = shards.MemberRoundAgain(0);
  ASSERT_EQ(back.size(), 1u) << "shard 1 may wait for shard 0's rows at its old endpoint";
  EXPECT_EQ(back[0].second.dedup_round(), DedupShards::kRowRound);
  EXPECT_EQ(shards.Redrive(1, nullptr).at(0).second.dedup_round(), DedupShards::kRowRound);
  auto round1 = shards.OnCommit(RoundCommit("dedup_guests", 1, 4), &ledger);
  ASSERT_EQ(round1.leases.size(), 2u);
  EXPECT_EQ(round1.leases[0].second.dedup_round(), 1u);
  // Rounds 1-3: a replacement takes its rows again, then the round.
  auto r1 = shards.Redrive(1, nullptr);
  ASSERT_EQ(r1.size(), 2u);
  EXPECT_EQ(r1[0].second.dedup_round(), DedupShards::kRowRound);
  EXPECT_EQ(r1[0].second.dedup_guest_wants_size(), 2);
  EXPECT_EQ(r1[1].second.dedup_round(), 1u);
  shards.OnCommit(RoundCommit("dedup_blocks", 1, 4), &ledger);
  auto r2 = shards.Redrive(1, nullptr);
  ASSERT_EQ(r2.size(), 1u) << "reported: round 2 reaches it with the others";
  EXPECT_EQ(r2[0].second.dedup_round(), DedupShards::kRowRound);
  shards.OnCommit(RoundCommit("dedup_blocks", 0, 4), &ledger);
  shards.OnCommit(RoundCommit("dedup_patterns", 0, 4), &ledger);
  auto r3 = shards.Redrive(1, nullptr);
  ASSERT_EQ(r3.size(), 2u);
  EXPECT_EQ(r3[0].second.dedup_round(), DedupShards::kRowRound);
  EXPECT_EQ(r3[1].second.dedup_round(), 2u);
  shards.OnCommit(RoundCommit("dedup_patterns", 1, 4), &ledger);
  shards.OnCommit(RoundCommit("dedup_edges", 0, 4), &ledger);
  shards.OnCommit(RoundCommit("dedup_edges", 1, 4), &ledger);
  auto r4 = shards.Redrive(1, nullptr);
  ASSERT_EQ(r4.size(), 1u) << "round 4 needs no rows";
  EXPECT_EQ(r4[0].second.dedup_round(), 4u);
  // Without a fuzzy spec the resolve starts at round 1.
  EXPECT_EQ(shards.StartResolve(Entity(), 9).at(0).second.dedup_round(), 1u);
}

}  // namespace
}  // namespace sluice::coordination
