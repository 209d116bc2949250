// The ZeroMQ transport for real, over tcp://127.0.0.1:* in one process:
// credit flow, consumers' routes, dead peers.
//
// What the data channel promises (transport.h): nothing is sent without
// credit, so a consumer never gets more than it asked for and a dead one
// holds at most that; batches not sent stay queued for the next consumer of
// their shard; a batch sent to a consumer that then dies is not sent again
// (the coordinator re-leases it, which is not the transport's business).
#include "common/runtime/transport.h"

#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "common/runtime/request_reply.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

constexpr char kAnyPort[] = "tcp://127.0.0.1:*";

std::string BatchMessage(uint64_t sequence) {
  v1::DataMessage m;
  m.mutable_batch()->mutable_id()->set_entity("hcp");
  m.mutable_batch()->mutable_id()->set_sequence(sequence);
  return m.SerializeAsString();
}

void EnqueueRange(DataProducer& p, uint32_t shard, uint64_t first, uint64_t count) {
  for (uint64_t s = first; s < first + count; ++s) p.Enqueue(shard, BatchMessage(s));
}

std::unique_ptr<DataProducer> Producer(const std::string& endpoint = kAnyPort) {
  auto p = DataProducer::Create(endpoint);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : nullptr;
}

std::unique_ptr<DataConsumer> Consumer(const DataProducer& p, const std::string& identity,
                                       uint32_t shard = 0) {
  auto c = DataConsumer::Create(p.endpoint(), identity, shard, "");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

// Pumps `p` (waiting on its socket between pumps) until `done` holds, at
// most `timeout`. False on timeout.
bool PumpUntil(DataProducer& p, const std::function<bool()>& done,
               milliseconds timeout = milliseconds(2000)) {
  const auto until = Steady::now() + timeout;
  for (;;) {
    auto sent = p.Pump();
    EXPECT_TRUE(sent.ok()) << sent.status().ToString();
    if (done()) return true;
    if (Steady::now() > until) return false;
    zmq::pollitem_t item{p.socket().handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, milliseconds(5));
  }
}

// Pumps `p` and takes every batch `c` receives until none came for
// `quiet`; the sequences, in order of arrival.
std::vector<uint64_t> Drain(DataProducer& p, DataConsumer& c,
                            milliseconds quiet = milliseconds(200)) {
  std::vector<uint64_t> got;
  auto last = Steady::now();
  while (Steady::now() - last < quiet) {
    auto sent = p.Pump();
    EXPECT_TRUE(sent.ok()) << sent.status().ToString();
    auto batch = c.Receive(milliseconds(5));
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    if (batch.ok() && *batch) {
      got.push_back((*batch)->id().sequence());
      last = Steady::now();
    }
  }
  return got;
}

std::vector<uint64_t> Seq(uint64_t first, uint64_t count) {
  std::vector<uint64_t> v;
  for (uint64_t s = first; s < first + count; ++s) v.push_back(s);
  return v;
}

// --- Credit flow ---

TEST(DataChannel, AConsumerGetsNoMoreBatchesThanItsCredit) {
  auto p = Producer();
  ASSERT_TRUE(p);
  EnqueueRange(*p, 0, 0, 10);
  auto c = Consumer(*p, "loader-0");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Grant(3).ok());
  EXPECT_EQ(Drain(*p, *c), Seq(0, 3));
  EXPECT_EQ(p->queued(), 7u);
  EXPECT_EQ(p->credit("loader-0"), 0u);
  // Credit adds up: two more, two more batches, in order.
  ASSERT_TRUE(c->Grant(2).ok());
  EXPECT_EQ(Drain(*p, *c), Seq(3, 2));
  EXPECT_EQ(p->queued(), 5u);
}

TEST(DataChannel, AProducerHoldsBatchesUntilCreditArrives) {
  auto p = Producer();
  ASSERT_TRUE(p);
  auto c = Consumer(*p, "loader-0");
  ASSERT_TRUE(c);
  EnqueueRange(*p, 0, 0, 3);
  EXPECT_TRUE(Drain(*p, *c).empty());  // connected, but no credit: nothing moves
  EXPECT_EQ(p->queued(), 3u);
  ASSERT_TRUE(c->Grant(5).ok());
  EXPECT_EQ(Drain(*p, *c), Seq(0, 3));
  EXPECT_EQ(p->credit("loader-0"), 2u);  // what is left goes out as soon as batches come
  EnqueueRange(*p, 0, 3, 1);
  EXPECT_EQ(Drain(*p, *c), Seq(3, 1));
  EXPECT_EQ(p->credit("loader-0"), 1u);
}

TEST(DataChannel, BatchesGoOnlyToConsumersOfTheirShard) {
  auto p = Producer();
  ASSERT_TRUE(p);
  auto shard0 = Consumer(*p, "validator-0", 0);
  auto shard1 = Consumer(*p, "validator-1", 1);
  ASSERT_TRUE(shard0 && shard1);
  ASSERT_TRUE(shard0->Grant(5).ok());
  ASSERT_TRUE(shard1->Grant(5).ok());
  EnqueueRange(*p, 1, 10, 2);
  EnqueueRange(*p, 0, 0, 1);
  EnqueueRange(*p, 7, 70, 1);  // a shard nobody consumes: kept
  EXPECT_EQ(Drain(*p, *shard1), Seq(10, 2));
  EXPECT_EQ(Drain(*p, *shard0), Seq(0, 1));
  EXPECT_EQ(p->queued(), 1u);
  EXPECT_EQ(p->queued(7), 1u);
}

// --- Routes (routing_id.h) ---

// A replacement consumer connects with a routing id of its own (a new
// process, a new nonce): its grant is its credit, and what the dead one
// took is not sent again (the coordinator re-leases it).
TEST(DataChannel, AReplacementComesWithARouteOfItsOwn) {
  auto p = Producer();
  ASSERT_TRUE(p);
  auto first = Consumer(*p, "loader-0@1");
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->Grant(1).ok());
  EnqueueRange(*p, 0, 0, 1);
  EXPECT_EQ(Drain(*p, *first), Seq(0, 1));  // taken, never acknowledged
  first.reset();                            // dies, its credit spent

  auto second = Consumer(*p, "loader-0@2");
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->Grant(3).ok());
  EXPECT_TRUE(PumpUntil(*p, [&] { return p->credit("loader-0@2") == 3; }));
  EnqueueRange(*p, 0, 1, 10);
  EXPECT_EQ(Drain(*p, *second), Seq(1, 3));
  EXPECT_EQ(p->queued(), 7u);
}

// A second connection with the routing id of a live consumer is not
// handed the route (no ROUTER_HANDOVER): it gets nothing, and the live
// consumer keeps its batches.
TEST(DataChannel, ALiveConsumersRouteIsNotTakenOver) {
  auto p = Producer();
  ASSERT_TRUE(p);
  auto live = Consumer(*p, "loader-0@1");
  ASSERT_TRUE(live);
  ASSERT_TRUE(live->Grant(2).ok());
  ASSERT_TRUE(PumpUntil(*p, [&] { return p->credit("loader-0@1") == 2; }));
  auto impostor = Consumer(*p, "loader-0@1");
  ASSERT_TRUE(impostor);
  ASSERT_TRUE(impostor->Grant(100).ok());
  EnqueueRange(*p, 0, 0, 10);
  EXPECT_TRUE(Drain(*p, *impostor).empty());
  EXPECT_EQ(Drain(*p, *live), Seq(0, 2));
}

// The producer's gate decides whom batches go to: a refused consumer's
// credit is ignored.
TEST(DataChannel, AConsumerTheGateRefusesGetsNothing) {
  auto p = Producer();
  ASSERT_TRUE(p);
  p->set_gate([](const std::string& route, const std::string& key) {
    return route.rfind("loader-", 0) == 0 && key.empty();
  });
  auto stranger = Consumer(*p, "extractor-0@1");
  auto loader = Consumer(*p, "loader-0@1");
  ASSERT_TRUE(stranger && loader);
  ASSERT_TRUE(stranger->Grant(5).ok());
  ASSERT_TRUE(loader->Grant(5).ok());
  EnqueueRange(*p, 0, 0, 3);
  EXPECT_TRUE(Drain(*p, *stranger).empty());
  EXPECT_EQ(p->credit("extractor-0@1"), 0u);
  EXPECT_EQ(Drain(*p, *loader), Seq(0, 3));
}

// Two consumers of one shard (replicas): one takes what its credit allows
// and dies without acknowledging; the other gets every batch the first did
// not take, and nothing twice.
TEST(DataChannel, ADeadConsumerHoldsAtMostWhatItAskedFor) {
  auto p = Producer();
  ASSERT_TRUE(p);
  auto a = Consumer(*p, "loader-0");
  auto b = Consumer(*p, "loader-1");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Grant(2).ok());
  ASSERT_TRUE(PumpUntil(*p, [&] { return p->credit("loader-0") == 2; }));
  EnqueueRange(*p, 0, 0, 6);
  EXPECT_EQ(Drain(*p, *a), Seq(0, 2));
  a.reset();
  ASSERT_TRUE(b->Grant(10).ok());
  EXPECT_EQ(Drain(*p, *b), Seq(2, 4));
  EXPECT_EQ(p->queued(), 0u);
}

// --- Dead peers ---

// The producer finds a consumer gone when it sends to it: the batch stays
// queued, the dead consumer's credit is dropped, and the next consumer of
// the shard gets every batch.
TEST(DataChannel, AConsumerThatDisappearsSwallowsNothing) {
  auto p = Producer();
  ASSERT_TRUE(p);
  // Watch the producer's socket for the consumer's disconnection.
  const std::string monitor_endpoint = "inproc://transport-test-monitor";
  ASSERT_EQ(
      zmq_socket_monitor(p->socket().handle(), monitor_endpoint.c_str(), ZMQ_EVENT_DISCONNECTED),
      0);
  zmq::socket_t monitor(ProcessContext(), zmq::socket_type::pair);
  monitor.set(zmq::sockopt::linger, 0);
  monitor.connect(monitor_endpoint);

  auto a = Consumer(*p, "loader-0");
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->Grant(3).ok());
  ASSERT_TRUE(PumpUntil(*p, [&] { return p->credit("loader-0") == 3; }));
  a.reset();  // gone, with 3 credits granted and nothing received
  zmq::pollitem_t item{monitor.handle(), 0, ZMQ_POLLIN, 0};
  ASSERT_EQ(zmq::poll(&item, 1, milliseconds(2000)), 1) << "no disconnection seen";
  // The pipe's end reaches the producer's socket just after the event:
  // let it process its commands before there is anything to send.
  PumpUntil(
      *p, [] { return false; }, milliseconds(50));

  EnqueueRange(*p, 0, 0, 5);
  auto sent = p->Pump();
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(*sent, 0u);
  EXPECT_EQ(p->queued(), 5u);
  EXPECT_EQ(p->credit("loader-0"), 0u);  // noticed: the dead consumer's credit is gone

  auto b = Consumer(*p, "loader-1");
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->Grant(10).ok());
  EXPECT_EQ(Drain(*p, *b), Seq(0, 5));
  zmq_socket_monitor(p->socket().handle(), nullptr, 0);
}

// A producer restarted at the same endpoint knows no consumer: it sends
// nothing until the consumer tells it its credit again (Resync).
TEST(DataChannel, ARestartedProducerSendsOnceTheConsumerResyncs) {
  auto first = Producer();
  ASSERT_TRUE(first);
  const std::string endpoint = first->endpoint();  // a concrete port now
  auto c = Consumer(*first, "transformer-0");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Grant(4).ok());
  ASSERT_TRUE(PumpUntil(*first, [&] { return first->credit("transformer-0") == 4; }));
  first.reset();

  // The old listener is closed by ZeroMQ's reaper: bind again until free.
  std::unique_ptr<DataProducer> second;
  for (auto until = Steady::now() + milliseconds(1500); !second && Steady::now() < until;) {
    auto p = DataProducer::Create(endpoint);
    if (p.ok()) {
      second = std::move(p).value();
    } else {
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  ASSERT_TRUE(second) << "cannot bind " << endpoint << " again";
  EnqueueRange(*second, 0, 0, 3);
  EXPECT_TRUE(Drain(*second, *c, milliseconds(300)).empty());
  EXPECT_EQ(second->queued(), 3u);

  ASSERT_TRUE(c->Resync(2).ok());
  EXPECT_EQ(Drain(*second, *c), Seq(0, 2));
  EXPECT_EQ(second->queued(), 1u);
}

// --- Control channel ---

TEST(ControlChannel, MessagesGoBothWaysByIdentity) {
  auto server = ControlServer::Create(kAnyPort);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto client = ControlClient::Create((*server)->endpoint(), "loader-0", "");
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  v1::Envelope hb;
  hb.mutable_heartbeat()->set_sequence(7);
  ASSERT_TRUE((*client)->Send(hb).ok());
  auto got = (*server)->Receive(milliseconds(2000));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->sender, "loader-0");
  EXPECT_EQ((*got)->sender_key, "");  // plaintext
  EXPECT_EQ((*got)->envelope.heartbeat().sequence(), 7u);

  v1::Envelope halt;
  halt.mutable_halt()->set_reason("one record off");
  ASSERT_TRUE((*server)->Send("loader-0", halt).ok());
  auto back = (*client)->Receive(milliseconds(2000));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(*back);
  EXPECT_EQ((*back)->halt().reason(), "one record off");
  // Nothing more: a receive times out empty.
  auto none = (*client)->Receive(milliseconds(20));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
}

TEST(ControlChannel, SendingToAnUnknownWorkerIsAnError) {
  auto server = ControlServer::Create(kAnyPort);
  ASSERT_TRUE(server.ok());
  v1::Envelope m;
  m.mutable_shutdown();
  Status st = (*server)->Send("nobody-0", m);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
}

// --- Request and reply (the dedup member exchange's channel) ---

TEST(RequestChannel, EveryRequestIsAnswered) {
  auto server = RequestServer::Start(kAnyPort, [](const std::string& r) { return "re: " + r; });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto client = RequestClient::Create((*server)->endpoint(), "");
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->Send("a").ok());
  ASSERT_TRUE((*client)->Send("b").ok());
  for (const char* want : {"re: a", "re: b"}) {
    auto reply = (*client)->Receive(milliseconds(2000));
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_TRUE(*reply);
    EXPECT_EQ(**reply, want);
  }
  server->reset();  // stops answering
  ASSERT_TRUE((*client)->Send("c").ok());
  auto none = (*client)->Receive(milliseconds(100));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
}

}  // namespace
}  // namespace sluice
