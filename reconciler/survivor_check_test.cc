#include "reconciler/survivor_check.h"

#include <gtest/gtest.h>

#include <map>

namespace sluice {
namespace {

// A target holding rows of one entity; nothing else is used.
class RowsTarget : public Target {
 public:
  std::vector<TargetRow> rows;
  Status Prepare(const Entity&) override { return Status::Ok(); }
  Result<LoadOutcome> Load(const std::string&, const Entity&, const RecordBatch&) override {
    return LoadOutcome{};
  }
  Status ScanRows(const Entity&, const std::function<void(const TargetRow&)>& fn) override {
    for (const TargetRow& row : rows) fn(row);
    return Status::Ok();
  }
};

TargetRow Row(const std::string& source, const std::string& key, int64_t id, bool merged = false) {
  TargetRow r;
  r.source = source;
  r.key = key;
  r.target_id = id;
  r.merged = merged;
  r.values = {Value::Str(key)};
  return r;
}

Entity Hcp() {
  Entity e;
  e.name = "hcp";
  e.fields = {{"last_name"}};
  return e;
}

RecordFate Loaded(int64_t id) {
  RecordFate f;
  f.kind = "loaded";
  f.target_id = id;
  return f;
}

TEST(SurvivorCheck, EveryMergedRecordReachesALoadedRow) {
  RowsTarget target;
  target.rows = {Row("fr", "F1", 1), Row("eu", "E1", 1, true), Row("us", "U1", 1, true)};
  std::map<std::string, RecordFate> fates;
  fates[FateKey("fr", "F1")] = Loaded(1);
  RecordFate chained;
  chained.kind = "merged";
  chained.survivor_source = "fr";
  chained.survivor_key = "F1";
  fates[FateKey("eu", "E1")] = chained;
  // us/U1 was merged into eu/E1, itself merged into fr/F1.
  auto check =
      CheckSurvivors(Hcp(), {{"eu", "E1", "fr", "F1"}, {"us", "U1", "eu", "E1"}}, fates, &target);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(check->Verdict(), "PASS") << (check->examples.empty() ? "" : check->examples[0]);
  EXPECT_EQ(check->merged, 2u);
  EXPECT_EQ(check->by_source["eu"].merged, 1u);
  EXPECT_EQ(check->by_source["us"].merged, 1u);
}

TEST(SurvivorCheck, ASurvivorThatWasRejectedFails) {
  RowsTarget target;
  target.rows = {Row("fr", "F2", 2)};
  std::map<std::string, RecordFate> fates;
  RecordFate rejected;
  rejected.kind = "rejected";
  rejected.rule = "last_name_required";
  fates[FateKey("fr", "F1")] = rejected;
  fates[FateKey("fr", "F2")] = Loaded(2);
  auto check =
      CheckSurvivors(Hcp(), {{"us", "U1", "fr", "F1"}, {"us", "U2", "fr", "F2"}}, fates, &target);
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->Verdict(), "FAIL");
  EXPECT_EQ(check->unresolved, 2u) << "U2's merged key has no cross-reference entry either";
  EXPECT_EQ(check->by_source["us"].merged, 2u);
  EXPECT_EQ(check->by_source["us"].unresolved, 2u);
  ASSERT_EQ(check->examples.size(), 2u);
  EXPECT_EQ(check->examples[0], "us/U1 -> fr/F1: survivor rejected by last_name_required");
  EXPECT_EQ(check->examples[1],
            "us/U2 -> fr/F2: no cross-reference entry maps the merged key to its survivor");
}

TEST(SurvivorCheck, HeldMissingAndLoopingSurvivorsFail) {
  RowsTarget target;
  target.rows = {Row("fr", "F9", 9, true)};  // an entry without its own row
  std::map<std::string, RecordFate> fates;
  RecordFate held;
  held.kind = "review";
  held.rule = "dedup_review";
  fates[FateKey("fr", "H")] = held;
  RecordFate a, b;
  a.kind = b.kind = "merged";
  a.survivor_source = "x";
  a.survivor_key = "B";
  b.survivor_source = "x";
  b.survivor_key = "A";
  fates[FateKey("x", "A")] = a;
  fates[FateKey("x", "B")] = b;
  fates[FateKey("fr", "F9")] = Loaded(9);
  auto check = CheckSurvivors(Hcp(),
                              {{"eu", "1", "fr", "H"},
                               {"eu", "2", "fr", "GONE"},
                               {"eu", "3", "x", "A"},
                               {"eu", "4", "fr", "F9"}},
                              fates, &target);
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->unresolved, 4u);
  ASSERT_EQ(check->examples.size(), 4u);
  EXPECT_EQ(check->examples[0], "eu/1 -> fr/H: survivor held for review by dedup_review");
  EXPECT_EQ(check->examples[1], "eu/2 -> fr/GONE: survivor has no fate in the wave");
  EXPECT_EQ(check->examples[2].substr(0, 10), "eu/3 -> x/");
  EXPECT_NE(check->examples[2].find("survivor chain loops"), std::string::npos);
  EXPECT_EQ(check->examples[3], "eu/4 -> fr/F9: survivor fr/F9 has no row in the target");
}

TEST(SurvivorCheck, NothingMergedIsNotApplicable) {
  RowsTarget target;
  auto check = CheckSurvivors(Hcp(), {}, {}, &target);
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->Verdict(), "n/a");
}

}  // namespace
}  // namespace sluice
