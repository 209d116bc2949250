// Issue 17: distributions by segment, source side (the loaded values)
// against target side (their rows).
#include "reconciler/segments.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "reconciler/tampered_target_testing.h"

namespace sluice {
namespace {

using namespace testing_tampered;  // NOLINT: test-only helpers

using SegmentsTest = TamperedWaveTest;

const SegmentRow* Find(const std::vector<SegmentRow>& rows, const std::string& value) {
  for (const SegmentRow& r : rows) {
    if (r.value == value) return &r;
  }
  return nullptr;
}

TEST_F(SegmentsTest, EverySegmentAgreesOnAnUntouchedTarget) {
  input_.segment_fields = {"country"};
  auto r = ReconcileEntity(Hcp(), input_, &target_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->segments.size(), 2u);  // DE, FR
  for (const SegmentRow& s : r->segments) EXPECT_FALSE(s.differs()) << s.value;
  const SegmentRow* fr = Find(r->segments, "FR");
  ASSERT_NE(fr, nullptr);
  EXPECT_EQ(fr->source.records, 2u);
  EXPECT_EQ(fr->source.sums.at("revenue"), 125050);
}

// The test: one country's records are short by one in the target.
TEST_F(SegmentsTest, ACountryShortByOneIsReported) {
  input_.segment_fields = {"country"};
  target_.rows.erase(target_.rows.begin());  // c1 (FR, 1250.50) and its entry gone
  auto r = ReconcileEntity(Hcp(), input_, &target_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->passed);
  const SegmentRow* fr = Find(r->segments, "FR");
  const SegmentRow* de = Find(r->segments, "DE");
  ASSERT_NE(fr, nullptr);
  ASSERT_NE(de, nullptr);
  EXPECT_TRUE(fr->differs());
  EXPECT_EQ(fr->source.records, 2u);
  EXPECT_EQ(fr->target.records, 1u);
  EXPECT_EQ(fr->source.sums.at("revenue"), 125050);
  EXPECT_EQ(fr->target.sums.at("revenue"), 0);
  EXPECT_FALSE(de->differs());

  auto doc = nlohmann::json::parse(ReconciliationJson("run-1", 0, {*r}));
  const auto& e = doc["entities"][0];
  EXPECT_EQ(e["segments_differing"], 1);
  const auto& first = e["segments"][0];  // DE, then FR
  EXPECT_EQ(first["value"], "DE");
  const auto& row = e["segments"][1];
  EXPECT_EQ(row["field"], "country");
  EXPECT_EQ(row["source"]["records"], 2);
  EXPECT_EQ(row["target"]["records"], 1);
  EXPECT_EQ(row["source"]["sums"]["revenue"], "1250.50");
  EXPECT_EQ(row["target"]["sums"]["revenue"], "0.00");
  EXPECT_EQ(row["differs"], true);
}

// Without the loaded values (a store written before issue 17) the source
// side is unknown: no segments, and a note saying why.
TEST_F(SegmentsTest, NoLoadedValuesNoSegments) {
  input_.segment_fields = {"country"};
  input_.loaded[1].loaded_values.clear();
  auto r = ReconcileEntity(Hcp(), input_, &target_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->passed);
  EXPECT_TRUE(r->segments.empty());
  EXPECT_EQ(r->segments_note, "no loaded values for crm/c2");
}

TEST(SegmentFieldsTest, DefaultsToTheEnumFields) {
  Plan plan;
  Entity e;
  e.name = "hcp";
  e.fields.resize(3);
  e.fields[0].name = "name";
  e.fields[1].name = "country";
  e.fields[1].type = FieldType::kEnum;
  e.fields[2].name = "specialty";
  e.fields[2].type = FieldType::kEnum;
  EXPECT_EQ(SegmentFields(plan, e), (std::vector<std::string>{"country", "specialty"}));
  plan.segments["hcp"] = {"name"};
  EXPECT_EQ(SegmentFields(plan, e), (std::vector<std::string>{"name"}));
}

}  // namespace
}  // namespace sluice
