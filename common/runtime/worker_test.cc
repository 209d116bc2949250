// The worker runtime in-process, with a ManualClock and in-memory control
// channels: registration, heartbeats, coordinator silence, leases and
// halts without sleeping; credit and backpressure with real data sockets.
#include "common/runtime/worker.h"

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

namespace sluice {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

constexpr char kIdentity[] = "reconciler-0";
constexpr char kHeartbeatIdentity[] = "reconciler-0/hb";

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
  Status start_status;  // what Start returns

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

v1::Envelope LeaseOf(const std::string& entity, uint64_t epoch) {
  v1::Envelope m;
  auto* lease = m.mutable_lease();
  lease->set_kind(v1::Lease::KIND_RECONCILE);
  lease->mutable_batch()->set_run_id("run-1");
  lease->mutable_batch()->set_entity(entity);
  lease->set_epoch(epoch);
  return m;
}

v1::Envelope HeartbeatEcho() {
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

TEST_F(WorkerRuntimeTest, RegistersAndStartsTheStageWithItsContext) {
  auto reply = Reply();
  reply.set_fault("drop_key=K7");
  reply.set_shard(3);
  reply.set_shard_count(4);
  coordinator_.AnswerRegistrations(reply);
  Start();
  ASSERT_TRUE(Settle(2));
  auto reg = coordinator_.Sent(kIdentity, v1::Envelope::kRegister);
  ASSERT_EQ(reg.size(), 1u);
  EXPECT_EQ(reg[0].register_().role(), "reconciler");
  EXPECT_EQ(reg[0].register_().pid(), static_cast<uint32_t>(getpid()));
  EXPECT_TRUE(reg[0].register_().data_endpoint().empty());  // it produces nothing
  ASSERT_TRUE(stage_.started());
  WorkerContext ctx = stage_.context();
  EXPECT_EQ(ctx.run_id, "run-1");
  EXPECT_EQ(ctx.identity, kIdentity);
  EXPECT_EQ(ctx.shard, 3u);
  EXPECT_EQ(ctx.shard_count, 4u);
  EXPECT_EQ(ctx.faults.drop_key, "K7");  // parsed once, here
  EXPECT_FALSE(ctx.faults.sigkill_after);
  // The loop's channel, and the heartbeats' own.
  EXPECT_EQ(coordinator_.opened(), (std::vector<std::string>{kIdentity, kHeartbeatIdentity}));
}

TEST_F(WorkerRuntimeTest, RegistrationIsRepeatedUntilTheCoordinatorAnswers) {
  Start();  // the coordinator is not there yet
  ASSERT_TRUE(Settle(1));
  EXPECT_EQ(coordinator_.Sent(kIdentity, v1::Envelope::kRegister).size(), 1u);
  for (int i = 0; i < 9; ++i) {  // 1.8 s: not yet asked again
    clock_.Advance(milliseconds(200));
    ASSERT_TRUE(Settle(1));
  }
  EXPECT_EQ(coordinator_.Sent(kIdentity, v1::Envelope::kRegister).size(), 1u);
  clock_.Advance(milliseconds(200));  // 2 s
  ASSERT_TRUE(Settle(1));
  EXPECT_EQ(coordinator_.Sent(kIdentity, v1::Envelope::kRegister).size(), 2u);
  EXPECT_FALSE(stage_.started());

  v1::Envelope reply;
  *reply.mutable_register_reply() = Reply();
  coordinator_.Deliver(kIdentity, reply);
  clock_.Advance(milliseconds(200));
  ASSERT_TRUE(Settle(2));  // registered: its loop and its heartbeats run
  EXPECT_TRUE(stage_.started());
}

TEST_F(WorkerRuntimeTest, RegistrationGivesUpAfterTheCoordinatorTimeout) {
  options_.coordinator_timeout = std::chrono::seconds(5);
  Start();
  while (Settle(1)) {
    ASSERT_LT(clock_.Elapsed(), std::chrono::seconds(60)) << "never gave up";
    clock_.Advance(milliseconds(200));
  }
  Status st = Result();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("no answer from coordinator"), std::string::npos) << st.ToString();
  // Not before the timeout, and within one more round of asking (2 s).
  EXPECT_GT(clock_.Elapsed(), std::chrono::seconds(5));
  EXPECT_LE(clock_.Elapsed(), std::chrono::seconds(7));
  EXPECT_EQ(coordinator_.Sent(kIdentity, v1::Envelope::kRegister).size(), 3u);  // at 0, 2, 4 s
  EXPECT_FALSE(stage_.started());
}

TEST_F(WorkerRuntimeTest, AnUnknownTestFaultIsRefused) {
  auto reply = Reply();
  reply.set_fault("sigkill_sometimes=3");
  coordinator_.AnswerRegistrations(reply);
  Start();
  Status st = Result();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_FALSE(stage_.started());
  auto errors = coordinator_.Sent(kIdentity, v1::Envelope::kError);
  ASSERT_EQ(errors.size(), 1u);  // the coordinator hears why
  EXPECT_TRUE(errors[0].error().fatal());
  EXPECT_NE(errors[0].error().message().find("sigkill_sometimes"), std::string::npos);
}

// Issue 23: a worker that cannot start (its target cannot be written, its
// server is unreachable) tells the coordinator why before it exits, so the
// halt reason names the cause and not only "keeps dying (exited with code 1)".
TEST_F(WorkerRuntimeTest, AStageThatCannotStartTellsTheCoordinatorWhy) {
  coordinator_.AnswerRegistrations(Reply());
  stage_.start_status = Status::IoError("target not writable: /ro/t.db: attempt to write");
  Start();
  Status st = Result();
  EXPECT_EQ(st.code(), StatusCode::kIoError) << st.ToString();
  auto errors = coordinator_.Sent(kIdentity, v1::Envelope::kError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].error().fatal());
  EXPECT_EQ(errors[0].error().message(),
            "worker setup failed: target not writable: /ro/t.db: attempt to write");
}

// --- Heartbeats ---

TEST_F(WorkerRuntimeTest, HeartbeatsGoOutAtOnceAndThenEveryInterval) {
  StartRegistered();
  auto beats = coordinator_.Sent(kHeartbeatIdentity, v1::Envelope::kHeartbeat);
  ASSERT_EQ(beats.size(), 1u);
  EXPECT_EQ(beats[0].heartbeat().sequence(), 1u);
  // On their own channel, never the loop's.
  EXPECT_TRUE(coordinator_.Sent(kIdentity, v1::Envelope::kHeartbeat).empty());

  ASSERT_TRUE(Step(milliseconds(499)));
  EXPECT_EQ(Heartbeats(), 1u);
  ASSERT_TRUE(Step(milliseconds(1)));
  EXPECT_EQ(Heartbeats(), 2u);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Step(milliseconds(500)));
  beats = coordinator_.Sent(kHeartbeatIdentity, v1::Envelope::kHeartbeat);
  ASSERT_EQ(beats.size(), 6u);
  for (size_t i = 0; i < beats.size(); ++i) EXPECT_EQ(beats[i].heartbeat().sequence(), i + 1);
}

// The reason heartbeats have a thread of their own: a stage busy for long
// (a resolve, a reconciliation) must not make a live worker look dead.
TEST_F(WorkerRuntimeTest, HeartbeatsGoOnWhileTheStageIsBusy) {
  StartRegistered();
  coordinator_.Deliver(kIdentity, LeaseOf("slow", 1));
  clock_.Advance(milliseconds(50));
  ASSERT_TRUE(stage_.AwaitSlowLease());
  ASSERT_TRUE(Settle(1));  // the loop is in the stage; only heartbeats sleep
  const size_t before = Heartbeats();
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(milliseconds(500));
    ASSERT_TRUE(Settle(1));
  }
  EXPECT_EQ(Heartbeats(), before + 4);
  stage_.ReleaseSlowLease();
  ASSERT_TRUE(Settle(2));
  EXPECT_EQ(coordinator_.Sent(kIdentity, v1::Envelope::kCommit).size(), 1u);
}

// --- Coordinator silence ---

TEST_F(WorkerRuntimeTest, GivesUpWhenTheCoordinatorFallsSilent) {
  StartRegistered();
  ASSERT_TRUE(Step(milliseconds(19950)));  // 19.95 s of silence: still waiting
  // Anything from the coordinator (here a heartbeat echo) restarts the count.
  coordinator_.Deliver(kIdentity, HeartbeatEcho());
  ASSERT_TRUE(Step(milliseconds(50)));
  ASSERT_TRUE(Step(milliseconds(19950)));
  EXPECT_FALSE(Finished());
  clock_.Advance(milliseconds(100));  // 20.05 s since the echo
  Status st = Result();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("coordinator silent for 20s"), std::string::npos) << st.ToString();
}

TEST_F(WorkerRuntimeTest, ShutdownEndsTheWorkerCleanly) {
  StartRegistered();
  coordinator_.Deliver(kIdentity, Shutdown());
  clock_.Advance(milliseconds(50));
  Status st = Result();
  EXPECT_TRUE(st.ok()) << st.ToString();
  // The heartbeat thread stopped with it, asleep or not.
  EXPECT_TRUE(clock_.AwaitSleepers(0));
}

// --- Leases and halts ---

TEST_F(WorkerRuntimeTest, ALeaseReachesTheStageAndItsCommitTheCoordinator) {
  StartRegistered();
  coordinator_.Deliver(kIdentity, LeaseOf("hcp", 3));
  ASSERT_TRUE(Step(milliseconds(50)));
  EXPECT_EQ(stage_.leases(), std::vector<std::string>{"hcp"});
  auto commits = coordinator_.Sent(kIdentity, v1::Envelope::kCommit);
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(commits[0].commit().batch().entity(), "hcp");
  EXPECT_EQ(commits[0].commit().epoch(), 3u);
  EXPECT_TRUE(coordinator_.Sent(kIdentity, v1::Envelope::kError).empty());
}

TEST_F(WorkerRuntimeTest, AFailedLeaseIsReportedAsFatal) {
  StartRegistered();
  coordinator_.Deliver(kIdentity, LeaseOf("bad", 2));
  ASSERT_TRUE(Step(milliseconds(50)));
  auto errors = coordinator_.Sent(kIdentity, v1::Envelope::kError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].error().fatal());
  EXPECT_EQ(errors[0].error().stage(), "reconcile");
  EXPECT_EQ(errors[0].error().batch().entity(), "bad");
  EXPECT_EQ(errors[0].error().message(), "bad lease");
  EXPECT_TRUE(coordinator_.Sent(kIdentity, v1::Envelope::kCommit).empty());
  EXPECT_FALSE(Finished());  // the coordinator decides: it halts the run
}

TEST_F(WorkerRuntimeTest, AHaltWinsOverTheLeasesBehindIt) {
  StartRegistered();
  v1::Envelope halt;
  halt.mutable_halt()->set_reason("one record off");
  coordinator_.Deliver(kIdentity, halt);
  coordinator_.Deliver(kIdentity, LeaseOf("hcp", 1));
  ASSERT_TRUE(Step(milliseconds(50)));
  EXPECT_EQ(stage_.halts(), std::vector<std::string>{"one record off"});
  coordinator_.Deliver(kIdentity, LeaseOf("account", 2));
  ASSERT_TRUE(Step(milliseconds(50)));
  EXPECT_TRUE(stage_.leases().empty());
  EXPECT_TRUE(coordinator_.Sent(kIdentity, v1::Envelope::kCommit).empty());
  EXPECT_FALSE(Finished());  // halted, not gone: it waits for shutdown
}

// --- Credit, with real data sockets ---

std::string WireBatch(uint64_t sequence) {
  RecordBatch b;
  b.id.set_run_id("run-1");
  b.id.set_entity("hcp");
  b.id.set_source("sa");
  b.id.set_sequence(sequence);
  b.schema.fields.push_back({"name", FieldType::kString});
  Record& r = b.records.emplace_back();
  r.source = "sa";
  r.key = "k" + std::to_string(sequence);
  r.values.resize(1);
  r.values[0].is_null = false;
  r.values[0].s = "x";
  b.RehashAll();
  v1::DataMessage m;
  EncodeBatch(b, m.mutable_batch());
  return m.SerializeAsString();
}

// An upstream producer played by the test: a ROUTER that reads credit and
// sends batches to one consumer.
class Upstream {
 public:
  Upstream() : socket_(ProcessContext(), zmq::socket_type::router) {
    auto endpoint = BindSocket(socket_, "tcp://127.0.0.1:*");
    EXPECT_TRUE(endpoint.ok()) << endpoint.status().ToString();
    if (endpoint.ok()) endpoint_ = *endpoint;
  }
  const std::string& endpoint() const { return endpoint_; }

  // The next credit message within `timeout` (for real), from whom.
  std::optional<v1::Credit> NextCredit(milliseconds timeout = milliseconds(2000)) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
    zmq::message_t id, body;
    if (!socket_.recv(id) || !socket_.recv(body)) return std::nullopt;
    consumer_ = id.to_string();
    v1::DataMessage m;
    if (!m.ParseFromArray(body.data(), static_cast<int>(body.size())) || !m.has_credit()) {
      ADD_FAILURE() << "not a credit message";
      return std::nullopt;
    }
    return m.credit();
  }
  void Send(const std::string& message) {
    socket_.send(zmq::buffer(consumer_), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(message), zmq::send_flags::none);
  }
  const std::string& consumer() const { return consumer_; }

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
  std::string consumer_;
};

TEST_F(WorkerRuntimeTest, CreditIsAskedGrantedBackPerBatchAndResyncedAfterSilence) {
  options_.role = "loader";  // its identity on the data socket
  options_.credits = 4;
  stage_.consumes_input = true;
  Upstream upstream;
  auto reply = Reply();
  reply.add_upstream_endpoints(upstream.endpoint());
  reply.set_shard(2);
  coordinator_.AnswerRegistrations(reply);
  Start();

  auto first = upstream.NextCredit();
  ASSERT_TRUE(first);
  EXPECT_EQ(upstream.consumer(), "loader-0");
  EXPECT_EQ(first->credits(), 4u);
  EXPECT_TRUE(first->reset());  // a (re)started consumer replaces what it had
  EXPECT_EQ(first->shard(), 2u);

  // Each batch taken is granted back, once the stage has it.
  for (uint64_t seq = 0; seq < 3; ++seq) {
    upstream.Send(WireBatch(seq));
    auto more = upstream.NextCredit();
    ASSERT_TRUE(more) << "no credit back for batch " << seq;
    EXPECT_EQ(more->credits(), 1u);
    EXPECT_FALSE(more->reset());
  }
  EXPECT_EQ(stage_.batches(), (std::vector<uint64_t>{0, 1, 2}));
  // Nothing more while time stands still: no batch, no credit.
  EXPECT_FALSE(upstream.NextCredit(milliseconds(200)));

  // A second without input from this producer: it may have restarted and
  // forgotten us, so the whole credit is told again, as a reset.
  clock_.Advance(milliseconds(1001));
  auto resync = upstream.NextCredit();
  ASSERT_TRUE(resync);
  EXPECT_EQ(resync->credits(), 4u);
  EXPECT_TRUE(resync->reset());
}

TEST_F(WorkerRuntimeTest, InputWaitsWhileTheOutputIsFull) {
  options_.role = "transformer";
  options_.credits = 4;
  options_.max_queued = 2;
  stage_.consumes_input = true;
  stage_.produces_output = true;
  Upstream upstream;
  auto reply = Reply();
  reply.add_upstream_endpoints(upstream.endpoint());
  coordinator_.AnswerRegistrations(reply);
  Start();
  auto first = upstream.NextCredit();
  ASSERT_TRUE(first);
  ASSERT_EQ(first->credits(), 4u);
  for (uint64_t seq = 0; seq < 4; ++seq) upstream.Send(WireBatch(seq));

  // Two batches fill the output (nobody downstream): the other two wait
  // unread, and no credit is granted back for them.
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(upstream.NextCredit()) << i;
  EXPECT_FALSE(upstream.NextCredit(milliseconds(300)));
  EXPECT_EQ(stage_.batches(), (std::vector<uint64_t>{0, 1}));

  // A downstream consumer takes the output: input flows again.
  auto reg = coordinator_.Sent("transformer-0", v1::Envelope::kRegister);
  ASSERT_EQ(reg.size(), 1u);
  auto down = DataConsumer::Create(reg[0].register_().data_endpoint(), "deduper-0", 0, "");
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  ASSERT_TRUE((*down)->Grant(10).ok());
  std::vector<uint64_t> got;
  for (auto until = Steady::now() + std::chrono::seconds(2);
       got.size() < 4 && Steady::now() < until;) {
    auto b = (*down)->Receive(milliseconds(20));
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    if (*b) got.push_back((*b)->id().sequence());
  }
  EXPECT_EQ(got, (std::vector<uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(stage_.batches(), (std::vector<uint64_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace sluice
