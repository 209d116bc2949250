#include "reconciler/sorted_fates.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

namespace sluice {
namespace {

KeyedFate Loaded(const std::string& source, const std::string& key, int64_t id) {
  return {source,
          key,
          "loaded",
          "",
          static_cast<uint64_t>(id) * 31,
          id,
          std::string(40, static_cast<char>('a' + id % 26))};
}

std::vector<KeyedFate> ReadAll(SortedFates* fates) {
  std::vector<KeyedFate> out;
  KeyedFate f;
  while (true) {
    auto more = fates->Next(&f);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    out.push_back(f);
  }
  return out;
}

class SortedFatesTest : public testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "/sorted_fates_" + std::to_string(GetParam()) + "_" +
           std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

// Whatever the budget (everything in memory, or a run every few fates),
// the fates come back in (source, key) order, a key's fates in the order
// they were added, every one of them exactly once, and no file is left.
TEST_P(SortedFatesTest, SortsAndKeepsEveryFateOnce) {
  std::vector<KeyedFate> added;
  for (int i = 0; i < 3000; ++i) {
    const int k = (i * 7919) % 1000;  // every key three times
    added.push_back(Loaded(k % 2 ? "crm" : "erp", "k" + std::to_string(k), i));
  }
  added.push_back({"crm", "", "rejected", "rule", 0, 0, ""});  // an empty key
  std::mt19937 rng(11);
  std::shuffle(added.begin(), added.end(), rng);
  SortedFates fates({dir_, GetParam()});
  for (const KeyedFate& f : added) ASSERT_TRUE(fates.Add(f).ok());
  ASSERT_TRUE(fates.Finish().ok());
  EXPECT_EQ(fates.size(), added.size());
  if (GetParam() < 10000) {
    EXPECT_GT(fates.runs_written(), 10u);
  } else {
    EXPECT_EQ(fates.runs_written(), 0u);
  }
  if (std::filesystem::exists(dir_)) {
    EXPECT_TRUE(std::filesystem::is_empty(dir_));  // runs are unlinked at once
  }

  std::vector<KeyedFate> want = added;
  std::stable_sort(want.begin(), want.end(), [](const KeyedFate& a, const KeyedFate& b) {
    return CompareFateKeys(a, b.source, b.key) < 0;
  });
  const std::vector<KeyedFate> got = ReadAll(&fates);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].source, want[i].source);
    EXPECT_EQ(got[i].key, want[i].key);
    EXPECT_EQ(got[i].kind, want[i].kind);
    EXPECT_EQ(got[i].rule, want[i].rule);
    EXPECT_EQ(got[i].target_id, want[i].target_id) << i;
    EXPECT_EQ(got[i].content_hash, want[i].content_hash);
    EXPECT_EQ(got[i].loaded_values, want[i].loaded_values);
  }
  KeyedFate f;
  auto more = fates.Next(&f);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

INSTANTIATE_TEST_SUITE_P(Budgets, SortedFatesTest, testing::Values(size_t{2000}, SIZE_MAX));

TEST(SortedFates, NothingAddedReadsNothing) {
  SortedFates fates({});
  ASSERT_TRUE(fates.Finish().ok());
  KeyedFate f;
  auto more = fates.Next(&f);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

TEST(SortedFates, AnUnwritableSpillDirectoryIsAnError) {
  SortedFates fates({"/proc/no/such/dir", 1});
  Status st = fates.Add(Loaded("crm", "k", 1));
  EXPECT_EQ(st.code(), StatusCode::kIoError) << st.ToString();
}

}  // namespace
}  // namespace sluice
