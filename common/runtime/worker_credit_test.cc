// The worker runtime's credit and backpressure, with real data sockets: an
// upstream played by the test grants batches as the worker asks for them.
#include <gtest/gtest.h>

#include <string>

#include "common/runtime/codec.h"
#include "common/runtime/commit_keys.h"
#include "common/runtime/transport.h"
#include "common/runtime/worker.h"
#include "common/runtime/worker_testing.h"

namespace sluice::worker_testing {
namespace {

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
  // Its routing id: its name and a nonce of its process (routing_id.h).
  EXPECT_EQ(upstream.consumer().rfind("loader-0@", 0), 0u) << upstream.consumer();
  EXPECT_EQ(upstream.consumer().size(), std::string("loader-0@").size() + 16);
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

TEST_F(WorkerRuntimeTest, InputWaitsForTheCoordinatorToTakeItsCommits) {
  // Issue 20 item 3: at most `commit_credits` commits unanswered; the rest
  // of the input waits unread until a CommitAck gives credits back.
  options_.role = "transformer";
  options_.credits = 4;
  stage_.consumes_input = true;
  stage_.produces_output = true;
  stage_.commits_batches = true;
  Upstream upstream;
  auto reply = Reply();
  reply.add_upstream_endpoints(upstream.endpoint());
  reply.set_commit_credits(2);
  coordinator_.AnswerRegistrations(reply);
  Start();
  auto first = upstream.NextCredit();  // registered: its first credit
  ASSERT_TRUE(first);
  auto down = [&] {
    auto reg = coordinator_.Sent("transformer-0", v1::Envelope::kRegister);
    EXPECT_EQ(reg.size(), 1u);
    return DataConsumer::Create(reg[0].register_().data_endpoint(), "deduper-0", 0, "");
  }();
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  ASSERT_TRUE((*down)->Grant(10).ok());  // the output is never what holds it back
  // The stage commits sent (not the "start" notices, which take no credit).
  auto commits = [&] {
    size_t n = 0;
    for (const auto& e : coordinator_.Sent("transformer-0", v1::Envelope::kCommit))
      n += TakesCommitCredit(e);
    return n;
  };
  for (uint64_t seq = 0; seq < 4; ++seq) upstream.Send(WireBatch(seq));

  for (int i = 0; i < 2; ++i) ASSERT_TRUE(upstream.NextCredit()) << i;
  EXPECT_FALSE(upstream.NextCredit(milliseconds(300)));
  EXPECT_EQ(stage_.batches(), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(commits(), 2u);

  // One commit answered: one more batch.
  v1::Envelope ack;
  ack.mutable_commit_ack()->set_commits(1);
  coordinator_.Deliver("transformer-0", ack);
  ASSERT_TRUE(upstream.NextCredit());
  EXPECT_FALSE(upstream.NextCredit(milliseconds(300)));
  EXPECT_EQ(stage_.batches(), (std::vector<uint64_t>{0, 1, 2}));

  // Both others answered (an answer never gives more than was sent).
  ack.mutable_commit_ack()->set_commits(5);
  coordinator_.Deliver("transformer-0", ack);
  ASSERT_TRUE(upstream.NextCredit());
  EXPECT_EQ(stage_.batches(), (std::vector<uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(commits(), 4u);
}

TEST_F(WorkerRuntimeTest, NoCommitCreditsFromTheCoordinatorMeansNoLimit) {
  // A coordinator that does not answer commits (commit_credits 0).
  options_.role = "loader";
  options_.credits = 4;
  stage_.consumes_input = true;
  stage_.commits_batches = true;
  Upstream upstream;
  auto reply = Reply();
  reply.add_upstream_endpoints(upstream.endpoint());
  coordinator_.AnswerRegistrations(reply);
  Start();
  ASSERT_TRUE(upstream.NextCredit());
  for (uint64_t seq = 0; seq < 4; ++seq) upstream.Send(WireBatch(seq));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(upstream.NextCredit()) << i;
  EXPECT_EQ(stage_.batches(), (std::vector<uint64_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace sluice::worker_testing
