#include "reconciler/ri_check.h"

#include <gtest/gtest.h>

#include <map>

#include "common/plan/plan_test_util.h"

namespace sluice {
namespace {

// A target holding rows per entity; nothing else is used.
class RowsTarget : public Target {
 public:
  std::map<std::string, std::vector<TargetRow>> rows;
  Status Prepare(const Entity&) override { return Status::Ok(); }
  Result<LoadOutcome> Load(const std::string&, const Entity&, const RecordBatch&) override {
    return LoadOutcome{};
  }
  Status ScanRows(const Entity& entity, const std::function<void(const TargetRow&)>& fn) override {
    for (const TargetRow& row : rows[entity.name]) fn(row);
    return Status::Ok();
  }
};

TargetRow Row(const std::string& key, int64_t id, std::optional<std::string> parent,
              bool merged = false) {
  TargetRow r;
  r.source = "crm";
  r.key = key;
  r.target_id = id;
  r.merged = merged;
  r.values = {Value::Str(key), parent ? Value::Str(*parent) : Value::Null()};
  return r;
}

Model SelfModel() {
  Model model;
  model.entities.push_back(plan_testing::SelfReferencingHcp());
  Entity plain;
  plain.name = "plain";
  plain.fields = {model.entities[0].fields[0]};
  model.entities.push_back(plain);
  return model;
}

TEST(RiCheck, SelfReferencesMustNameARowOfTheEntity) {
  Model model = SelfModel();
  RowsTarget target;
  target.rows["hcp"] = {Row("ROOT", 1, std::nullopt), Row("CHILD", 2, "1"),
                        Row("MERGED", 2, std::nullopt, /*merged=*/true), Row("LOST", 3, "99"),
                        Row("SOURCEKEY", 4, "ROOT")};
  auto check = CheckReferences(model, model.entities[0], &target);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->checked);
  EXPECT_EQ(check->references, 3u);
  EXPECT_EQ(check->unresolved, 2u) << "a missing id and a source key left as it was";
  EXPECT_EQ(check->unresolved_by_field["parent_id"], 2u);
  EXPECT_EQ(check->Verdict(), "FAIL");
  ASSERT_EQ(check->examples.size(), 2u);
  EXPECT_EQ(check->examples[0], "crm/LOST: parent_id -> hcp 99");

  target.rows["hcp"] = {Row("ROOT", 1, std::nullopt), Row("CHILD", 2, "1"), Row("GRAND", 3, "2")};
  check = CheckReferences(model, model.entities[0], &target);
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->Verdict(), "PASS");
  EXPECT_EQ(check->references, 2u);
}

TEST(RiCheck, AnEntityWithoutReferencesIsNotApplicable) {
  Model model = SelfModel();
  RowsTarget target;
  auto check = CheckReferences(model, model.entities[1], &target);
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->Verdict(), "n/a");
}

}  // namespace
}  // namespace sluice
