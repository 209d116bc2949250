#include "reconciler/live_comparison.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace sluice {
namespace {

Entity Hcp() {
  Entity e;
  e.name = "hcp";
  e.fields.resize(2);
  e.fields[0].name = "first_name";
  e.fields[1].name = "city";
  return e;
}

Value Text(const char* s) { return s == nullptr ? Value::Null() : Value::Str(s); }

Record Rec(const std::string& source, const std::string& key, const char* first, const char* city) {
  Record r;
  r.source = source;
  r.key = key;
  r.values = {Text(first), Text(city)};
  return r;
}

TargetRow Row(const std::string& source, const std::string& key, int64_t id, const char* first,
              const char* city, bool merged = false) {
  TargetRow row;
  row.source = source;
  row.key = key;
  row.target_id = id;
  row.merged = merged;
  if (first != nullptr || city != nullptr) row.values = {Text(first), Text(city)};
  return row;
}

class LiveComparisonTest : public testing::Test {
 protected:
  void SetUp() override {
    spec_.entity = "hcp";
    spec_.source_priority = {"fr", "us"};
    spec_.field_rules["first_name"] = "longest";
    path_ = (std::filesystem::temp_directory_path() /
             ("live_comparison_test_" + std::to_string(::getpid()) + ".db"))
                .string();
  }

  // Compares `source` with `target` (and `strays`); every difference as
  // "source/key FAILURE field expected|actual".
  std::vector<std::string> Compare(const std::vector<Record>& source,
                                   const std::vector<TargetRow>& target,
                                   const std::vector<TargetRow>& strays = {}) {
    auto c = LiveComparison::Create(Hcp(), {path_, &spec_, {}});
    EXPECT_TRUE(c.ok()) << c.status().message();
    EXPECT_TRUE((*c)->AddSourceRecords(source).ok());
    EXPECT_TRUE((*c)->AddSourceReject("fr", "F9", "rejected by city_required").ok());
    for (const TargetRow& row : target) EXPECT_TRUE((*c)->AddTargetRow(row).ok());
    for (const TargetRow& row : strays) EXPECT_TRUE((*c)->AddStrayRow(row).ok());
    std::vector<std::string> out;
    DifferenceLog log([&](const FieldDifference& d) {
      out.push_back(d.source + "/" + d.key + " " + d.failure + " " + d.field + " " + d.expected +
                    "|" + d.actual);
    });
    auto absence = [](const std::string& source, const std::string& key) -> Result<std::string> {
      return std::string(key == "F7" ? "rejected in an earlier run" : "");
    };
    Status st = (*c)->Compare(absence, &log);
    EXPECT_TRUE(st.ok()) << st.message();
    equal_ = (*c)->equal();
    return out;
  }

  // fr/F1 survived the merge of us/U1 and took its longer first name.
  std::vector<Record> Sources() {
    return {Rec("fr", "F1", "J.", "Lyon"), Rec("us", "U1", "John", "Boston"),
            Rec("fr", "F2", "Marie", "Paris"), Rec("fr", "F7", "Rejected", nullptr)};
  }
  std::vector<TargetRow> Target() {
    return {Row("fr", "F1", 1, "John", "Lyon"), Row("us", "U1", 1, "John", "Lyon", true),
            Row("fr", "F2", 2, "Marie", "Paris")};
  }

  DedupSpec spec_;
  std::string path_;
  uint64_t equal_ = 0;
};

TEST_F(LiveComparisonTest, AnUntouchedConsolidationIsEqual) {
  EXPECT_TRUE(Compare(Sources(), Target()).empty());
  EXPECT_EQ(equal_, 3u);  // F1 and U1 through their golden row, F2 alone
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(LiveComparisonTest, AFieldTheSurvivorTookFromAnotherSystemIsNotADifference) {
  auto sources = Sources();
  sources[0].values[0] = Value::Str("Jo");       // still shorter than U1's "John"
  sources[1].values[1] = Value::Str("Chicago");  // the golden city is the survivor's
  EXPECT_TRUE(Compare(sources, Target()).empty());
}

TEST_F(LiveComparisonTest, AChangeThatMovesTheGoldenValueIsChargedToItsMember) {
  auto sources = Sources();
  sources[1].values[0] = Value::Str("Johnny");
  EXPECT_EQ(Compare(sources, Target()),
            std::vector<std::string>{"us/U1 RECORD_DIFF first_name Johnny|John"});
}

TEST_F(LiveComparisonTest, ListsEditedMissingAndStrayRows) {
  auto sources = Sources();
  sources[2].values[1] = Value::Str("Nice");        // edited at the source
  sources.push_back(Rec("us", "U5", "New", "NY"));  // never loaded
  auto target = Target();
  target.push_back(Row("us", "U3", 3, "Gone", "LA"));      // deleted at the source
  target.push_back(Row("fr", "F4", 4, nullptr, nullptr));  // row deleted by hand
  sources.push_back(Rec("fr", "F4", "Zoe", "Metz"));
  EXPECT_EQ(Compare(sources, target, {Row("", "", 9, "Stray", "X")}),
            (std::vector<std::string>{
                "fr/F2 RECORD_DIFF city Nice|Paris",
                "fr/F4 MISSING_TARGET  first_name=Zoe, city=Metz|no row 4",
                "us/U5 MISSING_TARGET  first_name=New, city=NY|absent",
                "us/U3 MISSING_SOURCE  absent|row 3: first_name=Gone, city=LA",
                "/row 9 MISSING_SOURCE  no source record|first_name=Stray, city=X",
            }));
}

TEST_F(LiveComparisonTest, ARecordRejectedTodayWhoseRowRemainsDiffers) {
  auto target = Target();
  target.push_back(Row("fr", "F9", 9, "Old", nullptr));
  EXPECT_EQ(
      Compare(Sources(), target),
      std::vector<std::string>{"fr/F9 RECORD_DIFF (record) not loaded: rejected by city_required|"
                               "first_name=Old, city=NULL"});
}

TEST_F(LiveComparisonTest, AGoldenRowDeletedIsMissingForEveryMember) {
  auto target = Target();
  target[0] = Row("fr", "F1", 1, nullptr, nullptr);
  target[1] = Row("us", "U1", 1, nullptr, nullptr, true);
  EXPECT_EQ(Compare(Sources(), target),
            (std::vector<std::string>{
                "fr/F1 MISSING_TARGET  first_name=J., city=Lyon|no row 1",
                "us/U1 MISSING_TARGET  first_name=John, city=Boston|no row 1",
            }));
}

}  // namespace
}  // namespace sluice
