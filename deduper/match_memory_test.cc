// What a single dedup shard holds while it matches
// (docs/dedup.md#one-shards-memory): the pair codes by index, and the
// records' values let go of once the matcher has read them.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "deduper/dedup.h"
#include "deduper/pair_codes.h"
#include "deduper/shard_testing.h"

namespace sluice {
namespace {

using compare::PairCodes;
using namespace shard_testing;

TEST(PairCodesTest, GivesBackEveryCodeInOrder) {
  PairCodes codes;
  const std::vector<uint64_t> in = {7, 7, 1ULL << 63 | 2, 7, 0, 123456789012345ULL, 0, 7};
  for (uint64_t c : in) codes.Add(c);
  ASSERT_EQ(codes.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(codes[i], in[i]) << i;
  EXPECT_EQ(codes.distinct(), 4u);
  EXPECT_EQ(codes.bytes_per_pair(), 2u);
  codes.Release();
  EXPECT_EQ(codes.size(), 0u);
  codes.Add(0);  // a first code of 0 is a code, not "nothing yet"
  ASSERT_EQ(codes.size(), 1u);
  EXPECT_EQ(codes[0], 0u);
}

TEST(PairCodesTest, WidensPastSixtyFiveThousandDistinctCodes) {
  PairCodes codes;
  std::vector<uint64_t> in;
  for (uint64_t i = 0; i < 70000; ++i) {
    in.push_back(i * 2654435761ULL);
    in.push_back(5);  // a repeated code between the new ones
  }
  for (size_t i = 0; i < in.size(); ++i) {
    codes.Add(in[i]);
    if (i == 1000) EXPECT_EQ(codes.bytes_per_pair(), 2u);
  }
  EXPECT_EQ(codes.bytes_per_pair(), 4u);
  EXPECT_EQ(codes.distinct(), 70001u);
  ASSERT_EQ(codes.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) ASSERT_EQ(codes[i], in[i]) << i;
}

std::string EdgeText(const MatchEdge& e) {
  return std::to_string(e.a) + "-" + std::to_string(e.b) + " " + e.rule + " " +
         std::to_string(static_cast<int>(e.band)) + " " + std::to_string(e.score) + " " +
         e.Detail();
}

// The matcher reads no value after it says so: edges found with the values
// wiped at that moment are the edges found with them kept.
TEST(ValuesReadTest, MatchingWithTheValuesGoneFindsTheSameEdges) {
  DedupSpec spec = PersonSpec();
  spec.comparisons[1].term_frequency = true;  // term frequencies read the rows too
  const std::vector<Record> people = People(600, 11);
  auto kept = MakeFuzzyMatcher(spec, PersonSchema());
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  std::vector<std::string> want;
  for (const MatchEdge& e : (*kept)->Match(PersonSchema(), people)) want.push_back(EdgeText(e));
  ASSERT_GT(want.size(), 50u);

  std::vector<Record> records = people;
  int calls = 0;
  auto wiped = MakeFuzzyMatcher(spec, PersonSchema());
  ASSERT_TRUE(wiped.ok());
  std::vector<std::string> got;
  for (const MatchEdge& e : (*wiped)->Match(PersonSchema(), records, {}, [&] {
         ++calls;
         for (Record& r : records) std::vector<Value>().swap(r.values);
       })) {
    got.push_back(EdgeText(e));
  }
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(records[0].values.empty());
  EXPECT_EQ(got, want);
}

// A shard of the person entity under PersonSpec, its log in a fresh folder.
Result<std::unique_ptr<DedupShard>> PersonShard(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  Plan plan;
  plan.dedup["person"] = PersonSpec();
  return DedupShard::Create(plan, "person", (dir / "shard.log").string());
}

// The crm records of `people`, then the erp ones.
std::pair<std::vector<Record>, std::vector<Record>> BySource(const std::vector<Record>& people) {
  std::pair<std::vector<Record>, std::vector<Record>> out;
  for (const Record& r : people) (r.source == "crm" ? out.first : out.second).push_back(r);
  return out;
}

v1::BatchId ResolveId() {
  v1::BatchId id;
  id.set_run_id("run-1");
  id.set_entity("person");
  id.set_source("dedup/0");
  return id;
}

// One shard lets go of the values while it compares and reads them back from
// its log for clustering: every output record is whole, and a second resolve
// (the log read again from the start) gives the same resolution.
TEST(ValuesReadTest, OneShardOutputsWholeRecordsReadBackFromItsLog) {
  const std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "dedup_values_read";
  auto shard = PersonShard(dir);
  ASSERT_TRUE(shard.ok()) << shard.status().ToString();
  std::vector<Record> people = People(400, 5);
  auto [crm, erp] = BySource(people);
  ASSERT_TRUE((*shard)->Ingest(Batch("crm", 0, crm)).ok());
  ASSERT_TRUE((*shard)->Ingest(Batch("erp", 0, erp)).ok());
  const v1::BatchId id = ResolveId();
  auto first = (*shard)->Resolve(id, 64);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  size_t out = 0, merged = 0;
  for (const RecordBatch& b : first->batches) {
    for (const Record& r : b.records) {
      ++out;
      merged += r.merged.size();
      ASSERT_EQ(r.values.size(), PersonSchema().fields.size()) << r.source << ":" << r.key;
    }
  }
  EXPECT_GT(merged, 20u);
  size_t fates = 0;
  for (const v1::Fate& f : first->fates) fates += !f.key().empty();
  EXPECT_EQ(out + fates, people.size());  // merged, held or rejected: a fate
  Outcome a, b;
  Add(*first, &a);
  auto again = (*shard)->Resolve(id, 64);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  Add(*again, &b);
  Sort(&a);
  Sort(&b);
  EXPECT_EQ(a.survivors, b.survivors);
  EXPECT_EQ(a.decisions, b.decisions);
  EXPECT_EQ(a.fates, b.fates);
  std::filesystem::remove_all(dir);
}

// One shard holds its records by name from ingest on: their keys and folded
// rows as home rows, their values packed. Every output record comes out with
// the values it went in with, every record is accounted for once, and a
// batch ingested after a resolve is in the next one.
TEST(ValuesReadTest, OneShardHeldByNameOutputsTheValuesItTookIn) {
  const std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "dedup_by_name";
  auto shard = PersonShard(dir);
  ASSERT_TRUE(shard.ok()) << shard.status().ToString();
  std::vector<Record> people = People(600, 11);
  std::map<std::pair<std::string, std::string>, std::vector<Value>> taken;
  for (const Record& r : people) taken[{r.source, r.key}] = r.values;
  auto [crm, erp] = BySource(people);
  const size_t half = erp.size() / 2;
  std::vector<Record> late(erp.begin() + half, erp.end());
  erp.resize(half);
  ASSERT_TRUE((*shard)->Ingest(Batch("crm", 0, crm)).ok());
  ASSERT_TRUE((*shard)->Ingest(Batch("erp", 0, erp)).ok());
  const v1::BatchId id = ResolveId();
  auto first = (*shard)->Resolve(id, 50);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE((*shard)->Ingest(Batch("erp", 1, late)).ok());
  auto second = (*shard)->Resolve(id, 50);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  for (const Resolution* res : {&*first, &*second}) {
    size_t out = 0, merged = 0;
    for (size_t i = 0; i < res->batches.size(); ++i) {
      const RecordBatch b = res->batches[i];
      EXPECT_EQ(b.id.sequence(), i);
      EXPECT_EQ(res->batches.sequence(i), i);
      EXPECT_EQ(res->batches.records(i), b.records.size());
      EXPECT_EQ(res->batches.key_checksum(i), b.KeyChecksumValue());
      for (const Record& r : b.records) {
        ++out;
        merged += r.merged.size();
        auto it = taken.find({r.source, r.key});
        ASSERT_NE(it, taken.end()) << r.source << ":" << r.key;
        EXPECT_EQ(r.values, it->second) << r.source << ":" << r.key;
      }
    }
    EXPECT_EQ(out, res->batches.total_records());
    EXPECT_GT(merged, 20u);
    size_t fates = 0;
    for (const v1::Fate& f : res->fates) fates += !f.key().empty();
    EXPECT_EQ(out + fates, res == &*first ? crm.size() + erp.size() : people.size());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice
