#include "deduper/packed_messages.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "sluice/v1/control.pb.h"

namespace sluice {
namespace {

v1::Fate FateNumber(int i) {
  v1::Fate f;
  f.set_source("crm");
  f.set_key("k" + std::to_string(i));
  // Large enough that a few thousand fill several 1 MiB chunks.
  f.set_reason(std::string(700 + i % 300, static_cast<char>('a' + i % 26)));
  return f;
}

// Spilled or not, the same items in the same order, sorted or not.
TEST(PackedMessagesTest, SpilledChunksReadBackAsHeld) {
  const std::string dir = testing::TempDir();
  PackedMessages<v1::Fate> held, spilled;
  auto spill = std::make_shared<PackedSpill>(dir);
  spilled.SpillTo(spill);
  const int n = 5000;
  for (int i = 0; i < n; ++i) {
    held.push_back(FateNumber(i));
    spilled.push_back(FateNumber(i));
  }
  EXPECT_GT(spill->size(), size_t{3} << 20);  // most chunks went to the file
  ASSERT_EQ(spilled.size(), held.size());
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(spilled.bytes(i), held.bytes(i)) << i;
  }
  // Out of order: by key text, descending.
  auto by_key_desc = [](const PackedMessages<v1::Fate>& p) {
    return [&p](uint32_t x, uint32_t y) { return p[x].key() > p[y].key(); };
  };
  held.StableSortFrom(0, by_key_desc(held));
  spilled.StableSortFrom(0, by_key_desc(spilled));
  int i = 0;
  for (const v1::Fate& f : spilled) {
    ASSERT_EQ(f.SerializeAsString(), held[i].SerializeAsString()) << i;
    ++i;
  }
  EXPECT_EQ(i, n);
  // A copy reads the same file; clearing one leaves the other whole.
  PackedMessages<v1::Fate> copy = spilled;
  spilled.clear();
  EXPECT_EQ(copy[n - 1].key(), held[n - 1].key());
}

// A spill that cannot make its file keeps everything in memory.
TEST(PackedMessagesTest, UnwritableSpillKeepsItemsInMemory) {
  PackedMessages<v1::Fate> p;
  auto spill = std::make_shared<PackedSpill>("/nonexistent/sluice-spill");
  p.SpillTo(spill);
  for (int i = 0; i < 3000; ++i) p.push_back(FateNumber(i));
  EXPECT_EQ(spill->size(), 0u);
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(p[i].key(), "k" + std::to_string(i));
}

}  // namespace
}  // namespace sluice
