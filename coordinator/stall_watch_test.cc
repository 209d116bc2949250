#include "coordinator/stall_watch.h"

#include <gtest/gtest.h>

namespace sluice::coordination {
namespace {

using std::chrono::milliseconds;

TEST(StallWatchTest, AWorkerWhoseCpuTimeGrowsIsAtWork) {
  StallWatch watch(milliseconds(500));
  EXPECT_FALSE(watch.AtWork("deduper-0", 1000));  // the first heartbeat: nothing to compare
  EXPECT_TRUE(watch.AtWork("deduper-0", 1400));   // 400 ms of CPU in one interval
  EXPECT_TRUE(watch.AtWork("deduper-0", 1450));   // 50 ms: a tenth of the interval
}

TEST(StallWatchTest, AnIdleWorkerIsNotAtWork) {
  StallWatch watch(milliseconds(500));
  EXPECT_FALSE(watch.AtWork("loader-0", 200));
  EXPECT_FALSE(watch.AtWork("loader-0", 203));  // polling: a few ms per interval
  EXPECT_FALSE(watch.AtWork("loader-0", 203));
}

TEST(StallWatchTest, WorkersAreJudgedApartAndAReplacementStartsAfresh) {
  StallWatch watch(milliseconds(500));
  EXPECT_FALSE(watch.AtWork("deduper-0", 5000));
  EXPECT_FALSE(watch.AtWork("loader-0", 100));
  EXPECT_FALSE(watch.AtWork("loader-0", 101));  // the deduper's time is not the loader's
  // deduper-0 killed and started again: its new process has used little CPU.
  EXPECT_FALSE(watch.AtWork("deduper-0", 30));
  EXPECT_TRUE(watch.AtWork("deduper-0", 330));
}

}  // namespace
}  // namespace sluice::coordination
