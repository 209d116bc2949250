// `sluice status`, `halt` and `runs` against an audit store and a stand-in
// coordinator (a control ROUTER on a thread that answers as the real one
// does): the running run is found and asked, a run whose coordinator is
// gone shows `interrupted`, a halt is asked for and waited on.
#include "cli/supervision.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/command.h"
#include "cli/commands.h"
#include "cli/commands_testing.h"
#include "common/runtime/transport.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class SupervisionTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-supervision-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    auto store = AuditStore::Open((dir_ / "audit.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    stop_ = true;
    if (coordinator_.joinable()) coordinator_.join();
    store_.reset();
    fs::remove_all(dir_);
  }

  void AddRun(const std::string& id, const std::string& status, int64_t started_ms) {
    RunRecord r;
    r.run_id = id;
    r.plan_name = "quickstart";
    r.status = status;
    r.started_ms = started_ms;
    ASSERT_TRUE(store_->BeginRun(r).ok());
  }

  // A coordinator record for `id`: this process (alive) or a pid that is gone.
  void AddCoordinator(const std::string& id, bool alive, const std::string& endpoint) {
    CoordinatorRecord c;
    c.run_id = id;
    c.host = ThisMachine().host;
    c.pid = alive ? static_cast<uint32_t>(getpid()) : 0x7ffffff0u;
    c.pid_start = alive ? ProcessStartToken(c.pid) : "1";
    c.control_endpoint = endpoint;
    c.started_ms = NowMs();
    c.heartbeat_ms = NowMs();
    v1::RunProgress p;
    p.set_run_id(id);
    p.set_status("running");
    p.set_waiting("loading hcp (1 of 3 batch(es) loaded)");
    ASSERT_TRUE(store_->RecordCoordinator(c).ok());
    ASSERT_TRUE(store_->BeatCoordinator(id, 1, c.heartbeat_ms, p.SerializeAsString()).ok());
  }

  // A stand-in coordinator for `id`: answers status requests with `loaded`
  // records loaded, and a halt request by ending the run halted.
  std::string StartCoordinator(const std::string& id) {
    auto server = ControlServer::Create("tcp://127.0.0.1:*");
    EXPECT_TRUE(server.ok());
    std::string endpoint = (*server)->endpoint();
    coordinator_ =
        std::thread([this, id, s = std::shared_ptr<ControlServer>(std::move(server).value())]() {
          auto store = AuditStore::Open((dir_ / "audit.db").string());
          uint64_t loaded = 0;
          while (!stop_) {
            auto msg = s->Receive(std::chrono::milliseconds(20));
            if (!msg.ok() || !*msg) continue;
            const std::string& from = (*msg)->sender;
            const v1::Envelope& env = (*msg)->envelope;
            v1::Envelope answer;
            if (env.has_status_request()) {
              v1::RunProgress* p = answer.mutable_status();
              p->set_run_id(id);
              p->set_status("running");
              v1::EntityProgress* e = p->add_entities();
              e->set_entity("hcp");
              e->set_phase("output");
              e->set_loaded(loaded += 1000);
            } else if (env.has_halt_request()) {
              answer.mutable_halt_reply()->set_accepted(true);
              answer.mutable_halt_reply()->set_message("every worker told to stop");
              halt_reason_ =
                  env.halt_request().reason() + " by " + env.halt_request().requested_by();
              (void)(*store)->EndRun(id, "halted", halt_reason_, "{}", NowMs());
            } else {
              continue;
            }
            (void)s->Send(from, answer);
          }
        });
    return endpoint;
  }

  fs::path dir_;
  std::unique_ptr<AuditStore> store_;
  std::thread coordinator_;
  std::atomic<bool> stop_{false};
  std::string halt_reason_;
};

TEST_F(SupervisionTest, EndpointsAreReachedFromHereOrElsewhere) {
  CoordinatorRecord c;
  c.host = "db1";
  c.control_endpoint = "tcp://0.0.0.0:5570";
  EXPECT_EQ(ReachableEndpoint(c, "db1"), "tcp://127.0.0.1:5570");
  EXPECT_EQ(ReachableEndpoint(c, "laptop"), "tcp://db1:5570");
  c.control_endpoint = "tcp://10.0.0.5:5570";
  EXPECT_EQ(ReachableEndpoint(c, "laptop"), "tcp://10.0.0.5:5570");
}

TEST_F(SupervisionTest, ARunWhoseCoordinatorIsGoneIsInterrupted) {
  AddRun("run-old", "completed", 1);
  AddRun("run-dead", "running", 2);
  AddCoordinator("run-dead", /*alive=*/false, "tcp://127.0.0.1:1");
  auto found = FindRun(*store_, "", ThisMachine());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->run.run_id, "run-dead") << "the last run, none running";
  EXPECT_EQ(found->status, "interrupted");

  Outcome runs = Sluice({"runs", "--state-dir", dir_.string()});
  EXPECT_EQ(runs.exit_code, kExitOk) << runs.err;
  EXPECT_NE(runs.out.find("interrupted"), std::string::npos) << runs.out;
  EXPECT_EQ(runs.out.find(" running "), std::string::npos) << runs.out;

  Outcome status = Sluice({"status", "--state-dir", dir_.string()});
  EXPECT_EQ(status.exit_code, kExitOk) << status.err;
  EXPECT_NE(status.out.find("run run-dead: interrupted"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("sluice resume run-dead"), std::string::npos) << status.out;

  Outcome halt = Sluice({"halt", "run-dead", "--state-dir", dir_.string()});
  EXPECT_EQ(halt.exit_code, kExitError);
  EXPECT_NE(halt.err.find("interrupted"), std::string::npos) << halt.err;
}

TEST_F(SupervisionTest, StatusAsksTheRunningCoordinator) {
  AddRun("run-old", "completed", 1);
  AddRun("run-live", "running", 2);
  AddRun("run-dead", "running", 3);
  AddCoordinator("run-dead", /*alive=*/false, "tcp://127.0.0.1:1");
  AddCoordinator("run-live", /*alive=*/true, StartCoordinator("run-live"));
  Outcome first = Sluice({"status", "--state-dir", dir_.string(), "--json"});
  ASSERT_EQ(first.exit_code, kExitOk) << first.err;
  auto j = nlohmann::json::parse(first.out);
  EXPECT_EQ(j["run_id"], "run-live") << "the running run, not the last one";
  EXPECT_EQ(j["entities"][0]["loaded"].get<uint64_t>(), 1000u);
  Outcome again = Sluice({"status", "run-live", "--state-dir", dir_.string(), "--json"});
  EXPECT_EQ(nlohmann::json::parse(again.out)["entities"][0]["loaded"].get<uint64_t>(), 2000u);
}

TEST_F(SupervisionTest, HaltAsksAndWaitsForTheHalt) {
  AddRun("run-live", "running", 2);
  AddCoordinator("run-live", /*alive=*/true, StartCoordinator("run-live"));
  Outcome halt =
      Sluice({"halt", "run-live", "--reason", "window closing", "--state-dir", dir_.string()});
  ASSERT_EQ(halt.exit_code, kExitOk) << halt.err;
  EXPECT_NE(halt.out.find("every worker told to stop"), std::string::npos) << halt.out;
  EXPECT_NE(halt.out.find("run run-live halted; continue it with `sluice resume run-live`"),
            std::string::npos)
      << halt.out;
  EXPECT_NE(halt_reason_.find("window closing by "), std::string::npos) << halt_reason_;
  Outcome twice = Sluice({"halt", "run-live", "--state-dir", dir_.string()});
  EXPECT_EQ(twice.exit_code, kExitError);
  EXPECT_NE(twice.err.find("is halted: nothing to halt"), std::string::npos) << twice.err;
}

TEST_F(SupervisionTest, NoAnswerIsAnError) {
  Outcome status = Sluice({"status", "--coordinator", "tcp://127.0.0.1:1"});
  EXPECT_EQ(status.exit_code, kExitError);
  EXPECT_NE(status.err.find("no answer from the coordinator"), std::string::npos) << status.err;
}

}  // namespace
}  // namespace sluice::cli
