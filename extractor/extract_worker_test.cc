#include "extractor/extract_worker.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace sluice {
namespace {

namespace fs = std::filesystem;

// Two sources of two entities of one wave, leased together (the entities
// run in parallel): the extractor serves them in turn, one batch each, so
// neither entity waits for the other's source to end.
class ExtractWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("extract_worker_test_" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(dir_);
    Write("a.csv", 5);  // 3 batches of 2
    Write("b.csv", 3);  // 2 batches of 2
    const std::string yaml = R"(
name: t
batch_size: 2
model:
  entities:
    account: {fields: {name: string}}
    hcp: {fields: {name: string}}
sources:
  sa: {kind: csv, path: a.csv, key: id}
  sb: {kind: csv, path: b.csv, key: id}
mappings:
  - {entity: account, source: sa, fields: {name: name}}
  - {entity: hcp, source: sb, fields: {name: name}}
target: {kind: sqlite, path: t.db}
waves:
  - entities: [account, hcp]
)";
    std::vector<PlanIssue> issues;
    ctx_.plan = ParsePlan(yaml, dir_.string(), &issues);
    ASSERT_TRUE(issues.empty()) << issues.front().ToString();
    ctx_.run_id = "run-test";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, int rows) {
    std::ofstream out(dir_ / name);
    out << "id,name\n";
    for (int i = 0; i < rows; ++i) out << name[0] << i << ",n" << i << "\n";
  }

  static v1::Lease SourceLease(const std::string& entity, const std::string& source,
                               uint64_t epoch) {
    v1::Lease lease;
    lease.set_kind(v1::Lease::KIND_EXTRACT_SOURCE);
    auto* id = lease.mutable_batch();
    id->set_run_id("run-test");
    id->set_wave(0);
    id->set_entity(entity);
    id->set_source(source);
    lease.set_epoch(epoch);
    return lease;
  }

  fs::path dir_;
  WorkerContext ctx_;
};

TEST_F(ExtractWorkerTest, SourcesLeasedTogetherAreServedInTurn) {
  ExtractLogic logic;
  ASSERT_TRUE(logic.Start(ctx_).ok());
  StageEmitter out;
  ASSERT_TRUE(logic.OnLease(SourceLease("account", "sa", 1), out).ok());
  ASSERT_TRUE(logic.OnLease(SourceLease("hcp", "sb", 2), out).ok());
  std::vector<std::string> events;  // "entity/sequence" per commit, "done entity n"
  for (int i = 0; i < 20; ++i) {
    auto more = logic.Produce(out);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    for (const v1::Envelope& m : out.messages()) {
      if (m.has_commit()) {
        events.push_back(m.commit().batch().entity() + "/" +
                         std::to_string(m.commit().batch().sequence()));
        EXPECT_EQ(m.commit().epoch(), m.commit().batch().entity() == "account" ? 1u : 2u);
      } else if (m.has_stream_done()) {
        events.push_back("done " + m.stream_done().last().entity() + " " +
                         std::to_string(m.stream_done().batches()));
      }
    }
    out.messages().clear();
    out.batches().clear();
    if (!*more) break;
  }
  EXPECT_EQ(events, (std::vector<std::string>{"account/0", "hcp/0", "account/1", "hcp/1",
                                              "account/2", "done hcp 2", "done account 3"}));
}

// Sources are pinned (common/runtime/source_pin.h): a file that changes
// while the run reads it fails the next batch, and nothing of that batch is
// passed on; the commits carry the pin the coordinator keeps for the run.
TEST_F(ExtractWorkerTest, ASourceTruncatedDuringTheRunPassesNothingOn) {
  ExtractLogic logic;
  ASSERT_TRUE(logic.Start(ctx_).ok());
  StageEmitter out;
  ASSERT_TRUE(logic.OnLease(SourceLease("account", "sa", 1), out).ok());
  auto first = logic.Produce(out);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(out.batches().size(), 1u);
  ASSERT_TRUE(out.messages().front().commit().has_source_pin());
  const v1::SourcePin pin = out.messages().front().commit().source_pin();
  EXPECT_EQ(pin.size(), fs::file_size(dir_ / "a.csv"));
  out.messages().clear();
  out.batches().clear();
  fs::resize_file(dir_ / "a.csv", pin.size() - 8);  // the last row is cut
  auto second = logic.Produce(out);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kCorruption);
  EXPECT_NE(second.status().message().find("source sa"), std::string::npos);
  EXPECT_NE(second.status().message().find("it shrank from 38 to 30 bytes"), std::string::npos)
      << second.status().message();
  EXPECT_TRUE(out.batches().empty()) << "a batch read from the changed file was passed on";
  EXPECT_TRUE(out.messages().empty());
}

TEST_F(ExtractWorkerTest, ABatchLeasedAgainUnderThePinOfARewrittenFileIsRefused) {
  ExtractLogic logic;
  ASSERT_TRUE(logic.Start(ctx_).ok());
  StageEmitter out;
  ASSERT_TRUE(logic.OnLease(SourceLease("account", "sa", 1), out).ok());
  ASSERT_TRUE(logic.Produce(out).ok());
  const v1::Commit first = out.messages().front().commit();
  out.messages().clear();
  out.batches().clear();
  // Rewritten in place: same size, other content, a later modification time.
  {
    std::ofstream rewrite(dir_ / "a.csv", std::ios::binary | std::ios::in | std::ios::out);
    rewrite << "id,name\nz0,m0\n";
  }
  fs::last_write_time(dir_ / "a.csv",
                      fs::last_write_time(dir_ / "a.csv") + std::chrono::seconds(2));
  v1::Lease again = SourceLease("account", "sa", 3);
  again.set_kind(v1::Lease::KIND_EXTRACT_BATCH);
  *again.mutable_range() = first.range();
  *again.mutable_source_pin() = first.source_pin();  // as the coordinator sends it
  Status st = logic.OnLease(again, out);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("it was rewritten"), std::string::npos) << st.message();
  EXPECT_TRUE(out.batches().empty());
}

}  // namespace
}  // namespace sluice
