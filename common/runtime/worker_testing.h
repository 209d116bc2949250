// The worker runtime's test fixture (worker_test.cc, worker_credit_test.cc):
// a fake coordinator on in-memory control channels, a stage that records
// what reached it, and a ManualClock, so that registration, heartbeats,
// leases and halts are tested without sleeping.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "common/runtime/codec.h"
#include "common/runtime/transport.h"
#include "common/runtime/worker.h"

namespace sluice::worker_testing {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

inline constexpr char kIdentity[] = "reconciler-0";
inline constexpr char kHeartbeatIdentity[] = "reconciler-0/hb";

// The coordinator's end of in-memory control channels: what each identity
// sent, and what is waiting for it. Receive with a timeout sleeps on the
// clock, as a poll would wait. Thread-safe.
class FakeCoordinator {
 public:
  explicit FakeCoordinator(Clock& clock) : clock_(clock) {}

  // Answers every Register with `reply` from now on.
  void AnswerRegistrations(v1::RegisterReply reply) {
    std::lock_guard lock(mu_);
    answer_ = std::move(reply);
  }
  void Deliver(const std::string& identity, v1::Envelope message) {
    std::lock_guard lock(mu_);
    inbox_[identity].push_back(std::move(message));
  }
  // What `identity` sent with body `kind`, in order.
  std::vector<v1::Envelope> Sent(const std::string& identity, v1::Envelope::BodyCase kind) {
    std::lock_guard lock(mu_);
    std::vector<v1::Envelope> out;
    for (const auto& m : sent_[identity]) {
      if (m.body_case() == kind) out.push_back(m);
    }
    return out;
  }
  std::vector<std::string> opened() {
    std::lock_guard lock(mu_);
    return opened_;
  }

  WorkerEnv::OpenControl Opener() {
    return [this](const std::string& identity) -> Result<std::unique_ptr<ControlChannel>> {
      std::lock_guard lock(mu_);
      opened_.push_back(identity);
      return std::unique_ptr<ControlChannel>(new Channel(*this, identity));
    };
  }

 private:
  class Channel : public ControlChannel {
   public:
    Channel(FakeCoordinator& c, std::string identity) : c_(c), identity_(std::move(identity)) {}
    Status Send(const v1::Envelope& message) override {
      std::lock_guard lock(c_.mu_);
      c_.sent_[identity_].push_back(message);
      if (message.has_register_() && c_.answer_) {
        v1::Envelope reply;
        *reply.mutable_register_reply() = *c_.answer_;
        c_.inbox_[identity_].push_back(std::move(reply));
      }
      return Status::Ok();
    }
    Result<std::optional<v1::Envelope>> Receive(milliseconds timeout) override {
      if (auto m = Take()) return m;
      if (timeout.count() == 0) return std::optional<v1::Envelope>();
      c_.clock_.SleepFor(timeout);
      return Take();
    }

   private:
    std::optional<v1::Envelope> Take() {
      std::lock_guard lock(c_.mu_);
      auto& q = c_.inbox_[identity_];
      if (q.empty()) return std::nullopt;
      v1::Envelope m = std::move(q.front());
      q.pop_front();
      return m;
    }
    FakeCoordinator& c_;
    std::string identity_;
  };

  Clock& clock_;
  std::mutex mu_;
  std::optional<v1::RegisterReply> answer_;
  std::map<std::string, std::deque<v1::Envelope>> inbox_;
  std::map<std::string, std::vector<v1::Envelope>> sent_;
  std::vector<std::string> opened_;
};

// A stage like the reconciler (leases only, no data sockets) or, with
// `consumes`, one that takes input batches and passes each on when it
// `produces`. It commits every lease, fails those of entity "bad", and
// blocks inside a lease of entity "slow" until released. Thread-safe.
class TestStage : public StageLogic {
 public:
  bool consumes_input = false;
  bool produces_output = false;
  bool commits_batches = false;  // a commit for every batch taken in
  Status start_status;           // what Start returns

  std::string stage() const override { return "reconcile"; }
  bool consumes() const override { return consumes_input; }
  bool produces() const override { return produces_output; }
  Status Start(const WorkerContext& ctx) override {
    std::lock_guard lock(mu_);
    context_ = ctx;
    started_ = start_status.ok();
    return start_status;
  }
  Status OnLease(const v1::Lease& lease, StageEmitter& out) override {
    {
      std::lock_guard lock(mu_);
      leases_.push_back(lease.batch().entity());
    }
    if (lease.batch().entity() == "slow") {
      entered_.set_value();
      release_.get_future().wait();
    }
    if (lease.batch().entity() == "bad") return Status::InvalidArgument("bad lease");
    v1::Commit c;
    c.set_stage(stage());
    *c.mutable_batch() = lease.batch();
    c.set_epoch(lease.epoch());
    out.Commit(std::move(c));
    return Status::Ok();
  }
  Status OnBatch(RecordBatch batch, StageEmitter& out) override {
    {
      std::lock_guard lock(mu_);
      batches_.push_back(batch.id.sequence());
    }
    if (produces_output) out.Emit(0, batch);
    if (commits_batches) {
      v1::Commit c;
      c.set_stage(stage());
      *c.mutable_batch() = batch.id;
      out.Commit(std::move(c));
    }
    return Status::Ok();
  }
  void OnHalt(const std::string& reason) override {
    std::lock_guard lock(mu_);
    halts_.push_back(reason);
  }

  // Waits (for real, at most 5 s) until a "slow" lease is inside OnLease.
  bool AwaitSlowLease() {
    return entered_future_.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  }
  void ReleaseSlowLease() { release_.set_value(); }

  bool started() {
    std::lock_guard lock(mu_);
    return started_;
  }
  WorkerContext context() {
    std::lock_guard lock(mu_);
    return context_;
  }
  std::vector<std::string> leases() {
    std::lock_guard lock(mu_);
    return leases_;
  }
  std::vector<uint64_t> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::vector<std::string> halts() {
    std::lock_guard lock(mu_);
    return halts_;
  }

 private:
  std::mutex mu_;
  bool started_ = false;
  WorkerContext context_;
  std::vector<std::string> leases_;
  std::vector<uint64_t> batches_;
  std::vector<std::string> halts_;
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::promise<void> release_;
};

inline v1::Envelope LeaseOf(const std::string& entity, uint64_t epoch) {
  v1::Envelope m;
  auto* lease = m.mutable_lease();
  lease->set_kind(v1::Lease::KIND_RECONCILE);
  lease->mutable_batch()->set_run_id("run-1");
  lease->mutable_batch()->set_entity(entity);
  lease->set_epoch(epoch);
  return m;
}

inline v1::Envelope HeartbeatEcho() {
  v1::Envelope m;
  m.mutable_heartbeat()->set_sequence(1);
  return m;
}

class WorkerRuntimeTest : public ::testing::Test {
 protected:
  WorkerRuntimeTest() {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("worker_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "a.csv") << "id,name\n1,x\n";
    options_.role = "reconciler";
    options_.ordinal = 0;
    options_.coordinator = "inproc://unused";  // the fake channels stand in
    options_.heartbeat = milliseconds(500);
    options_.coordinator_timeout = std::chrono::seconds(20);
    env_.clock = &clock_;
    env_.open_control = coordinator_.Opener();
  }

  ~WorkerRuntimeTest() override {
    if (worker_.joinable()) {
      // Shut it down; time moves so that its waits end.
      coordinator_.Deliver(options_.identity(), Shutdown());
      for (int i = 0; i < 200 && !Finished(); ++i) {
        clock_.Advance(milliseconds(50));
        result_.wait_for(milliseconds(10));
      }
      worker_.join();
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static v1::Envelope Shutdown() {
    v1::Envelope m;
    m.mutable_shutdown();
    return m;
  }

  v1::RegisterReply Reply() const {
    v1::RegisterReply r;
    r.set_run_id("run-1");
    r.set_base_dir(dir_.string());
    r.set_plan_yaml(R"(
name: t
model:
  entities:
    hcp: {fields: {name: string}}
sources:
  sa: {kind: csv, path: a.csv, key: id}
mappings:
  - {entity: hcp, source: sa, fields: {name: name}}
target: {kind: sqlite, path: t.db}
waves:
  - entities: [hcp]
)");
    r.set_shard_count(1);
    return r;
  }

  void Start() {
    worker_ = std::thread([this] { done_.set_value(ServeWorker(options_, stage_, env_)); });
  }
  bool Finished() { return result_.wait_for(milliseconds(0)) == std::future_status::ready; }
  // The worker's status once it returns (waits for real, at most 5 s).
  Status Result() {
    if (result_.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      return Status::Internal("worker still running");
    }
    return result_.get();
  }

  // Waits (for real, at most 5 s) until the worker's `threads` threads all
  // sleep on the clock: nothing more happens until time moves. False when
  // the worker returned instead.
  bool Settle(size_t threads) {
    for (auto until = Steady::now() + std::chrono::seconds(5); Steady::now() < until;) {
      if (clock_.AwaitSleepers(threads, milliseconds(5))) return true;
      if (Finished()) return false;
    }
    ADD_FAILURE() << "the worker neither settled with " << threads << " thread(s) asleep nor ended";
    return false;
  }
  // Moves time by `d` and waits until both threads (loop and heartbeats)
  // sleep again.
  bool Step(Clock::Duration d) {
    clock_.Advance(d);
    return Settle(2);
  }
  // Starts the worker with registrations answered and waits until it runs.
  void StartRegistered() {
    coordinator_.AnswerRegistrations(Reply());
    Start();
    ASSERT_TRUE(Settle(2));
    ASSERT_TRUE(stage_.started());
  }

  size_t Heartbeats() {
    return coordinator_.Sent(kHeartbeatIdentity, v1::Envelope::kHeartbeat).size();
  }

  fs::path dir_;
  ManualClock clock_;
  FakeCoordinator coordinator_{clock_};
  TestStage stage_;
  WorkerOptions options_;
  WorkerEnv env_;
  std::promise<Status> done_;
  std::shared_future<Status> result_ = done_.get_future().share();
  std::thread worker_;
};

// --- Registration ---

}  // namespace sluice::worker_testing
