// Issue 17: the reconciler names each difference between what a wave loaded
// and what the target holds, with the field and both values.
#include <gtest/gtest.h>

#include "reconciler/tampered_target_testing.h"

namespace sluice {
namespace {

using namespace testing_tampered;  // NOLINT: test-only helpers

using FieldDifferencesTest = TamperedWaveTest;

TEST_F(FieldDifferencesTest, AnUntouchedTargetHasNone) {
  auto r = ReconcileEntity(Hcp(), input_, &target_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->passed);
  EXPECT_EQ(r->difference_count, 0u);
}

// The test: one field edited, one row deleted, one stray row
// inserted, one decimal changed.
TEST_F(FieldDifferencesTest, EachTamperingIsNamedWithItsFieldAndValues) {
  target_.rows[0].values[0] = Value::Str("Anne");  // c1 edited
  target_.rows[1].values.clear();                  // c2's row deleted, its entry left
  target_.rows[2].values[2] = Value::Int(1001);    // c3's revenue 10.00 -> 10.01
  target_.strays.push_back({"", "", 200, 0, Values("Eve", "ES", 500), false});

  std::vector<FieldDifference> sunk;
  DifferenceLog log([&](const FieldDifference& d) { sunk.push_back(d); });
  auto r = ReconcileEntity(Hcp(), input_, &target_, &log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->matched_rows, 0u);
  ASSERT_EQ(r->difference_count, 5u);
  EXPECT_EQ(sunk.size(), 5u);
  EXPECT_EQ(r->difference_counts,
            (std::map<std::string, uint64_t>{
                {kMissingTarget, 1}, {kRecordDiff, 2}, {kSumMismatch, 1}, {kUnexpectedTarget, 1}}));
  const auto& d = r->differences;  // sorted by source, key, failure, field
  ASSERT_EQ(d.size(), 5u);
  EXPECT_EQ(
      (std::vector<std::string>{d[0].key, d[0].failure, d[0].field, d[0].expected, d[0].actual}),
      (std::vector<std::string>{"row 200", kUnexpectedTarget, "", "no row",
                                "name=Eve, country=ES, revenue=5.00"}));
  EXPECT_EQ((std::vector<std::string>{d[1].source, d[1].key, d[1].failure, d[1].field,
                                      d[1].expected, d[1].actual}),
            (std::vector<std::string>{"*", "*", kSumMismatch, "revenue", "1260.50", "1260.51"}));
  EXPECT_EQ(
      (std::vector<std::string>{d[2].key, d[2].failure, d[2].field, d[2].expected, d[2].actual}),
      (std::vector<std::string>{"c1", kRecordDiff, "name", "Ann", "Anne"}));
  EXPECT_EQ(
      (std::vector<std::string>{d[3].key, d[3].failure, d[3].field, d[3].expected, d[3].actual}),
      (std::vector<std::string>{"c2", kMissingTarget, "", "name=Bob, country=FR, revenue=NULL",
                                "no row 102"}));
  EXPECT_EQ(
      (std::vector<std::string>{d[4].key, d[4].failure, d[4].field, d[4].expected, d[4].actual}),
      (std::vector<std::string>{"c3", kRecordDiff, "revenue", "10.00", "10.01"}));
}

// Loaded values that are not what the content hash was taken of are not
// believed: the difference is told by the hashes.
TEST_F(FieldDifferencesTest, LoadedValuesThatDoNotHashToTheFateAreNotUsed) {
  input_.loaded[0].loaded_values[1] ^= 1;
  target_.rows[0].values[0] = Value::Str("Anne");
  auto r = ReconcileEntity(Hcp(), input_, &target_);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->differences.size(), 1u);
  EXPECT_EQ(r->differences[0].field, "(content hash)");
}

TEST(CanonicalValues, DecodeIsTheInverseOfEncode) {
  const Schema schema = Hcp().ToSchema();
  const std::vector<Value> values = Values("Zoë", "", std::nullopt);
  std::string bytes;
  EncodeCanonical(schema, values, &bytes);
  auto back = DecodeCanonical(schema, bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, values);
  EXPECT_FALSE(DecodeCanonical(schema, bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(DecodeCanonical(schema, bytes + "x").ok());
}

}  // namespace
}  // namespace sluice
