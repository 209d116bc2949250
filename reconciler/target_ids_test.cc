#include "common/core/target_ids.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(TargetIdSet, CountsDistinctIdsDenseOrNot) {
  TargetIdSet ids;
  for (int64_t id : {int64_t{1}, int64_t{64}, int64_t{5000000}, int64_t{-3},
                     TargetIdSet::kMaxDenseId, int64_t{1} << 40}) {
    EXPECT_FALSE(ids.Contains(id));
    EXPECT_TRUE(ids.Insert(id));
    EXPECT_TRUE(ids.Contains(id));
    EXPECT_FALSE(ids.Insert(id));  // twice is once
  }
  EXPECT_EQ(ids.size(), 6u);
  EXPECT_FALSE(ids.Contains(0));
  EXPECT_FALSE(ids.Contains(65));
  EXPECT_FALSE(ids.Contains(TargetIdSet::kMaxDenseId - 1));
}

}  // namespace
}  // namespace sluice
