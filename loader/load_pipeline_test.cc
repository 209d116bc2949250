// LoadPipeline with a target whose loads wait until the test lets them end.
#include "loader/load_pipeline.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>

namespace sluice {
namespace {

// Loads of every GatedTarget: each waits until its batch's tag
// (range.begin_offset) is released; tag 13 fails.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  std::set<uint64_t> released;
  int running = 0, most_running = 0;

  void Release(uint64_t tag) {
    std::lock_guard lock(mu);
    released.insert(tag);
    cv.notify_all();
  }
  // Waits until `n` loads are running at once.
  void AwaitRunning(int n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return running >= n; });
  }
};

class GatedTarget : public Target {
 public:
  explicit GatedTarget(Gate* gate) : gate_(gate) {}
  Status Prepare(const Entity&) override { return Status::Ok(); }
  Status ScanRows(const Entity&, const std::function<void(const TargetRow&)>&) override {
    return Status::Ok();
  }
  Result<LoadOutcome> Load(const std::string&, const Entity&, const RecordBatch& b) override {
    const uint64_t tag = b.range.begin_offset();
    std::unique_lock lock(gate_->mu);
    gate_->most_running = std::max(gate_->most_running, ++gate_->running);
    gate_->cv.notify_all();
    gate_->cv.wait(lock, [&] { return gate_->released.count(tag) > 0; });
    --gate_->running;
    if (tag == 13) return Status::FailedPrecondition("refused batch 13");
    LoadOutcome out;
    out.inserted = tag;
    return out;
  }

 private:
  Gate* gate_;
};

RecordBatch Tagged(uint64_t tag) {
  RecordBatch b;
  b.range.set_begin_offset(tag);
  return b;
}

std::vector<uint64_t> Tags(const std::vector<FinishedLoad>& done) {
  std::vector<uint64_t> tags;
  for (const auto& f : done) tags.push_back(f.batch.range.begin_offset());
  return tags;
}

// Two slots, both gated; batches of entity hcp started into `done_`.
class LoadPipelineTest : public ::testing::Test {
 protected:
  LoadPipelineTest() {
    hcp_.name = "hcp";
    std::vector<std::unique_ptr<Target>> targets;
    targets.push_back(std::make_unique<GatedTarget>(&gate_));
    targets.push_back(std::make_unique<GatedTarget>(&gate_));
    pipeline_ = std::make_unique<LoadPipeline>(std::move(targets));
  }
  void Start(uint64_t tag) { pipeline_->Start("run", hcp_, Tagged(tag), &done_); }

  Gate gate_;
  Entity hcp_;
  std::unique_ptr<LoadPipeline> pipeline_;
  std::vector<FinishedLoad> done_;
};

TEST_F(LoadPipelineTest, TwoBatchesLoadAtOnceAndFinishInStartOrder) {
  Start(1);
  Start(2);
  gate_.AwaitRunning(2);  // both transactions open at once
  EXPECT_TRUE(done_.empty());
  EXPECT_EQ(pipeline_->in_flight(), 2u);

  // The second ends first; it is reported behind the first.
  gate_.Release(2);
  pipeline_->Collect(/*wait=*/false, &done_);
  EXPECT_TRUE(done_.empty());
  gate_.Release(1);
  pipeline_->Collect(/*wait=*/true, &done_);
  ASSERT_EQ(Tags(done_), (std::vector<uint64_t>{1, 2}));
  for (const auto& f : done_) {
    ASSERT_TRUE(f.outcome.ok());
    EXPECT_EQ(f.outcome->inserted, f.batch.range.begin_offset());
    EXPECT_EQ(f.entity, "hcp");
  }
  EXPECT_EQ(pipeline_->in_flight(), 0u);
}

TEST_F(LoadPipelineTest, AFullPipelineHandsBackTheOldestBeforeStarting) {
  Start(1);
  Start(2);
  gate_.Release(1);
  Start(3);  // waits for 1, takes its slot
  EXPECT_EQ(Tags(done_), (std::vector<uint64_t>{1}));
  EXPECT_EQ(pipeline_->in_flight(), 2u);
  gate_.Release(2);
  gate_.Release(3);
  done_.clear();
  pipeline_->Collect(/*wait=*/true, &done_);
  EXPECT_EQ(Tags(done_), (std::vector<uint64_t>{2, 3}));
  EXPECT_LE(gate_.most_running, 2);
}

TEST_F(LoadPipelineTest, AFailedLoadComesBackWithItsBatch) {
  Start(13);
  Start(14);
  gate_.Release(13);
  gate_.Release(14);
  pipeline_->Collect(/*wait=*/true, &done_);
  ASSERT_EQ(Tags(done_), (std::vector<uint64_t>{13, 14}));
  EXPECT_FALSE(done_[0].outcome.ok());
  EXPECT_EQ(done_[0].outcome.status().message(), "refused batch 13");
  EXPECT_TRUE(done_[1].outcome.ok());
}

}  // namespace
}  // namespace sluice
