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

std::unique_ptr<LoadPipeline> TwoSlots(Gate* gate) {
  std::vector<std::unique_ptr<Target>> targets;
  targets.push_back(std::make_unique<GatedTarget>(gate));
  targets.push_back(std::make_unique<GatedTarget>(gate));
  return std::make_unique<LoadPipeline>(std::move(targets));
}

std::vector<uint64_t> Tags(const std::vector<FinishedLoad>& done) {
  std::vector<uint64_t> tags;
  for (const auto& f : done) tags.push_back(f.batch.range.begin_offset());
  return tags;
}

TEST(LoadPipeline, TwoBatchesLoadAtOnceAndFinishInStartOrder) {
  Gate gate;
  auto pipeline = TwoSlots(&gate);
  Entity hcp;
  hcp.name = "hcp";
  std::vector<FinishedLoad> done;
  pipeline->Start("run", hcp, Tagged(1), &done);
  pipeline->Start("run", hcp, Tagged(2), &done);
  gate.AwaitRunning(2);  // both transactions open at once
  EXPECT_TRUE(done.empty());
  EXPECT_EQ(pipeline->in_flight(), 2u);

  // The second ends first; it is reported behind the first.
  gate.Release(2);
  pipeline->Collect(/*wait=*/false, &done);
  EXPECT_TRUE(done.empty());
  gate.Release(1);
  pipeline->Collect(/*wait=*/true, &done);
  ASSERT_EQ(Tags(done), (std::vector<uint64_t>{1, 2}));
  for (const auto& f : done) {
    ASSERT_TRUE(f.outcome.ok());
    EXPECT_EQ(f.outcome->inserted, f.batch.range.begin_offset());
    EXPECT_EQ(f.entity, "hcp");
  }
  EXPECT_EQ(pipeline->in_flight(), 0u);
}

TEST(LoadPipeline, AFullPipelineHandsBackTheOldestBeforeStarting) {
  Gate gate;
  auto pipeline = TwoSlots(&gate);
  Entity hcp;
  hcp.name = "hcp";
  std::vector<FinishedLoad> done;
  pipeline->Start("run", hcp, Tagged(1), &done);
  pipeline->Start("run", hcp, Tagged(2), &done);
  gate.Release(1);
  pipeline->Start("run", hcp, Tagged(3), &done);  // waits for 1, takes its slot
  EXPECT_EQ(Tags(done), (std::vector<uint64_t>{1}));
  EXPECT_EQ(pipeline->in_flight(), 2u);
  gate.Release(2);
  gate.Release(3);
  done.clear();
  pipeline->Collect(/*wait=*/true, &done);
  EXPECT_EQ(Tags(done), (std::vector<uint64_t>{2, 3}));
  EXPECT_LE(gate.most_running, 2);
}

TEST(LoadPipeline, AFailedLoadComesBackWithItsBatch) {
  Gate gate;
  auto pipeline = TwoSlots(&gate);
  Entity hcp;
  hcp.name = "hcp";
  std::vector<FinishedLoad> done;
  pipeline->Start("run", hcp, Tagged(13), &done);
  pipeline->Start("run", hcp, Tagged(14), &done);
  gate.Release(13);
  gate.Release(14);
  pipeline->Collect(/*wait=*/true, &done);
  ASSERT_EQ(Tags(done), (std::vector<uint64_t>{13, 14}));
  EXPECT_FALSE(done[0].outcome.ok());
  EXPECT_EQ(done[0].outcome.status().message(), "refused batch 13");
  EXPECT_TRUE(done[1].outcome.ok());
}

}  // namespace
}  // namespace sluice
