// Shared by the dedup round tests (shard_rounds_test.cc,
// shard_preround_test.cc): the person entity of shard_testing.h resolved on
// one shard, and on N shards that each ingest what the router sends them,
// with the pre-round (docs/dedup.md#guests-by-request) when by_request_,
// rounds 1-3 and round 4 relayed as the coordinator relays them.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "deduper/dedup.h"
#include "deduper/edge_routes.h"
#include "deduper/guest_rows.h"
#include "deduper/shard_map.h"
#include "deduper/shard_preround.h"
#include "deduper/shard_route.h"
#include "deduper/shard_testing.h"

namespace sluice::shard_testing {

namespace fs = std::filesystem;

class ShardRoundsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice-shard-rounds-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    plan_.dedup["person"] = PersonSpec();
    std::vector<Record> people = People(700, 11);
    // Repeated keys: one again as it was, one with other values (so that
    // its blocking keys route it elsewhere), both in later batches.
    Record again = people[5];
    Record changed = people[8];
    changed.values[2] = Value::Str("zzyzx");
    changed.values[3] = Value::Str("99999");
    people.insert(people.begin() + 450, again);
    people.push_back(changed);
    for (size_t i = 0; i < people.size(); i += 100) {
      const size_t end = std::min(people.size(), i + 100);
      batches_.push_back(Batch("people", i / 100, {people.begin() + i, people.begin() + end}));
    }
    // A steward's decisions: a link no blocking rule gives, a non-link, and
    // a link to a record no source holds (none, as on one shard).
    forced_ = {{{"crm", "c1"}, {"crm", "c650"}, true, "dora"},
               {{"crm", "c2"}, {"crm", "c5"}, false, "dora"},
               {{"crm", "c3"}, {"crm", "c4"}, false, "dora"},
               {{"crm", "c7"}, {"erp", "gone"}, true, "dora"}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A shard of `map` ingesting what the router sends it of every batch.
  std::unique_ptr<DedupShard> Shard(const std::string& name, const ShardMap& map,
                                    bool reversed = false) {
    auto shard = DedupShard::Create(plan_, "person", (dir_ / name).string(), forced_);
    EXPECT_TRUE(shard.ok()) << shard.status().ToString();
    for (const RecordBatch& b : Routed(map, reversed)) EXPECT_TRUE((*shard)->Ingest(b).ok());
    return std::move(*shard);
  }

  std::vector<RecordBatch> Routed(const ShardMap& map, bool reversed = false) {
    auto router = ShardRouter::Create(plan_, "person", PersonSchema(), map);
    EXPECT_TRUE(router.ok()) << router.status().ToString();
    router->set_guests_by_request(by_request_);
    std::vector<RecordBatch> out;
    for (const RecordBatch& b : batches_) {
      // As the transformer sends it: home records whole, guest rows.
      RecordBatch part = std::move(router->Split(b)[map.self()]);
      if (part.records.empty() && part.guest_rows.empty()) continue;
      part.RehashAll();
      out.push_back(std::move(part));
    }
    if (reversed) std::reverse(out.begin(), out.end());
    return out;
  }

  v1::BatchId OutputId(uint32_t shard) {
    v1::BatchId id;
    id.set_run_id("run-1");
    id.set_entity("person");
    id.set_source("dedup/" + std::to_string(shard));
    return id;
  }

  // Rounds 1-3 over N shards, relayed as the coordinator does.
  struct Rounds {
    std::vector<std::unique_ptr<DedupShard>> shards;
    std::vector<ShardMap> maps;
    std::vector<v1::DedupBlocks> blocks;
    std::vector<v1::DedupPatterns> patterns;
    v1::DedupEdges edges;
    std::vector<v1::DedupEdges> by_shard;
    // The pre-round: what each shard was sent of the others' claims, every
    // owner's wants, and the guest rows each shard took.
    std::vector<std::vector<v1::DedupKeyClaims>> claims;
    std::vector<v1::DedupGuestWants> wants;
    std::vector<uint64_t> guests_taken;
  };

  // The guest rows `s` serves `owner`: one batch per ingested batch.
  std::vector<RecordBatch> ServedBy(Rounds& r, uint32_t s, uint32_t owner) {
    auto served = preround::GuestsFor(*r.shards[s], r.maps[s], r.wants);
    EXPECT_TRUE(served.ok()) << served.status().ToString();
    if (!served.ok() || served->count(owner) == 0) return {};
    return std::move((*served)[owner]);
  }

  // Relays the pre-round; `tamper` (when set) changes the rows each owner
  // is sent first.
  void PreRound(Rounds& r, const std::function<void(uint32_t, std::vector<RecordBatch>*)>& tamper) {
    const uint32_t n = static_cast<uint32_t>(r.shards.size());
    r.claims.assign(n, {});
    for (uint32_t s = 0; s < n; ++s) {
      auto c = preround::ClaimBlocks(*r.shards[s], r.maps[s]);
      EXPECT_TRUE(c.ok()) << c.status().ToString();
      if (!c.ok()) return;
      for (v1::DedupKeyClaims& claim : *c) r.claims.at(claim.owner()).push_back(std::move(claim));
    }
    r.wants.clear();
    for (uint32_t s = 0; s < n; ++s) {
      auto w = preround::WantGuests(*r.shards[s], r.maps[s], r.claims[s]);
      EXPECT_TRUE(w.ok()) << w.status().ToString();
      r.wants.push_back(w.ok() ? *w : v1::DedupGuestWants());
    }
    std::vector<std::vector<RecordBatch>> to(n);
    for (uint32_t s = 0; s < n; ++s) {
      for (uint32_t owner = 0; owner < n; ++owner) {
        if (owner == s) continue;
        for (RecordBatch& b : ServedBy(r, s, owner)) to[owner].push_back(std::move(b));
      }
    }
    r.guests_taken.assign(n, 0);
    for (uint32_t owner = 0; owner < n; ++owner) {
      if (tamper) tamper(owner, &to[owner]);
      for (const RecordBatch& b : to[owner]) r.guests_taken[owner] += guest::Count(b.guest_rows);
      Status st = preround::TakeGuests(*r.shards[owner], to[owner]);
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
  }
  Rounds RunRounds(
      uint32_t n, const std::string& tag,
      const std::function<void(uint32_t, std::vector<RecordBatch>*)>& tamper = nullptr) {
    Rounds r;
    for (uint32_t s = 0; s < n; ++s) {
      r.maps.emplace_back(n, s);
      r.shards.push_back(
          Shard(tag + std::to_string(n) + "-" + std::to_string(s), r.maps[s], s % 2 == 1));
    }
    if (by_request_ && n > 1) PreRound(r, tamper);
    for (uint32_t s = 0; s < n; ++s) {
      auto b = r.shards[s]->SummarizeBlocks(r.maps[s]);
      EXPECT_TRUE(b.ok()) << b.status().ToString();
      r.blocks.push_back(*b);
    }
    for (uint32_t s = 0; s < n; ++s) {
      auto p = r.shards[s]->ComparePairs(r.maps[s], r.blocks);
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      r.patterns.push_back(*p);
    }
    r.by_shard.resize(n);
    for (uint32_t s = n; s-- > 0;) {  // relayed in any order
      auto e = r.shards[s]->DecidePairs(r.maps[s], r.blocks, r.patterns);
      EXPECT_TRUE(e.ok()) << e.status().ToString();
      for (const auto& edge : e->edges()) *r.edges.add_edges() = edge;
      r.by_shard[s] = *e;
    }
    return r;
  }

  // Round 4: each shard serves, then resolves fetching from the others,
  // each given its own view of the edges as the coordinator relays them
  // (edge_routes.h); `without_detail` counts the edges each view strips,
  // `tamper` (when set) changes the views first.
  Outcome Round4(Rounds& r, uint64_t* fetched = nullptr,
                 std::vector<size_t>* without_detail = nullptr,
                 const std::function<void(v1::DedupEdges*)>& tamper = nullptr) {
    const uint32_t n = static_cast<uint32_t>(r.shards.size());
    std::vector<v1::DedupEdges> views = RouteEdges(ShardMap(n, 0), r.edges);
    for (v1::DedupEdges& view : views) {
      EXPECT_EQ(view.edges_size(), r.edges.edges_size());
      size_t stripped = 0;
      for (int e = 0; e < view.edges_size(); ++e) {
        stripped += view.edges(e).detail().empty() && !r.edges.edges(e).detail().empty();
      }
      if (without_detail) without_detail->push_back(stripped);
      if (tamper) tamper(&view);
    }
    std::vector<std::map<uint32_t, RecordBatch>> serve(n);
    for (uint32_t s = 0; s < n; ++s) {
      auto m = r.shards[s]->MembersFor(r.maps[s], views[s]);
      EXPECT_TRUE(m.ok()) << m.status().ToString();
      serve[s] = *m;
    }
    Outcome o;
    std::vector<std::vector<uint64_t>> counted(n);  // by each shard: every shard's batches
    std::vector<uint64_t> batches(n);
    for (uint32_t s = 0; s < n; ++s) {
      auto fetch = [&](uint32_t p) -> Result<std::vector<Record>> {
        EXPECT_NE(p, s);
        auto it = serve[p].find(s);
        if (it == serve[p].end()) return std::vector<Record>{};
        if (fetched) *fetched += it->second.records.size();
        return it->second.records;
      };
      // Batches of 5: a count off by a record shows in the batch counts.
      auto res = r.shards[s]->ResolveWith(r.maps[s], r.blocks, views[s], fetch, OutputId(s), 5);
      EXPECT_TRUE(res.ok()) << res.status().ToString();
      if (!res.ok()) continue;
      Add(*res, &o);
      counted[s] = res->stream_batches;
      batches[s] = res->batches.size();
    }
    for (uint32_t s = 0; s < n; ++s) EXPECT_EQ(counted[s], batches) << "as counted by " << s;
    Sort(&o);
    return o;
  }

  Outcome Single() {
    auto shard = DedupShard::Create(plan_, "person", (dir_ / "single").string(), forced_);
    EXPECT_TRUE(shard.ok());
    for (const RecordBatch& b : batches_) EXPECT_TRUE((*shard)->Ingest(b).ok());
    auto res = (*shard)->Resolve(OutputId(0), 64);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    Outcome one;
    Add(*res, &one);
    Sort(&one);
    EXPECT_EQ(one.in, (*shard)->record_count());
    return one;
  }

  bool by_request_ = false;  // guest rows in the pre-round (n > 1)
  fs::path dir_;
  Plan plan_;
  std::vector<RecordBatch> batches_;
  std::vector<ForcedPair> forced_;
};

}  // namespace sluice::shard_testing
