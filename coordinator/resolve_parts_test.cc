#include "coordinator/resolve_parts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "common/core/record.h"
#include "common/runtime/worker.h"
#include "coordinator/resolution_merge.h"
#include "deduper/resolve_writer.h"

namespace sluice::coordination {
namespace {

v1::BatchId Id(const std::string& source, uint64_t seq = 0) {
  v1::BatchId id;
  id.set_run_id("r");
  id.set_entity("hcp");
  id.set_source(source);
  id.set_sequence(seq);
  return id;
}

v1::Fate Fate(v1::FateKind kind, const std::string& source, const std::string& key) {
  v1::Fate f;
  f.set_kind(kind);
  f.set_source(source);
  f.set_key(key);
  f.set_stage("dedup");
  f.set_survivor_source("crm");
  f.set_survivor_key("s0");
  return f;
}

// A resolution of 40 records of two sources: 10 survivors (one output
// batch), 20 merged, 6 held for review, 4 duplicate keys rejected, with a
// decision per merged or held record, review items and golden records.
struct Resolved {
  Resolution res;
  RecordBatch ingested, output;
  v1::Commit head;
};

Resolved MakeResolution() {
  Resolved r;
  r.ingested.id = Id("crm");
  r.output.id = Id("dedup/0");
  for (int i = 0; i < 40; ++i) {
    const std::string source = i % 2 ? "erp" : "crm";
    const std::string key = "k" + std::to_string(i);
    r.ingested.records.push_back(Record{source, key, 0, 0, {}, {}});
    if (i < 10) {
      r.output.records.push_back(Record{source, key, 0, 0, {}, {}});
      v1::GoldenRecord g;
      g.set_source(source);
      g.set_key(key);
      r.res.golden.push_back(g);
      continue;
    }
    const v1::FateKind kind = i < 30   ? v1::FATE_MERGED
                              : i < 36 ? v1::FATE_REVIEW
                                       : v1::FATE_REJECTED;
    r.res.fates.push_back(Fate(kind, source, key));
    if (kind == v1::FATE_REJECTED) continue;
    v1::MatchDecision d;  // Resolution holds its items packed
    d.set_a_source(source);
    d.set_a_key(key);
    d.set_b_source("crm");
    d.set_b_key("k0");
    d.set_rule("score");
    r.res.decisions.push_back(d);
    if (kind == v1::FATE_REVIEW) {
      v1::ReviewItem item;
      item.set_kind("pair");
      item.set_source(source);
      item.set_key(key);
      r.res.review_items.push_back(item);
    }
  }
  v1::Commit& c = r.head;
  c.set_stage("dedup_resolve");
  *c.mutable_batch() = Id("dedup/0/resolve");
  c.set_epoch(3);
  v1::StageCounts& n = *c.mutable_counts();
  n.set_in(40);
  n.set_out(10);
  n.set_merged(20);
  n.set_review(6);
  n.set_rejected(4);
  n.set_in_checksum(r.ingested.KeyChecksumValue());
  n.set_out_checksum(r.output.KeyChecksumValue());
  c.mutable_match_summary()->set_comparisons(780);
  return r;
}

// The resolution whole, as one commit (what the deduper sent before parts).
v1::Commit Whole(Resolved r) {
  v1::Commit c = r.head;
  for (const auto& f : r.res.fates) *c.add_fates() = f;
  for (const auto& d : r.res.decisions) *c.add_match_decisions() = d;
  for (const auto& item : r.res.review_items) *c.add_review_items() = item;
  for (const auto& g : r.res.golden) *c.add_golden_records() = g;
  return c;
}

std::vector<v1::Commit> Parts(Resolved r, size_t max_bytes) {
  ResolveWriter writer(r.head, r.res, max_bytes);
  std::vector<v1::Commit> parts;
  while (!writer.done()) parts.push_back(writer.Next());
  return parts;
}

// Feeds the ledger's dedup_ingest and output commits of `r`.
void Feed(Ledger& ledger, const Resolved& r) {
  RecordBatch in = r.ingested, out = r.output;
  in.epoch = out.epoch = 3;
  ASSERT_TRUE(ledger.Apply(MakeCommit("dedup_ingest", in, in.records, {})).ok());
  ASSERT_TRUE(ledger.Apply(MakeCommit("dedup", out, out.records, {})).ok());
}

TEST(ResolvePartsTest, TheLedgerAnswersTheSameFromTheDigestOfThePartsAsFromTheWholeCommit) {
  const Resolved r = MakeResolution();
  const std::vector<v1::Commit> parts = Parts(r, 64);  // a few items a part
  ASSERT_GT(parts.size(), 10u);
  Ledger whole_ledger, parts_ledger;
  Feed(whole_ledger, r);
  Feed(parts_ledger, r);
  const v1::Commit whole = Whole(r);
  ASSERT_TRUE(whole_ledger.Apply(whole).ok());
  ResolveParts taken(BatchName(whole.batch()), 3);
  for (const v1::Commit& p : parts) {
    EXPECT_FALSE(taken.complete());
    ASSERT_TRUE(taken.Take(p).ok()) << p.resolve_part().index();
  }
  ASSERT_TRUE(taken.complete());
  ASSERT_TRUE(parts_ledger.ApplyResolution(taken.name(), taken.TakeDigest()).ok());

  const std::string name = BatchName(whole.batch());
  const std::vector<std::string> ingest = {BatchName(r.ingested.id)};
  const std::vector<std::string> output = {BatchName(r.output.id)};
  EXPECT_TRUE(whole_ledger.CheckResolution(name, ingest, output).ok());
  EXPECT_TRUE(parts_ledger.CheckResolution(name, ingest, output).ok());
  std::vector<std::string> all = ingest;
  all.insert(all.end(), output.begin(), output.end());
  auto a = whole_ledger.Totals(all, {name});
  auto b = parts_ledger.Totals(all, {name});
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  for (const std::string source : {"crm", "erp"}) {
    EXPECT_EQ(a[source].fates.merged, 10u) << source;
    EXPECT_EQ(a[source].fates.review, 3u) << source;
    EXPECT_EQ(a[source].fates.rejected, 2u) << source;
    EXPECT_EQ(b[source].fates.merged, a[source].fates.merged) << source;
    EXPECT_EQ(b[source].fates.review, a[source].fates.review) << source;
    EXPECT_EQ(b[source].fates.rejected, a[source].fates.rejected) << source;
    EXPECT_EQ(b[source].fates.checksum.value(), a[source].fates.checksum.value()) << source;
  }
}

TEST(ResolvePartsTest, AWholeCommitIsItsOnlyPart) {
  const Resolved r = MakeResolution();
  const v1::Commit whole = Whole(r);
  ResolveParts taken(BatchName(whole.batch()), 3);
  ASSERT_TRUE(taken.Take(whole).ok());
  EXPECT_TRUE(taken.complete());
  Ledger ledger;
  Feed(ledger, r);
  EXPECT_TRUE(ledger.ApplyResolution(taken.name(), taken.TakeDigest()).ok());
  EXPECT_EQ(Parts(r, ResolveWriter::kPartBytes).size(), 1u);  // small: one part
}

TEST(ResolvePartsTest, ALostPartOrWrongTotalsAreCorruption) {
  const Resolved r = MakeResolution();
  std::vector<v1::Commit> parts = Parts(r, 64);
  {
    ResolveParts taken("res", 3);
    ASSERT_TRUE(taken.Take(parts[0]).ok());
    Status lost = taken.Take(parts[2]);
    EXPECT_EQ(lost.code(), StatusCode::kCorruption);
    EXPECT_NE(lost.message().find("part 2 arrived where part 1 was expected"), std::string::npos)
        << lost.message();
  }
  {
    std::vector<v1::Commit> changed = parts;
    changed.back().mutable_resolve_part()->set_match_decisions(99);
    ResolveParts taken("res", 3);
    Status st;
    for (const v1::Commit& p : changed) st = taken.Take(p);
    EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
    EXPECT_EQ(taken.Take(parts[0]).code(), StatusCode::kCorruption);  // after the last
  }
  {
    // Fates that do not add up to the counts: the ledger refuses.
    std::vector<v1::Commit> changed = parts;
    changed[0].mutable_fates(0)->set_key("elsewhere");
    ResolveParts taken("res", 3);
    for (const v1::Commit& p : changed) ASSERT_TRUE(taken.Take(p).ok());
    Ledger ledger;
    EXPECT_EQ(ledger.ApplyResolution("res", taken.TakeDigest()).code(), StatusCode::kCorruption);
  }
}

// Sorts a resolution's lists as a shard sends them.
void SortAsAShard(Resolution* res) {
  auto by_key = [](auto& list) {
    list.StableSortFrom(0, [&](uint32_t i, uint32_t j) {
      const auto x = list[i];
      const auto y = list[j];
      return std::tie(x.source(), x.key()) < std::tie(y.source(), y.key());
    });
  };
  by_key(res->fates);
  by_key(res->review_items);
  by_key(res->golden);
  res->decisions.StableSortFrom(0, [&](uint32_t i, uint32_t j) {
    const v1::MatchDecision x = res->decisions[i];
    const v1::MatchDecision y = res->decisions[j];
    return std::tie(x.a_source(), x.a_key()) < std::tie(y.a_source(), y.a_key());
  });
}

// Shard `shard` of two's share of `r`: the items whose (first) key ends in
// an even digit on shard 0, the others on shard 1; shard 0 has the counts.
Resolved ShardOf(const Resolved& r, uint32_t shard) {
  Resolved s;
  s.head = r.head;
  s.head.set_dedup_shard(shard);
  if (shard != 0) {
    s.head.clear_counts();
    s.head.clear_match_summary();
  }
  auto mine = [&](const std::string& key) {
    return static_cast<uint32_t>(key.back() - '0') % 2 == shard;
  };
  for (const auto& f : r.res.fates)
    if (mine(f.key())) s.res.fates.push_back(f);
  for (const auto& d : r.res.decisions)
    if (mine(d.a_key())) s.res.decisions.push_back(d);
  for (const auto& item : r.res.review_items)
    if (mine(item.key())) s.res.review_items.push_back(item);
  for (const auto& g : r.res.golden)
    if (mine(g.key())) s.res.golden.push_back(g);
  return s;
}

// Two shards' resolutions, their parts interleaved as they reach the
// coordinator, come out as the one resolution a single shard sends, in
// parts of any size; a shard that starts again from part 0 is taken afresh.
TEST(ResolvePartsTest, TwoShardsResolutionsMergeIntoOneInParts) {
  Resolved r = MakeResolution();
  SortAsAShard(&r.res);
  v1::Commit whole = Whole(r);
  whole.mutable_batch()->set_source("dedup/resolve");
  whole.set_epoch(9);
  for (size_t bytes : {size_t{1}, size_t{64}, size_t{4096}, ResolveWriter::kPartBytes}) {
    ShardResolutions shards("", 2);
    const std::vector<v1::Commit> parts0 = Parts(ShardOf(r, 0), bytes);
    const std::vector<v1::Commit> parts1 = Parts(ShardOf(r, 1), bytes);
    // Shard 1 sends a part, dies and its replacement starts over.
    if (parts1.size() > 1) {
      ASSERT_EQ(shards.Take(1, parts1[0]).ok(), true);
    }
    for (size_t i = 0; i < std::max(parts0.size(), parts1.size()); ++i) {
      for (uint32_t s : {0u, 1u}) {
        const std::vector<v1::Commit>& parts = s == 0 ? parts0 : parts1;
        if (i >= parts.size()) continue;
        Result<bool> last = shards.Take(s, parts[i]);
        ASSERT_TRUE(last.ok()) << last.status().ToString();
        EXPECT_EQ(*last, i + 1 == parts.size());
      }
    }
    ASSERT_TRUE(shards.AllResolved());
    EXPECT_EQ(shards.Counts(0).out(), 10u);
    EXPECT_EQ(shards.Take(0, parts0[0]).status().code(), StatusCode::kCorruption);
    v1::Commit joined;
    ResolveParts check("dedup/resolve", 9);
    size_t parts = 0;
    Status st = shards.Emit("dedup/resolve", 9, bytes, [&](v1::Commit&& part) {
      ++parts;
      SLUICE_RETURN_IF_ERROR(check.Take(part));
      joined.MergeFrom(part);
      return Status::Ok();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_TRUE(check.complete());
    if (bytes == 1) {
      EXPECT_EQ(parts, 72u);  // one item each
    }
    joined.clear_resolve_part();
    EXPECT_EQ(joined.SerializeAsString(), whole.SerializeAsString()) << bytes << " bytes a part";
  }
}

}  // namespace
}  // namespace sluice::coordination
