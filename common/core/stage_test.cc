#include "common/core/stage.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(StageTest, EveryNameReadsBackAsItsStage) {
  for (BatchPhase phase : {BatchPhase::kIngest, BatchPhase::kOutput, BatchPhase::kWhole}) {
    for (Stage s : StagesOf(phase)) {
      EXPECT_EQ(StageNamed(StageName(s)), s) << StageName(s);
      EXPECT_EQ(InfoOf(s).phase, phase) << StageName(s);
    }
  }
  EXPECT_EQ(StageNamed("dedup_ingest/1"), std::nullopt);  // a shard is not part of a name
  EXPECT_EQ(StageNamed("nonsense"), std::nullopt);
}

TEST(StageTest, EachPhaseIsAChainInPipelineOrder) {
  using enum Stage;
  EXPECT_EQ(StagesOf(BatchPhase::kIngest),
            (std::vector<Stage>{kExtract, kTransform, kDedupIngest}));
  EXPECT_EQ(StagesOf(BatchPhase::kOutput), (std::vector<Stage>{kDedupOutput, kValidate, kLoad}));
  for (BatchPhase phase : {BatchPhase::kIngest, BatchPhase::kOutput}) {
    const std::vector<Stage>& chain = StagesOf(phase);
    EXPECT_EQ(InfoOf(chain.front()).upstream, std::nullopt);
    EXPECT_EQ(DownstreamOf(chain.back()), std::nullopt);
    for (size_t i = 1; i < chain.size(); ++i) {
      EXPECT_EQ(InfoOf(chain[i]).upstream, chain[i - 1]);
      EXPECT_EQ(DownstreamOf(chain[i - 1]), chain[i]);
    }
  }
}

TEST(StageTest, RolesAndWhomTheyPullFrom) {
  EXPECT_EQ(Roles(), (std::vector<std::string_view>{"extractor", "transformer", "deduper",
                                                    "validator", "loader", "reconciler"}));
  EXPECT_EQ(UpstreamRole("extractor"), "");
  EXPECT_EQ(UpstreamRole("transformer"), "extractor");
  EXPECT_EQ(UpstreamRole("deduper"), "transformer");
  EXPECT_EQ(UpstreamRole("validator"), "deduper");
  EXPECT_EQ(UpstreamRole("loader"), "validator");
  EXPECT_EQ(UpstreamRole("reconciler"), "");
  EXPECT_EQ(UpstreamRole("stranger"), "");
  for (std::string_view role : Roles()) EXPECT_EQ(InfoOf(*InputStageOf(role)).role, role);
}

TEST(StageTest, OnlyAShardsIngestCarriesItsShardInTheLabel) {
  EXPECT_EQ(StageLabel(Stage::kDedupIngest, 0), "dedup_ingest");
  EXPECT_EQ(StageLabel(Stage::kDedupIngest, 3), "dedup_ingest/3");
  EXPECT_EQ(StageLabel(Stage::kDedupResolve, 3), "dedup_resolve");
  v1::Commit c;
  c.set_stage("dedup_ingest");
  c.set_dedup_shard(2);
  EXPECT_EQ(StageLabel(c), "dedup_ingest/2");
}

}  // namespace
}  // namespace sluice
