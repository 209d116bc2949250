// Issue 18: a CSV source read above a mark keeps the rows above it, counts
// the others, reads a batch again the same way after Seek, and the key scan
// answers with the buckets that differ only.
#include "extractor/delta_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/core/key_buckets.h"
#include "extractor/key_scan.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class DeltaSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("delta_source_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream out(dir_ / "s.csv");
    out << "id,upd\n";
    // upd: 1..10, then two rows without a value.
    for (int i = 1; i <= 10; ++i) out << "k" << i << "," << i << "\n";
    out << "k11,\nk12,\n";
    spec_.name = "crm";
    spec_.kind = "csv";
    spec_.path = (dir_ / "s.csv").string();
    spec_.options = {{"key", "id"}};
    spec_.yaml_path = "sources.crm";
    spec_.incremental_column = "upd";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Source> Open(std::optional<std::string> mark) {
    SourceSpec spec = spec_;
    spec.extract_above = std::move(mark);
    auto inner = OpenSource(spec);
    EXPECT_TRUE(inner.ok()) << inner.status().ToString();
    auto wrapped = DeltaSource::Wrap(spec, std::move(*inner));
    EXPECT_TRUE(wrapped.ok()) << wrapped.status().ToString();
    return std::move(*wrapped);
  }
  static std::vector<std::string> Keys(const RecordBatch& b) {
    std::vector<std::string> out;
    for (const Record& r : b.records) out.push_back(r.key);
    return out;
  }

  fs::path dir_;
  SourceSpec spec_;
};

TEST_F(DeltaSourceTest, WithoutAMarkReadsEverythingAndNotesTheHighest) {
  auto source = Open(std::nullopt);
  RecordBatch b;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*source->Next(100, &b, &rejects));
  EXPECT_EQ(b.records.size(), 12u);
  EXPECT_EQ(b.range.watermark_above(), "");
  EXPECT_EQ(b.range.watermark_high(), "10");  // numbers compare as numbers
  EXPECT_EQ(b.range.skipped(), 0u);
}

TEST_F(DeltaSourceTest, AboveAMarkKeepsTheNewerRowsAndCountsTheOthers) {
  auto source = Open("7");
  RecordBatch first;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*source->Next(2, &first, &rejects));
  EXPECT_EQ(Keys(first), (std::vector<std::string>{"k8", "k9"}));
  EXPECT_EQ(first.range.watermark_above(), "7");
  EXPECT_EQ(first.range.watermark_high(), "9");
  EXPECT_EQ(first.range.skipped(), 7u);
  RecordBatch second;
  ASSERT_TRUE(*source->Next(2, &second, &rejects));
  EXPECT_EQ(Keys(second), (std::vector<std::string>{"k10"}));
  EXPECT_EQ(second.range.skipped(), 2u);  // the rows without a value: full runs read them
  RecordBatch none;
  EXPECT_FALSE(*source->Next(2, &none, &rejects));
  // The first batch again, from its range: the same rows.
  auto again = Open("7");
  ASSERT_TRUE(again->Seek(first.range).ok());
  RecordBatch replay;
  ASSERT_TRUE(*again->Next(2, &replay, &rejects));
  EXPECT_EQ(Keys(replay), Keys(first));
  EXPECT_EQ(replay.range.end_offset(), first.range.end_offset());
}

TEST_F(DeltaSourceTest, NothingAboveTheMarkIsOneEmptyBatchCountingEveryRow) {
  auto source = Open("10");
  RecordBatch b;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*source->Next(4, &b, &rejects));
  EXPECT_TRUE(b.records.empty());
  EXPECT_EQ(b.range.skipped(), 12u);
  EXPECT_EQ(b.range.watermark_high(), "");
}

TEST_F(DeltaSourceTest, AnUnknownColumnIsRefusedAtItsPath) {
  spec_.incremental_column = "updated";
  auto inner = OpenSource(spec_);
  ASSERT_TRUE(inner.ok());
  auto wrapped = DeltaSource::Wrap(spec_, std::move(*inner));
  ASSERT_FALSE(wrapped.ok());
  EXPECT_NE(wrapped.status().message().find("sources.crm.incremental.column"), std::string::npos);
}

TEST_F(DeltaSourceTest, TheKeyScanSendsOnlyTheBucketsThatDiffer) {
  KeyBuckets target(kKeyBuckets);
  for (int i = 1; i <= 12; ++i) target.Add("crm", "k" + std::to_string(i));
  target.Add("crm", "gone");  // the target holds a key the source lost
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_SCAN_KEYS);
  lease.mutable_batch()->set_source("crm");
  lease.set_epoch(4);
  for (uint64_t s : target.sums()) lease.add_key_buckets(s);
  auto source = OpenSource(spec_);
  ASSERT_TRUE(source.ok());
  auto scan = ScanKeys(**source, "crm", lease, 5);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->stage(), kScanKeysStage);
  EXPECT_EQ(scan->epoch(), 4u);
  EXPECT_EQ(scan->counts().in(), 12u);
  ASSERT_EQ(scan->differing_buckets_size(), 1);
  EXPECT_EQ(scan->differing_buckets(0), KeyBucketOf(KeyHash("crm", "gone"), kKeyBuckets));
  EXPECT_LT(scan->out_keys_size(), 3);  // the keys of that bucket only
}

// A key twice in the source (legacy keys need not be unique) counts once, as
// the target holds it once: no bucket differs; a key of the target the
// source lost is then the only one sent, with its bucket's source keys.
TEST_F(DeltaSourceTest, AKeyTwiceInTheSourceCountsOnce) {
  {
    std::ofstream out(dir_ / "s.csv");
    out << "id,upd\nk1,1\nk2,2\nk1,3\nk3,4\nk2,5\n";
  }
  KeyBuckets target(kKeyBuckets);
  for (const char* k : {"k1", "k2", "k3"}) target.Add("crm", k);
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_SCAN_KEYS);
  lease.mutable_batch()->set_source("crm");
  for (uint64_t s : target.sums()) lease.add_key_buckets(s);
  auto source = OpenSource(spec_);
  ASSERT_TRUE(source.ok());
  auto scan = ScanKeys(**source, "crm", lease, 2);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->counts().in(), 5u);  // rows read
  EXPECT_EQ(scan->differing_buckets_size(), 0);
  EXPECT_EQ(scan->out_keys_size(), 0);
}

// The scan's answer does not depend on the order the source hands its keys
// over in (in key order, repeats side by side, or shuffled): the same
// differing buckets, and their keys bucket by bucket, each in key order.
TEST_F(DeltaSourceTest, TheKeyScanAnswersAlikeInAnyOrder) {
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) keys.push_back("k" + std::to_string(100000 + i));
  KeyBuckets target(kKeyBuckets);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i % 97 != 5) target.Add("crm", keys[i]);  // the source gained these
  }
  for (const char* gone : {"gone1", "gone2", "k999999"}) target.Add("crm", gone);
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_SCAN_KEYS);
  lease.mutable_batch()->set_source("crm");
  for (uint64_t s : target.sums()) lease.add_key_buckets(s);
  // What must come back: the source's keys in the buckets that differ.
  KeyBuckets source_sums(kKeyBuckets);
  for (const std::string& k : keys) source_sums.Add("crm", k);
  std::vector<uint32_t> want_buckets;
  for (uint32_t b = 0; b < kKeyBuckets; ++b) {
    if (source_sums.sums()[b] != target.sums()[b]) want_buckets.push_back(b);
  }
  std::vector<std::string> want_keys;
  for (uint32_t b : want_buckets) {
    std::vector<std::string> in_bucket;
    for (const std::string& k : keys) {
      if (KeyBucketOf(KeyHash("crm", k), kKeyBuckets) == b) in_bucket.push_back("crm\x1f" + k);
    }
    std::sort(in_bucket.begin(), in_bucket.end());
    want_keys.insert(want_keys.end(), in_bucket.begin(), in_bucket.end());
  }
  ASSERT_FALSE(want_keys.empty());
  std::vector<std::string> shuffled = keys;
  std::reverse(shuffled.begin(), shuffled.end());
  std::swap(shuffled[10], shuffled[2000]);
  std::vector<std::string> repeated;  // in order, each tenth key twice
  for (size_t i = 0; i < keys.size(); ++i) {
    repeated.push_back(keys[i]);
    if (i % 10 == 0) repeated.push_back(keys[i]);
  }
  for (const auto& order : {keys, shuffled, repeated}) {
    {
      std::ofstream out(dir_ / "s.csv");
      out << "id,upd\n";
      for (const std::string& k : order) out << k << ",1\n";
    }
    auto source = OpenSource(spec_);
    ASSERT_TRUE(source.ok());
    auto scan = ScanKeys(**source, "crm", lease, 64);
    ASSERT_TRUE(scan.ok()) << scan.status().ToString();
    EXPECT_EQ(scan->counts().in(), order.size());
    EXPECT_EQ(
        std::vector<uint32_t>(scan->differing_buckets().begin(), scan->differing_buckets().end()),
        want_buckets);
    EXPECT_EQ(std::vector<std::string>(scan->out_keys().begin(), scan->out_keys().end()),
              want_keys);
  }
}

}  // namespace
}  // namespace sluice
