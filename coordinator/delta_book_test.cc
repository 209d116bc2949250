// Issue 18: the marks a delta run leases with, and the deletion scans'
// bookkeeping, against a scan answered as the extractor answers it.
#include "coordinator/delta_book.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/core/key_buckets.h"
#include "common/runtime/worker.h"

namespace sluice::coordination {
namespace {

v1::BatchId Id(const std::string& entity, const std::string& source) {
  v1::BatchId id;
  id.set_run_id("r1");
  id.set_entity(entity);
  id.set_source(source);
  return id;
}

// The extractor's answer (extractor/key_scan.cc) for a source holding `keys`.
v1::Commit Answer(const v1::Lease& lease, const std::vector<std::string>& keys) {
  KeyBuckets buckets(static_cast<uint32_t>(lease.key_buckets_size()));
  std::map<uint32_t, std::vector<std::string>> by_bucket;
  for (const std::string& k : keys) by_bucket[buckets.Add(lease.batch().source(), k)].push_back(k);
  v1::Commit c;
  c.set_stage(kScanKeysStage);
  *c.mutable_batch() = lease.batch();
  c.set_epoch(lease.epoch());
  c.mutable_counts()->set_in(keys.size());
  for (int b = 0; b < lease.key_buckets_size(); ++b) {
    if (buckets.sums()[static_cast<size_t>(b)] == lease.key_buckets(b)) continue;
    c.add_differing_buckets(static_cast<uint32_t>(b));
    for (const std::string& k : by_bucket[static_cast<uint32_t>(b)]) {
      c.add_out_keys(JoinKey(lease.batch().source(), k));
    }
  }
  return c;
}

TEST(DeltaBookTest, FillsExtractionLeasesWithTheirSourcesMark) {
  DeltaBook book;
  book.SetMarks({{{"hcp", "crm"}, "2026-01-10"}});
  v1::Lease stream;
  stream.set_kind(v1::Lease::KIND_EXTRACT_SOURCE);
  *stream.mutable_batch() = Id("hcp", "crm");
  book.Fill(&stream);
  EXPECT_EQ(stream.range().watermark_above(), "2026-01-10");
  v1::Lease other = stream;
  *other.mutable_batch() = Id("hcp", "erp");
  other.mutable_range()->clear_watermark_above();
  book.Fill(&other);
  EXPECT_EQ(other.range().watermark_above(), "");
  v1::Lease resolve;
  resolve.set_kind(v1::Lease::KIND_RESOLVE);
  *resolve.mutable_batch() = Id("hcp", "crm");
  book.Fill(&resolve);
  EXPECT_FALSE(resolve.has_range());
}

TEST(DeltaBookTest, FindsTheKnownKeysTheSourceLost) {
  DeltaBook book;
  std::vector<std::string> known;
  for (int i = 0; i < 5000; ++i) known.push_back("K" + std::to_string(i));
  v1::Lease lease = book.BeginScan(Id("hcp", "crm"), known);
  EXPECT_EQ(lease.kind(), v1::Lease::KIND_SCAN_KEYS);
  EXPECT_EQ(lease.batch().sequence(), kScanSequence);
  EXPECT_EQ(lease.key_buckets_size(), static_cast<int>(kKeyBuckets));
  lease.set_epoch(7);
  book.Leased(lease);
  EXPECT_FALSE(book.Scanned("hcp"));
  // The source lost K10 and K4999 and gained N1.
  std::vector<std::string> now;
  for (const std::string& k : known) {
    if (k != "K10" && k != "K4999") now.push_back(k);
  }
  now.push_back("N1");
  v1::Commit answer = Answer(lease, now);
  EXPECT_LE(answer.differing_buckets_size(), 3);  // only the buckets that changed
  EXPECT_LT(answer.out_keys_size(), 50);          // ... and their keys, not 5000
  v1::Commit stale = answer;
  stale.set_epoch(6);
  EXPECT_FALSE(book.OnScanned(stale));
  EXPECT_TRUE(book.OnScanned(answer));
  EXPECT_FALSE(book.OnScanned(answer));  // answered already
  EXPECT_TRUE(book.Scanned("hcp"));
  EXPECT_EQ(book.Deleted("hcp")["crm"], (std::vector<std::string>{"K10", "K4999"}));
  EXPECT_EQ(book.SourceKeys("hcp")["crm"], now.size());
  book.Forget("hcp");
  EXPECT_TRUE(book.Deleted("hcp").empty());
}

// A nightly 1% of a large source: the buckets grow with the known keys, so
// that the keys sent back are a small part of the source, not all of it.
TEST(DeltaBookTest, ALargeKeySetIsComparedInMoreBuckets) {
  EXPECT_EQ(KeyBucketsFor(0), kKeyBuckets);
  EXPECT_EQ(KeyBucketsFor(80000), 10000u);
  EXPECT_EQ(KeyBucketsFor(uint64_t{1} << 40), kMaxKeyBuckets);
  DeltaBook book;
  std::vector<std::string> known;
  for (int i = 0; i < 100000; ++i) known.push_back("K" + std::to_string(i));
  v1::Lease lease = book.BeginScan(Id("hcp", "crm"), known);
  EXPECT_EQ(lease.key_buckets_size(), 12500);
  lease.set_epoch(1);
  book.Leased(lease);
  // 500 deleted, 500 inserted.
  std::vector<std::string> now;
  std::vector<std::string> deleted;
  for (int i = 0; i < 100000; ++i) {
    (i % 200 == 7 ? deleted : now).push_back("K" + std::to_string(i));
  }
  for (int i = 0; i < 500; ++i) now.push_back("N" + std::to_string(i));
  v1::Commit answer = Answer(lease, now);
  EXPECT_LT(answer.out_keys_size(), 10000);  // with 1,024 buckets: every key
  ASSERT_TRUE(book.OnScanned(answer));
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(book.Deleted("hcp")["crm"], deleted);
}

TEST(DeltaBookTest, AScanIsLeasedAgainUntilAnswered) {
  DeltaBook book;
  v1::Lease lease = book.BeginScan(Id("hcp", "crm"), {"A", "B"});
  lease.set_epoch(3);
  book.Leased(lease);
  ASSERT_EQ(book.PendingScans().size(), 1u);
  v1::Lease again = book.PendingScans()[0];
  again.set_epoch(9);  // its extractor died
  book.Leased(again);
  EXPECT_FALSE(book.OnScanned(Answer(lease, {"A"})));  // the dead one's answer
  EXPECT_TRUE(book.OnScanned(Answer(again, {"A"})));
  EXPECT_EQ(book.Deleted("hcp")["crm"], (std::vector<std::string>{"B"}));
  EXPECT_TRUE(book.PendingScans().empty());
}

TEST(DeltaBookTest, NoScanIsScanned) { EXPECT_TRUE(DeltaBook().Scanned("hcp")); }

}  // namespace
}  // namespace sluice::coordination
