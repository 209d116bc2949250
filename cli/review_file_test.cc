#include "cli/review_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

Plan HcpPlan() {
  std::vector<PlanIssue> issues;
  Plan plan;
  plan.name = "p";
  plan.model = ParseModel(R"y(entities:
  hcp:
    fields:
      city: {type: string}
      revenue: {type: "decimal(12,2)"}
)y",
                          &issues);
  EXPECT_TRUE(issues.empty());
  return plan;
}

class ReviewFileTest : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove(path_); }
  std::string Write(const std::string& text) {
    std::ofstream(path_, std::ios::binary) << text;
    return path_;
  }
  std::string path_ =
      (fs::temp_directory_path() / ("sluice_review_" + std::to_string(::getpid()) + ".csv"))
          .string();
};

TEST_F(ReviewFileTest, ReadsDecisionsAndCorrections) {
  auto d = ReadReviewDecisions(
      HcpPlan(),
      Write(
          "kind,entity,source,key,other_source,other_key,decision,steward,corrections\n"
          "record,hcp,crm,K1,,,load,ana,\"{\"\"revenue\"\": \"\"12.50\"\", \"\"city\"\": null}\"\n"
          "pair,hcp,crm,K2,erp,E2,match,bo,\n"
          "record,hcp,crm,K3,,,,,\n"),
      42);
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_EQ(d->records.size(), 1u);
  EXPECT_EQ(d->records[0].corrections_size(), 2);
  EXPECT_EQ(d->records[0].decided_ms(), 42);
  EXPECT_EQ(d->pairs.size(), 1u);
  EXPECT_EQ(d->open, 1u);
}

TEST_F(ReviewFileTest, ADeepJsonCellIsAProblemAtItsLine) {
  // A cell nested 70,000 deep segfaulted `sluice review import` (printing it).
  std::ifstream in("tests/data/fuzz/review_deep_json.csv", std::ios::binary);
  ASSERT_TRUE(in) << "tests/data/fuzz/review_deep_json.csv (run from the source folder)";
  std::stringstream text;
  text << in.rdbuf();
  auto d = ReadReviewDecisions(HcpPlan(), Write(text.str()), 0);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), path_ + ":2: corrections: JSON nested deeper than 64 levels");
}

}  // namespace
}  // namespace sluice::cli
