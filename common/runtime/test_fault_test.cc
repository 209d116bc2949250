#include "common/runtime/test_fault.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(TestFaultSpec, NoSpecIsNoFault) {
  auto f = ParseTestFaults("");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*f, TestFaults{});
}

TEST(TestFaultSpec, EachFaultSetsItsField) {
  auto after = ParseTestFaults("sigkill_after=5");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->sigkill_after, 5u);
  EXPECT_FALSE(after->sigkill_before_output);

  auto zero = ParseTestFaults("sigkill_after=0");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->sigkill_after, 0u);  // set, and distinct from no fault

  auto output = ParseTestFaults("sigkill_before_output=1");
  ASSERT_TRUE(output.ok());
  EXPECT_EQ(output->sigkill_before_output, 1u);
  EXPECT_FALSE(output->sigkill_after);

  auto round4 = ParseTestFaults("sigkill_in_round4");
  ASSERT_TRUE(round4.ok());
  EXPECT_TRUE(round4->sigkill_in_round4);
  EXPECT_FALSE(round4->sigkill_in_preround);

  auto preround = ParseTestFaults("sigkill_in_preround");
  ASSERT_TRUE(preround.ok());
  EXPECT_TRUE(preround->sigkill_in_preround);
  EXPECT_FALSE(preround->sigkill_in_round4);

  auto invalid = ParseTestFaults("elect_invalid_survivors");
  ASSERT_TRUE(invalid.ok());
  EXPECT_TRUE(invalid->elect_invalid_survivors);
  EXPECT_FALSE(invalid->sigkill_in_round4);

  auto drop = ParseTestFaults("drop_key=CRM0000042");
  ASSERT_TRUE(drop.ok());
  EXPECT_EQ(drop->drop_key, "CRM0000042");
  EXPECT_FALSE(drop->sigkill_in_round4);

  auto stall = ParseTestFaults("stall_at=load:3");
  ASSERT_TRUE(stall.ok());
  EXPECT_EQ(stall->stall_at, "load:3");
  EXPECT_FALSE(stall->sigkill_at);
}

TEST(TestFaultSpec, AKeyMayHoldAnEqualsSign) {
  auto drop = ParseTestFaults("drop_key=a=b");
  ASSERT_TRUE(drop.ok());
  EXPECT_EQ(drop->drop_key, "a=b");
}

TEST(TestFaultSpec, MistakesAreInvalidArguments) {
  for (const char* spec :
       {"sigkill_afterr=5", "sigkill", "sigkill_after", "sigkill_after=", "sigkill_after=five",
        "sigkill_after=5x", "sigkill_after=-1", "sigkill_in_round4=1", "sigkill_in_preround=1",
        "elect_invalid_survivors=1", "drop_key=", "drop_key", "=5", "stall_at=load",
        "stall_at=load:x", "stall_at"}) {
    auto f = ParseTestFaults(spec);
    ASSERT_FALSE(f.ok()) << spec;
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << spec;
  }
  auto unknown = ParseTestFaults("sigkill_later=3");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown test fault 'sigkill_later'"),
            std::string::npos)
      << unknown.status().message();
}

}  // namespace
}  // namespace sluice
