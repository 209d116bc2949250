#include "coordinator/state_reserve.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace sluice::coordination {
namespace {

namespace fs = std::filesystem;

TEST(StateReserveTest, HoldsRealBytesUntilReleased) {
  const fs::path path =
      fs::temp_directory_path() / ("state_reserve_test_" + std::to_string(::getpid()) + ".reserve");
  auto reserve = StateReserve::Create(path.string(), 1 << 20);
  ASSERT_TRUE(reserve.ok()) << reserve.status().ToString();
  EXPECT_EQ(fs::file_size(path), 1u << 20);
  EXPECT_TRUE(reserve->Release());
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(reserve->Release());
}

TEST(StateReserveTest, AFullStateDirectoryIsNamedInTheReason) {
  EXPECT_EQ(StateFaultReason(Status::IoError("no space left on device: sqlite: database or disk "
                                             "is full"),
                             "/var/sluice"),
            "no space left on device in the state directory /var/sluice: no space left on "
            "device: sqlite: database or disk is full; free space there, then `sluice resume` "
            "the run");
  EXPECT_EQ(StateFaultReason(Status::Internal("boom"), "/var/sluice"),
            "coordinator error: internal: boom");
}

}  // namespace
}  // namespace sluice::coordination
