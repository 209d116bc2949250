#include "common/runtime/worker.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <thread>
#include <zmq.hpp>

#include "common/core/redact.h"
#include "common/runtime/announced_consumers.h"
#include "common/runtime/codec.h"
#include "common/runtime/commit_keys.h"
#include "common/runtime/crash_trail.h"
#include "common/runtime/endpoint.h"
#include "common/runtime/routing_id.h"
#include "common/runtime/seal.h"
#include "common/runtime/transport.h"

namespace sluice {
namespace {

// How a Status says that the worker lost its coordinator (LostCoordinator).
constexpr char kLostCoordinator[] = "lost the coordinator";

// The process's CPU time in ms: its steps may run on threads of their own.
uint64_t CpuMillis() {
  timespec ts{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

}  // namespace

void StageEmitter::Emit(uint32_t shard, const RecordBatch& batch) {
  v1::DataMessage msg;
  EncodeBatch(batch, msg.mutable_batch());
  // Serialized straight into the queued string: the runtime moves it on.
  auto& queued = batches_.emplace_back(shard, std::string()).second;
  msg.SerializeToString(&queued);
}

void StageEmitter::Commit(v1::Commit commit) {
  v1::Envelope env;
  *env.mutable_commit() = std::move(commit);
  messages_.push_back(std::move(env));
}

void StageEmitter::Send(v1::Envelope message) { messages_.push_back(std::move(message)); }

Status StageLogic::OnBatch(RecordBatch batch, StageEmitter& out) {
  return Status::FailedPrecondition(stage() + " takes no input batches");
}

Status StageLogic::OnLease(const v1::Lease& lease, StageEmitter& out) {
  return Status::FailedPrecondition(stage() + " takes no leases");
}

namespace {

class WorkerRuntime {
 public:
  WorkerRuntime(const WorkerOptions& options, StageLogic& logic, const WorkerEnv& env)
      : options_(options),
        logic_(logic),
        env_(env),
        clock_(*env.clock),
        route_(RoutingId(options.identity(), NewRouteNonce())),
        data_route_(RoutingId(options.identity(), NewRouteNonce())),
        consumers_gate_(options.role) {
    log_.stage = logic.stage();
    if (!env_.open_control) {
      // Our sockets' routing ids carry this process's nonce (routing_id.h).
      env_.open_control =
          [endpoint = options_.coordinator, key = options_.coordinator_key,
           nonce = route_.substr(route_.rfind('@') + 1)](
              const std::string& socket_name) -> Result<std::unique_ptr<ControlChannel>> {
        SLUICE_ASSIGN_OR_RETURN(
            auto client, ControlClient::Create(endpoint, RoutingId(socket_name, nonce), key));
        return std::unique_ptr<ControlChannel>(std::move(client));
      };
    }
  }

  Status Run() {
    Status st = Setup();
    if (!st.ok()) {
      // The coordinator halts with this cause, not only with our exit code
      // (ReportError logs it).
      if (control_ && st.code() != StatusCode::kCancelled) {
        ReportError(st.WithContext("worker setup failed"), nullptr, true);
      }
      return st;
    }
    st = Loop();
    if (!st.ok()) {
      if (control_) ReportError(st.WithContext("worker stopped"), nullptr, true);
      return st;
    }
    LogInfo(log_, "worker shut down");
    return Status::Ok();
  }

 private:
  // Where consumers on other machines reach this worker's data socket.
  std::string advertised_endpoint() const {
    return AdvertisedEndpoint(producer_->endpoint(), options_.advertise, LocalHostName());
  }

  Status Setup() {
    SLUICE_ASSIGN_OR_RETURN(control_, env_.open_control(options_.identity()));
    if (logic_.produces()) {
      SLUICE_ASSIGN_OR_RETURN(producer_, DataProducer::Create(options_.bind));
      producer_->set_gate([this](const std::string& routing_id, const std::string& key) {
        return consumers_gate_.Admits(routing_id, key);
      });
    }
    v1::Envelope reg;
    auto* r = reg.mutable_register_();
    r->set_role(options_.role);
    r->set_ordinal(options_.ordinal);
    r->set_pid(static_cast<uint32_t>(getpid()));
    if (producer_) r->set_data_endpoint(advertised_endpoint());
    r->set_host(LocalHostName());
    SLUICE_RETURN_IF_ERROR(logic_.Prepare(options_, r));
    // Register, retrying until the coordinator answers (it may start later;
    // after losing one, the next may take minutes to come).
    auto deadline = clock_.Now() +
                    (options_.rejoining ? options_.rejoin_timeout : options_.coordinator_timeout);
    std::optional<v1::Envelope> reply;
    while (!reply) {
      SLUICE_RETURN_IF_ERROR(control_->Send(reg));
      auto until = clock_.Now() + std::chrono::seconds(2);
      while (clock_.Now() < until) {
        SLUICE_ASSIGN_OR_RETURN(auto msg, control_->Receive(std::chrono::milliseconds(200)));
        if (msg && msg->has_register_reply()) {
          reply = std::move(msg);
          break;
        }
        if (msg && msg->has_shutdown()) return Status::Cancelled("shut down before registration");
      }
      if (!reply && clock_.Now() > deadline) {
        return Status::Unavailable("no answer from coordinator at " + options_.coordinator);
      }
    }
    const auto& rr = reply->register_reply();
    ctx_.run_id = rr.run_id();
    ctx_.shard = rr.shard();
    ctx_.shard_count = rr.shard_count();
    ctx_.state_dir = rr.state_dir();
    auto faults = ParseTestFaults(rr.fault());
    if (!faults.ok()) return faults.status();  // Run() reports it
    ctx_.faults = *faults;
    ctx_.review_decisions = rr.review_decisions();
    ctx_.dedup_shards = std::max<uint32_t>(1, rr.dedup_shards());
    ctx_.dedup_shard_map.assign(rr.dedup_shard_map().begin(), rr.dedup_shard_map().end());
    ctx_.identity = options_.identity();
    commit_credits_ = rr.commit_credits();
    std::vector<PlanIssue> issues;
    ctx_.plan = ParsePlan(rr.plan_yaml(), rr.base_dir(), &issues);
    if (!issues.empty()) return Status::InvalidArgument("plan: " + issues.front().ToString());
    ctx_.plan.state_dir = rr.state_dir();
    log_.run = ctx_.run_id;
    // Our sockets admit the run's workers from now on (a consumer that
    // knocked before was told to come back).
    AcceptPeers(rr.peer_keys());
    SLUICE_RETURN_IF_ERROR(logic_.Start(ctx_));
    if (logic_.consumes()) {
      if (rr.upstream_endpoints().empty()) return Status::FailedPrecondition("no upstream given");
      // One consumer per upstream producer (a validator pulls from every
      // dedup shard): a DEALER connected to several producers would spread
      // its credit round-robin over them, and a producer that got none
      // would wait for the next resync.
      for (int i = 0; i < rr.upstream_endpoints_size(); ++i) {
        const std::string key = i < rr.upstream_keys_size() ? rr.upstream_keys(i) : "";
        SLUICE_ASSIGN_OR_RETURN(auto consumer, DataConsumer::Create(rr.upstream_endpoints(i),
                                                                    data_route_, ctx_.shard, key));
        SLUICE_RETURN_IF_ERROR(consumer->Grant(options_.credits));
        consumers_.push_back(std::move(consumer));
        last_input_.push_back(clock_.Now());
      }
      in_hand_ = 0;
    }
    // Heartbeats come from their own thread and socket, so that a long
    // resolution or reconciliation never makes a live worker look dead;
    // they carry the process's CPU time, so that the coordinator tells a
    // worker at work from a stuck one.
    heartbeat_ = std::jthread([this](std::stop_token stop) { SendHeartbeats(stop); });
    LogInfo(log_,
            "registered as " + options_.identity() + " (route " + route_ + ", data route " +
                data_route_ + ")" +
                (producer_ ? " serving " + producer_->endpoint() + " as " + advertised_endpoint()
                           : std::string()));
    return Status::Ok();
  }

  // The public keys of the run's workers, as the coordinator sent them:
  // the only ones our data and member sockets admit (seal.h).
  void AcceptPeers(const v1::PeerKeys& peers) {
    if (peers.keys().empty()) return;  // a plaintext run
    consumers_gate_.Announce(peers);
    std::map<std::string, std::string> accepted;
    for (const auto& p : peers.keys()) accepted[p.public_key()] = p.identity();
    AcceptKeys(accepted);
  }

  // The heartbeat thread: one heartbeat now and one every
  // `options_.heartbeat`, on a channel of its own, until stopped.
  void SendHeartbeats(std::stop_token stop) {
    auto channel = env_.open_control(options_.identity() + "/hb");
    if (!channel.ok()) return;
    uint64_t seq = 0;
    while (!stop.stop_requested()) {
      v1::Envelope hb;
      hb.mutable_heartbeat()->set_sequence(++seq);
      hb.mutable_heartbeat()->set_busy_ms(CpuMillis());
      if (!(*channel)->Send(hb).ok()) return;
      clock_.SleepFor(options_.heartbeat, stop);
    }
  }

  Status Flush(StageEmitter& out) {
    // Commits first: the ledger hears of a batch before its consumer does.
    for (auto& m : out.messages()) {
      SLUICE_RETURN_IF_ERROR(control_->Send(m));
      if (TakesCommitCredit(m)) ++commits_unacked_;
    }
    out.messages().clear();
    if (!out.batches().empty() && !producer_)
      return Status::Internal(logic_.stage() + " emitted batches but has no downstream");
    for (auto& [shard, msg] : out.batches()) producer_->Enqueue(shard, std::move(msg));
    out.batches().clear();
    if (producer_) SLUICE_RETURN_IF_ERROR(producer_->Pump().status());
    return Status::Ok();
  }

  void ReportError(const Status& st, const v1::BatchId* batch, bool fatal) {
    LogError(log_, st.ToString());
    v1::Envelope env;
    auto* e = env.mutable_error();
    e->set_stage(logic_.stage());
    if (batch) *e->mutable_batch() = *batch;
    // Redacted here: the coordinator may not know this machine's secrets.
    e->set_message(Redact(st.message()));
    e->set_fatal(fatal);
    (void)control_->Send(env);
  }

  // Test-only fault (`--test-fault ROLE:sigkill_after=N`): kill -9 of this
  // worker as it starts its N+1th batch (taken in or produced).
  void MaybeCrash() {
    if (ctx_.faults.sigkill_after && ++batches_seen_ > *ctx_.faults.sigkill_after) {
      kill(getpid(), SIGKILL);
    }
  }

  // Whether no more input may be taken nor output produced for now: our
  // output queue is full, or as many commits as the coordinator allows wait
  // for its acknowledgement (RegisterReply.commit_credits, issue 20 item 3),
  // so that a coordinator that falls behind slows the stages down instead
  // of queueing their commits without bound.
  bool OutputFull() const {
    if (commit_credits_ > 0 && commits_unacked_ >= commit_credits_) return true;
    return producer_ && producer_->queued() >= options_.max_queued;
  }

  // Waits up to `timeout` for a control message or, unless our output is
  // full, an input batch: a poll of the sockets, or a sleep on the clock
  // when none is a socket (an in-memory control channel, no data).
  void Wait(std::chrono::milliseconds timeout) {
    std::vector<zmq::pollitem_t> items;
    if (zmq::socket_t* control = control_->socket()) {
      items.push_back({control->handle(), 0, ZMQ_POLLIN, 0});
    }
    // While our output is full, input waits unread: leave it out of the
    // poll, or poll would return at once and spin.
    bool output_full = OutputFull();
    if (!output_full) {
      for (auto& c : consumers_) items.push_back({c->socket().handle(), 0, ZMQ_POLLIN, 0});
    }
    if (producer_) items.push_back({producer_->socket().handle(), 0, ZMQ_POLLIN, 0});
    if (!items.empty()) {
      zmq::poll(items.data(), items.size(), timeout);
    } else if (timeout.count() > 0) {
      clock_.SleepFor(timeout);
    }
  }

  Status Loop() {
    auto last_from_coordinator = clock_.Now();
    bool more_to_produce = false;
    for (;;) {
      bool busy = more_to_produce && !halted_ && producer_ && !OutputFull();
      Wait(std::chrono::milliseconds(busy ? 0 : 50));

      // Control messages first: a halt must win over pending input.
      for (;;) {
        SLUICE_ASSIGN_OR_RETURN(auto msg, control_->Receive(std::chrono::milliseconds(0)));
        if (!msg) break;
        last_from_coordinator = clock_.Now();
        if (msg->has_shutdown()) return Status::Ok();
        if (msg->has_rejoin()) {
          // A coordinator that continues the run does not know this
          // process: start afresh and register with it (RunWorker).
          return Status::Cancelled(kLostCoordinator + std::string(": a new coordinator of run ") +
                                   msg->rejoin().run_id() + " asks it to register");
        }
        if (msg->has_halt()) {
          if (!halted_) LogWarn(log_, "halted by coordinator: " + msg->halt().reason());
          halted_ = true;
          logic_.OnHalt(msg->halt().reason());
          more_to_produce = false;
        } else if (msg->has_lease() && !halted_) {
          StageEmitter out;
          Status st = logic_.OnLease(msg->lease(), out);
          if (!st.ok()) ReportError(st, &msg->lease().batch(), true);
          SLUICE_RETURN_IF_ERROR(Flush(out));
          more_to_produce = producer_ != nullptr;  // a lease may start production
        } else if (msg->has_peer_keys()) {
          AcceptPeers(msg->peer_keys());
        } else if (msg->has_commit_ack()) {
          commits_unacked_ -= std::min(commits_unacked_, msg->commit_ack().commits());
        } else if ((msg->has_validation_release() || msg->has_parent_fates() ||
                    msg->has_reconcile_input()) &&
                   !halted_) {
          StageEmitter out;
          Status st = logic_.OnControl(*msg, out);
          if (!st.ok()) ReportError(st, nullptr, true);
          SLUICE_RETURN_IF_ERROR(Flush(out));
          more_to_produce = producer_ != nullptr;
        }
      }

      // Judged just after reading the control socket dry: a long step
      // (a resolve of minutes) leaves the coordinator's messages queued,
      // and they count once read, not as silence.
      if (clock_.Now() - last_from_coordinator > options_.coordinator_timeout) {
        return Status::Unavailable(kLostCoordinator + std::string(": coordinator silent for ") +
                                   std::to_string(options_.coordinator_timeout.count()) + "s");
      }

      if (producer_) SLUICE_RETURN_IF_ERROR(producer_->Pump().status());

      // Input, as long as our output queue has room.
      for (size_t k = 0; k < consumers_.size(); ++k) {
        // One batch per turn, taken from the producers in rotation, so
        // control messages (a halt) are read between batches and no
        // upstream starves another.
        DataConsumer& consumer = *consumers_[(next_consumer_ + k) % consumers_.size()];
        if (OutputFull()) break;
        SLUICE_ASSIGN_OR_RETURN(auto pb, consumer.Receive(std::chrono::milliseconds(0)));
        if (!pb) continue;
        const size_t from = (next_consumer_ + k) % consumers_.size();
        next_consumer_ = (from + 1) % consumers_.size();
        last_input_[from] = clock_.Now();
        ++in_hand_;
        if (!halted_) {
          auto batch = DecodeBatch(*pb);
          StageEmitter out;
          if (!batch.ok()) {
            ReportError(batch.status(), &pb->id(), false);
          } else {
            log_.entity = batch->id.entity();
            log_.wave = static_cast<int>(batch->id.wave());
            log_.batch = BatchName(batch->id);
            MaybeCrash();
            // Which batch we are on, should a record of it crash us
            // (crash_trail.h).
            SLUICE_RETURN_IF_ERROR(control_->Send(BatchStartedOf(*batch)));
            CrashOnPoisonousKey(ctx_.faults, *batch);
            Status st = logic_.OnWireBatch(*pb, std::move(batch).value(), out);
            if (!st.ok()) ReportError(st, &pb->id(), true);
          }
          SLUICE_RETURN_IF_ERROR(Flush(out));
        }
        --in_hand_;
        SLUICE_RETURN_IF_ERROR(consumer.Grant(1));
        break;
      }
      if (!halted_) {
        StageEmitter out;
        Status st = logic_.OnTick(out);
        if (!st.ok()) ReportError(st, nullptr, true);
        SLUICE_RETURN_IF_ERROR(Flush(out));
      }
      // A restarted producer has forgotten our credit: resynchronise with a
      // producer that has sent nothing for a while.
      for (size_t k = 0; k < consumers_.size(); ++k) {
        if (clock_.Now() - last_input_[k] > std::chrono::seconds(1)) {
          SLUICE_RETURN_IF_ERROR(consumers_[k]->Resync(options_.credits));
          last_input_[k] = clock_.Now();
        }
      }

      if (more_to_produce && !halted_ && producer_ && !OutputFull()) {
        StageEmitter out;
        MaybeCrash();
        auto more = logic_.Produce(out);
        if (!more.ok()) {
          ReportError(more.status(), nullptr, true);
          more_to_produce = false;
        } else {
          more_to_produce = *more;
        }
        SLUICE_RETURN_IF_ERROR(Flush(out));
      }
    }
  }

  WorkerOptions options_;
  StageLogic& logic_;
  WorkerEnv env_;
  Clock& clock_;
  WorkerContext ctx_;
  LogContext log_;
  std::unique_ptr<ControlChannel> control_;
  std::jthread heartbeat_;
  // This process's routing ids: its name and a nonce of its own
  // (routing_id.h), one for the control and heartbeat sockets, which the
  // coordinator learns at registration, another for its data consumers,
  // which only their producers learn, as they connect.
  std::string route_;
  std::string data_route_;
  std::unique_ptr<DataProducer> producer_;
  AnnouncedConsumers consumers_gate_;                     // whom producer_ serves
  std::vector<std::unique_ptr<DataConsumer>> consumers_;  // one per upstream producer
  std::vector<Clock::TimePoint> last_input_;              // per consumer
  size_t next_consumer_ = 0;
  uint32_t in_hand_ = 0;
  uint64_t batches_seen_ = 0;
  uint32_t commit_credits_ = 0;   // 0: the coordinator does not acknowledge
  uint32_t commits_unacked_ = 0;  // commits sent that no CommitAck answered yet
  bool halted_ = false;
};

}  // namespace

Status ServeWorker(const WorkerOptions& options, StageLogic& logic, const WorkerEnv& env) {
  WorkerRuntime runtime(options, logic, env);
  return runtime.Run();
}

bool LostCoordinator(const Status& status) {
  return !status.ok() && status.message().rfind(kLostCoordinator, 0) == 0;
}

int RunWorker(const WorkerOptions& options, StageLogic& logic) {
  LogContext log;
  log.stage = logic.stage();
  SealOptions seal;
  seal.keys = options.keys;
  seal.accepted_complete = false;  // the coordinator announces the peers
  seal.insecure = options.insecure;
  if (Status st = SealProcess(seal); !st.ok()) {
    LogError(log, "cannot seal the worker's sockets: " + st.ToString());
    return 1;
  }
  if (options.keys) {
    LogInfo(log, "sealed: CurveZMQ with public key " + options.keys->public_key);
  } else if (options.insecure) {
    LogWarn(log,
            "--insecure: this worker's sockets are plaintext; anyone who reaches them "
            "can read the records and pose as a worker");
  }
  LetQueuedMessagesOutOnCrash();
  Status st = ServeWorker(options, logic, WorkerEnv{});
  if (st.ok()) return 0;
  if (!LostCoordinator(st) || options.rejoin_timeout.count() <= 0 || options.command_line.empty()) {
    return 1;
  }
  // Afresh, as the same command: a clean state, the same data endpoint
  // (--bind), identity and --key, registered with whichever coordinator
  // comes. (A key pair from the environment was read once and is gone: only
  // workers started with --key rejoin sealed, and local workers never rejoin.)
  std::vector<std::string> args = options.command_line;
  if (std::find(args.begin(), args.end(), "--rejoin") == args.end()) args.push_back("--rejoin");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  LogWarn(log, "lost the coordinator (" + st.message() + "); registering again within " +
                   std::to_string(options.rejoin_timeout.count()) + "s");
  execv("/proc/self/exe", argv.data());
  LogError(log, std::string("cannot start afresh: ") + std::strerror(errno));
  return 1;
}

namespace {

// The CURVE options of a worker: --key FILE, else the key pair `sluice run
// --local` put in the environment (never in a file another user could read).
Status ReadWorkerKeys(const std::string& key_file, const std::string& coordinator_key,
                      WorkerOptions* o) {
  if (!key_file.empty()) {
    SLUICE_ASSIGN_OR_RETURN(o->keys, ReadCurveSecretFile(key_file));
  } else if (const char* secret = std::getenv("SLUICE_CURVE_SECRET_KEY")) {
    char derived[41];
    if (!IsCurveKey(secret) || zmq_curve_public(derived, secret) != 0) {
      return Status::InvalidArgument("SLUICE_CURVE_SECRET_KEY is not a Z85 secret key");
    }
    o->keys = CurveKeyPair{derived, secret};
    // A worker `sluice run --local` started cannot start afresh sealed (the
    // pair is gone from its environment): when its coordinator falls silent
    // it exits, and the coordinator, if alive, starts it again.
    o->rejoin_timeout = std::chrono::seconds(0);
  }
  unsetenv("SLUICE_CURVE_SECRET_KEY");  // read once; nothing this process starts inherits it
  std::string coordinator = coordinator_key;
  if (coordinator.empty()) {
    if (const char* env = std::getenv("SLUICE_COORDINATOR_KEY")) coordinator = env;
  }
  if (!coordinator.empty()) {
    SLUICE_ASSIGN_OR_RETURN(o->coordinator_key, ReadCurvePublicKey(coordinator));
  }
  if (o->keys && o->coordinator_key.empty()) {
    return Status::InvalidArgument("--key needs --coordinator-key (the coordinator's public key)");
  }
  if (!o->keys && !o->coordinator_key.empty()) {
    return Status::InvalidArgument("--coordinator-key needs --key (this worker's key pair)");
  }
  return Status::Ok();
}

}  // namespace

WorkerOptions ParseWorkerFlags(const std::string& role, int argc, char** argv) {
  WorkerOptions o;
  o.role = role;
  std::string log_level = "info", key_file, coordinator_key;
  CLI::App app{"sluice-" + role + ": a sluice pipeline worker"};
  app.add_option("--coordinator", o.coordinator, "coordinator control endpoint")->required();
  app.add_option("--ordinal", o.ordinal, "replica or shard number");
  app.add_option("--bind", o.bind, "data endpoint this worker serves (stable across restarts)");
  app.add_option("--advertise", o.advertise,
                 "data endpoint consumers connect to (default: --bind, a wildcard host "
                 "replaced by this machine's host name)");
  app.add_option("--member-bind", o.member_bind,
                 "deduper: where it serves cluster members to the other dedup shards "
                 "(default: a free port on the --bind interface)");
  app.add_option("--credits", o.credits, "input batches requested at a time");
  app.add_option("--log-level", log_level, "debug, info, warn, error");
  app.add_option("--key", key_file,
                 "this worker's CURVE key pair, NAME.key_secret (`sluice keys generate`)");
  app.add_option("--coordinator-key", coordinator_key,
                 "the coordinator's CURVE public key: NAME.key, or the key itself");
  app.add_flag("--insecure", o.insecure,
               "allow plaintext sockets on a non-loopback --bind (warned at every start)");
  int rejoin_timeout = static_cast<int>(o.rejoin_timeout.count());
  app.add_option("--rejoin-timeout", rejoin_timeout,
                 "seconds to wait for a new coordinator after losing one (0: exit instead)");
  app.add_flag("--rejoin", o.rejoining, "started afresh after losing the coordinator");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
  o.rejoin_timeout = std::chrono::seconds(rejoin_timeout);
  o.command_line.assign(argv, argv + argc);
  InitLogging(o.identity(), ParseLogLevel(log_level));
  if (Status st = ReadWorkerKeys(key_file, coordinator_key, &o); !st.ok()) {
    std::cerr << "sluice-" << role << ": " << st.message() << "\n";
    std::exit(2);
  }
  return o;
}

}  // namespace sluice
