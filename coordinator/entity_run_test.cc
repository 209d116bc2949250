#include "coordinator/entity_run.h"

#include <gtest/gtest.h>

namespace sluice::coordination {
namespace {

using Names = std::vector<std::string>;

// account and hcp are independent; interaction references both; note
// references interaction only.
WaveSpec ActivityWave() {
  WaveSpec w;
  w.name = "activity";
  w.entities = {"account", "hcp", "interaction", "note"};
  w.parents = {
      {"account", {}}, {"hcp", {}}, {"interaction", {"account", "hcp"}}, {"note", {"interaction"}}};
  return w;
}

TEST(ReadyEntitiesTest, IndependentEntitiesStartTogether) {
  EXPECT_EQ(ReadyEntities(ActivityWave(), {}, {}), (Names{"account", "hcp"}));
}

TEST(ReadyEntitiesTest, AChildWaitsForEveryParent) {
  const WaveSpec w = ActivityWave();
  // Both running: nothing more may start.
  EXPECT_EQ(ReadyEntities(w, {"account", "hcp"}, {}), Names{});
  // One parent finished: the child still waits for the other.
  EXPECT_EQ(ReadyEntities(w, {"account", "hcp"}, {"hcp"}), Names{});
  EXPECT_EQ(ReadyEntities(w, {"account", "hcp"}, {"account"}), Names{});
  EXPECT_EQ(ReadyEntities(w, {"account", "hcp"}, {"account", "hcp"}), Names{"interaction"});
}

TEST(ReadyEntitiesTest, StartedEntitiesAreNotStartedAgain) {
  const WaveSpec w = ActivityWave();
  EXPECT_EQ(ReadyEntities(w, {"account", "hcp", "interaction"}, {"account", "hcp"}), Names{});
  EXPECT_EQ(ReadyEntities(w, {"account", "hcp", "interaction"}, {"account", "hcp", "interaction"}),
            Names{"note"});
  EXPECT_EQ(ReadyEntities(w, {"account", "hcp", "interaction", "note"},
                          {"account", "hcp", "interaction", "note"}),
            Names{});
}

TEST(ReadyEntitiesTest, AnEntityStartsAsSoonAsItsOwnParentsFinished) {
  // b references a only; c is independent and slow: b starts when a is
  // done, without waiting for c (a level-by-level order would wait).
  WaveSpec w;
  w.entities = {"a", "c", "b"};
  w.parents = {{"a", {}}, {"c", {}}, {"b", {"a"}}};
  EXPECT_EQ(ReadyEntities(w, {}, {}), (Names{"a", "c"}));
  EXPECT_EQ(ReadyEntities(w, {"a", "c"}, {"a"}), Names{"b"});
}

TEST(ReadyEntitiesTest, ParentsOutsideTheWaveDoNotHoldAnEntity) {
  // Parents of earlier waves are not in `parents` (OrderWave keeps only the
  // wave's own): the entity is ready at once.
  WaveSpec w;
  w.entities = {"interaction"};
  w.parents = {{"interaction", {}}};
  EXPECT_EQ(ReadyEntities(w, {}, {}), Names{"interaction"});
}

TEST(ReadyEntitiesTest, ACycleNeverWaitsForever) {
  WaveSpec w;
  w.entities = {"x", "y"};
  w.parents = {{"x", {"y"}}, {"y", {"x"}}};
  EXPECT_EQ(ReadyEntities(w, {}, {}), Names{"x"});
  EXPECT_EQ(ReadyEntities(w, {"x"}, {}), Names{});  // x still running
  EXPECT_EQ(ReadyEntities(w, {"x"}, {"x"}), Names{"y"});
}

TEST(ReadyEntitiesTest, FollowsThePlanParser) {
  // The parents come from the plan's own ordering of the wave.
  std::vector<PlanIssue> issues;
  const std::string yaml = R"(
name: t
model:
  entities:
    account: {fields: {name: string}}
    hcp: {fields: {name: string, parent: {type: reference, entity: hcp}}}
    interaction:
      fields:
        hcp_ref: {type: reference, entity: hcp}
        account_ref: {type: reference, entity: account}
sources: {}
mappings: []
target: {kind: sqlite, path: t.db}
waves:
  - entities: [interaction, hcp, account]
)";
  Plan plan = ParsePlan(yaml, "/tmp", &issues);
  ASSERT_EQ(plan.waves.size(), 1u);
  const WaveSpec& w = plan.waves[0];
  EXPECT_EQ(ReadyEntities(w, {}, {}), (Names{"hcp", "account"}));
  EXPECT_EQ(ReadyEntities(w, {"hcp", "account"}, {"hcp"}), Names{});
  EXPECT_EQ(ReadyEntities(w, {"hcp", "account"}, {"hcp", "account"}), Names{"interaction"});
}

}  // namespace
}  // namespace sluice::coordination
