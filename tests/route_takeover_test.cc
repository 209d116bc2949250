// Issue 22, route takeover: a process of the run (here one holding the
// extractor's key, which the coordinator and every worker admit) connects
// with the ZeroMQ routing id of the live loader, to the coordinator and to
// the validator whose batches the loader takes, and grants itself credit
// under the loader's name and its own. Before the fix ZeroMQ's ROUTER
// hand-over gave it the loader's control route (it received the loader's
// RegisterReply, the loader never heard back) and the validator served it
// 6 batches under the extractor's name; the run halted. Now routing ids
// carry a random suffix, a
// ROUTER keeps the first connection of a routing id, the coordinator sends
// to the route the loader registered from, and a producer serves only the
// consumers the coordinator announced, with their keys: the impostor gets
// nothing, and the run completes with the target a loopback run writes.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "common/runtime/curve_keys.h"
#include "sluice/v1/batch.pb.h"
#include "sluice/v1/control.pb.h"
#include "tests/harness.h"

namespace sluice::testing {
namespace {

using std::chrono::milliseconds;

const char* const kWorkers[] = {"extractor-0", "transformer-0", "deduper-0",
                                "validator-0", "loader-0",      "reconciler-0"};

// The groups of the first match of `pattern` in `path` ("" for one that
// did not take part), waiting up to 60 s; nullopt when it never matched.
std::optional<std::vector<std::string>> AwaitInLog(const std::string& path,
                                                   const std::string& pattern) {
  const std::regex re(pattern);
  for (int i = 0; i < 600; ++i) {
    std::smatch m;
    const std::string text = ReadFile(path);
    if (std::regex_search(text, m, re)) {
      std::vector<std::string> groups;
      for (size_t g = 1; g < m.size(); ++g) groups.push_back(m[g].str());
      return groups;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  return std::nullopt;
}

// A CURVE DEALER with a routing id of its choice, counting what reaches it.
class Impostor {
 public:
  Impostor(zmq::context_t& context, const std::string& endpoint, const std::string& routing_id,
           const std::string& server_key, const CurveKeyPair& keys)
      : socket_(context, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::routing_id, routing_id);
    socket_.set(zmq::sockopt::curve_serverkey, server_key);
    socket_.set(zmq::sockopt::curve_publickey, keys.public_key);
    socket_.set(zmq::sockopt::curve_secretkey, keys.secret_key);
    socket_.connect(endpoint);
  }
  void Send(const std::string& frame) {
    (void)socket_.send(zmq::buffer(frame), zmq::send_flags::dontwait);
  }
  // Reads whatever arrived; returns how many messages so far.
  int Received() {
    zmq::message_t m;
    while (socket_.recv(m, zmq::recv_flags::dontwait)) ++received_;
    return received_;
  }

 private:
  zmq::socket_t socket_;
  int received_ = 0;
};

std::string Credit() {
  v1::DataMessage msg;
  msg.mutable_credit()->set_credits(1000);
  msg.mutable_credit()->set_shard(0);
  msg.mutable_credit()->set_reset(true);
  return msg.SerializeAsString();
}

std::string Heartbeat() {
  v1::Envelope env;
  env.mutable_heartbeat()->set_sequence(1);
  return env.SerializeAsString();
}

TEST(RouteTakeover, AnImpostorWithALiveWorkersRoutingIdGetsNothing) {
  ScratchDir dir("route_takeover");
  // Small batches: the run must outlast the impostors' first tries even
  // on a quiet machine (200 batches, a commit each).
  PrepareQuickstart(dir.path(), 15000, 5000, "batch_size: 100\n");
  ScratchDir loopback("route_takeover_loopback");
  PrepareQuickstart(loopback.path(), 15000, 5000, "batch_size: 100\n");

  // One key pair per worker, as on machines of their own.
  const std::string keys = dir / "keys";
  std::map<std::string, CurveKeyPair> pairs;
  std::string authorized;
  for (const std::string name : {"coordinator", "extractor-0", "transformer-0", "deduper-0",
                                 "validator-0", "loader-0", "reconciler-0"}) {
    auto made = GenerateCurveKeyPair();
    ASSERT_TRUE(made.ok());
    ASSERT_TRUE(WriteCurveKeyPair(keys, name, *made).ok());
    pairs[name] = *made;
    if (name != "coordinator") authorized += made->public_key + " " + name + "\n";
  }
  WriteFile(keys + "/authorized", authorized);

  const int base = 20000 + static_cast<int>(std::hash<std::string>{}(dir.path()) % 110) * 100;
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(base + 99);
  const std::string validator = "tcp://127.0.0.1:" + std::to_string(base + 3);
  const std::string err = dir / "err.txt";
  const std::string coordinator =
      "(" + BinDir() + "/sluice run " + dir.path() +
      "/plan.yaml --json --log-level info --stall-timeout 30 --bind " + endpoint + " --key " +
      keys + "/coordinator.key_secret --authorized-keys " + keys + "/authorized --state-dir " +
      dir.path() + "/state > " + dir.path() + "/out.txt 2> " + err + "; echo $? > " + dir.path() +
      "/rc.txt) &";
  ASSERT_EQ(std::system(coordinator.c_str()), 0);
  for (int slot = 0; slot < 6; ++slot) {
    const std::string name = kWorkers[slot];
    const std::string role = name.substr(0, name.find('-'));
    const std::string worker =
        BinDir() + "/sluice-" + role + " --coordinator " + endpoint +
        " --ordinal 0 --bind tcp://127.0.0.1:" + std::to_string(base + slot) + " --key " + keys +
        "/" + name + ".key_secret --coordinator-key " + keys + "/coordinator.key 2>> " +
        dir.path() + "/workers.log &";
    ASSERT_EQ(std::system(worker.c_str()), 0);
  }

  // The loader's routes, as it logs them once registered, its sockets
  // connected a moment later; before the fix it logged none, and every
  // route was the worker's name.
  const auto routes = AwaitInLog(
      dir / "workers.log", "registered as loader-0(?: \\(route ([^,]+), data route ([^)]+)\\))?");
  ASSERT_TRUE(routes) << ReadFile(dir / "workers.log");
  const std::string live = (*routes)[0].empty() ? "loader-0" : (*routes)[0];
  const std::string live_data = (*routes)[1].empty() ? "loader-0" : (*routes)[1];
  std::this_thread::sleep_for(milliseconds(500));

  zmq::context_t context;
  const CurveKeyPair& stolen = pairs["extractor-0"];  // a key every socket of the run admits
  std::vector<std::unique_ptr<Impostor>> impostors;
  impostors.push_back(
      std::make_unique<Impostor>(context, endpoint, live, pairs["coordinator"].public_key, stolen));
  for (const std::string& id :
       {live_data, std::string("loader-0@forged"), std::string("extractor-0@forged")}) {
    impostors.push_back(std::make_unique<Impostor>(context, validator, id,
                                                   pairs["validator-0"].public_key, stolen));
  }
  int rounds = 0;
  for (; rounds < 1800 && !std::filesystem::exists(dir / "rc.txt"); ++rounds) {
    if (rounds % 5 == 0) {
      impostors[0]->Send(Heartbeat());
      for (size_t i = 1; i < impostors.size(); ++i) impostors[i]->Send(Credit());
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_GT(rounds, 5) << "the run ended before the impostor connected";
  const std::string log = ReadFile(err);
  EXPECT_EQ(impostors[0]->Received(), 0)
      << "the coordinator sent the impostor the loader's messages";
  EXPECT_EQ(impostors[1]->Received(), 0) << "the validator sent the impostor the loader's batches";
  EXPECT_EQ(impostors[2]->Received(), 0) << "the validator served a forged loader route";
  EXPECT_EQ(impostors[3]->Received(), 0) << "the validator served the extractor's key";

  ASSERT_EQ(ReadFile(dir / "rc.txt"), "0\n") << log << ReadFile(dir / "workers.log");
  const std::string out = ReadFile(dir / "out.txt");
  const auto summary =
      nlohmann::json::parse(out.substr(out.rfind('\n', out.size() - 2) + 1), nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << out;
  EXPECT_EQ(summary["status"], "completed");
  EXPECT_EQ(Sum(summary, "extracted"), 20000u);
  EXPECT_EQ(log.find("missed its heartbeats"), std::string::npos) << log;  // changed nothing

  // The same target as a loopback run of the same data.
  auto reference = RunPlan(loopback.path());
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  EXPECT_EQ(TargetDigest(dir / "out/target.db"), TargetDigest(loopback / "out/target.db"));
  EXPECT_FALSE(TargetDigest(dir / "out/target.db").empty());
}

}  // namespace
}  // namespace sluice::testing
