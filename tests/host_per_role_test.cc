// Issue 22, item 4: separate hosts, one per role. The coordinator, the
// extractor, the transformer, two dedup shards, the validator, the loader and
// the reconciler each run in a network namespace of their own, joined by a
// bridge (iproute2), each with its own address and, in a mount namespace of
// its own, its own (empty, tmpfs) state directory; CURVE is on, one key per
// host. The target must be the one a loopback run writes. Then: a partition
// (one dedup shard's link down past the heartbeat write-off, then back), an
// intruder (a worker whose key is not on the list), and a snoop (a capture
// of every frame the data-producing hosts exchange holds none of the
// sample's names).
//
// Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN), as CI runs: without it the tests
// fail and say why.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "common/runtime/curve_keys.h"
#include "tests/harness.h"

namespace sluice::testing {
namespace {

using std::chrono::milliseconds;

const std::vector<std::string> kHosts = {"coordinator", "extractor-0", "transformer-0",
                                         "deduper-0",   "deduper-1",   "validator-0",
                                         "loader-0",    "reconciler-0"};

// A bridge and one network namespace per host, each joined to the bridge
// by a veth pair; host k (from 1) has 10.224.<n>.k/24. Removed on
// destruction.
class Hosts {
 public:
  explicit Hosts(std::vector<std::string> names) : names_(std::move(names)) {
    n_ = static_cast<int>(getpid() % 200) + 1;
    bridge_ = "slbr" + std::to_string(n_);
    TearDown();
    std::string script =
        "set -e; ip link add " + bridge_ + " type bridge; ip link set " + bridge_ + " up; ";
    for (size_t k = 0; k < names_.size(); ++k) {
      const std::string ns = Namespace(names_[k]), link = Link(names_[k]);
      const std::string inner = "slv" + std::to_string(n_) + "n" + std::to_string(k + 1);
      script += "ip netns add " + ns + "; ip link add " + link + " type veth peer name " + inner +
                "; ip link set " + inner + " netns " + ns + "; ip link set " + link + " master " +
                bridge_ + "; ip link set " + link + " up; ip netns exec " + ns + " ip addr add " +
                Address(names_[k]) + "/24 dev " + inner + "; ip netns exec " + ns +
                " ip link set " + inner + " up; ip netns exec " + ns + " ip link set lo up; ";
    }
    auto made = Shell(script);
    if (made.exit_code != 0)
      error_ = made.err.empty() ? "exit " + std::to_string(made.exit_code) : made.err;
  }
  ~Hosts() { TearDown(); }

  // Why the hosts could not be made ("" when they were).
  const std::string& error() const { return error_; }
  std::string Namespace(const std::string& host) const {
    return "sl" + std::to_string(n_) + "-" + std::to_string(Index(host));
  }
  std::string Address(const std::string& host) const {
    return "10.224." + std::to_string(n_) + "." + std::to_string(Index(host));
  }
  // The host's end of its veth pair, on the bridge.
  std::string Link(const std::string& host) const {
    return "slv" + std::to_string(n_) + "h" + std::to_string(Index(host));
  }
  // Takes the host's link down or up: a partition of that host alone.
  void SetLink(const std::string& host, bool up) {
    Shell("ip link set " + Link(host) + (up ? " up" : " down"));
  }

 private:
  int Index(const std::string& host) const {
    return static_cast<int>(std::find(names_.begin(), names_.end(), host) - names_.begin()) + 1;
  }
  void TearDown() {
    std::string script;
    for (const std::string& h : names_) {
      script += "ip netns del " + Namespace(h) + " 2>/dev/null; ip link del " + Link(h) +
                " 2>/dev/null; ";
    }
    Shell(script + "ip link del " + bridge_ + " 2>/dev/null; true");
  }

  std::vector<std::string> names_;
  int n_ = 0;
  std::string bridge_, error_;
};

// Every frame crossing the given links, read with a packet socket while it
// runs (the snoop: what a wiretap on the bridge would see).
class Capture {
 public:
  explicit Capture(const std::vector<std::string>& links) {
    for (const std::string& link : links) {
      int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
      if (fd < 0) continue;
      sockaddr_ll where{};
      where.sll_family = AF_PACKET;
      where.sll_protocol = htons(ETH_P_ALL);
      where.sll_ifindex = static_cast<int>(if_nametoindex(link.c_str()));
      if (bind(fd, reinterpret_cast<sockaddr*>(&where), sizeof where) != 0) {
        close(fd);
        continue;
      }
      fds_.push_back({fd, POLLIN, 0});
    }
    thread_ = std::thread([this] {
      std::vector<char> frame(65536);
      while (!stop_) {
        if (poll(fds_.data(), fds_.size(), 50) <= 0) continue;
        for (auto& p : fds_) {
          if (!(p.revents & POLLIN)) continue;
          ssize_t n = recv(p.fd, frame.data(), frame.size(), MSG_DONTWAIT);
          if (n > 0) bytes_.append(frame.data(), static_cast<size_t>(n));
        }
      }
    });
  }
  ~Capture() { Stop(); }
  // Stops capturing; returns every byte captured.
  const std::string& Stop() {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
      for (auto& p : fds_) close(p.fd);
    }
    return bytes_;
  }
  size_t links() const { return fds_.size(); }

 private:
  std::vector<pollfd> fds_;
  std::atomic<bool> stop_{false};
  std::string bytes_;
  std::thread thread_;
};

struct HostsRun {
  std::string rc, out, err, logs;
  nlohmann::json summary;
};

// `cmd` on `host`: in its network namespace and, for a worker, a mount
// namespace of its own in which the state directory is an empty tmpfs.
std::string OnHost(const Hosts& hosts, const std::string& host, const std::string& dir,
                   const std::string& cmd, const std::string& log) {
  std::string inner = host == "coordinator" ? "" : "mount -t tmpfs tmpfs " + dir + "/state && ";
  inner += "cd / && exec " + cmd;
  return "ip netns exec " + hosts.Namespace(host) + " unshare --mount sh -c '" + inner + "' 2>> " +
         log + " &";
}

// The quickstart sample consolidated in `dir` with every role on its own
// host and two dedup shards; `during` runs while the run does (it is given
// the coordinator's log path).
HostsRun RunOnHosts(const ScratchDir& dir, Hosts& hosts,
                    const std::function<void(const std::string&)>& during) {
  PrepareQuickstart(dir.path(), 2000, 1000);
  const std::string keys = dir / "keys";
  std::string authorized;
  for (const std::string& host : kHosts) {
    auto pair = GenerateCurveKeyPair();
    EXPECT_TRUE(pair.ok() && WriteCurveKeyPair(keys, host, *pair).ok());
    if (host != "coordinator") authorized += pair->public_key + " " + host + "\n";
  }
  WriteFile(keys + "/authorized", authorized);
  std::filesystem::create_directories(dir / "state");
  const std::string endpoint = "tcp://" + hosts.Address("coordinator") + ":5570";
  const std::string err = dir / "err.txt";
  EXPECT_EQ(
      std::system(OnHost(hosts, "coordinator", dir.path(),
                         "sh -c \"" + BinDir() + "/sluice run " + dir.path() +
                             "/plan.yaml --json --log-level info --dedup-shards 2 --bind " +
                             endpoint + " --key " + keys +
                             "/coordinator.key_secret --authorized-keys " + keys +
                             "/authorized --state-dir " + dir.path() + "/state > " + dir.path() +
                             "/out.txt 2> " + err + "; echo \\$? > " + dir.path() + "/rc.txt\"",
                         dir / "coordinator.log")
                      .c_str()),
      0);
  for (const std::string& host : kHosts) {
    if (host == "coordinator") continue;
    const std::string env = "env SLUICE_COORDINATOR=" + endpoint + " SLUICE_BIN_DIR=" + BinDir() +
                            " SLUICE_ADVERTISE_HOST=" + hosts.Address(host) +
                            " SLUICE_KEY=" + keys + "/" + host +
                            ".key_secret SLUICE_COORDINATOR_KEY=" + keys + "/coordinator.key ";
    EXPECT_EQ(std::system(OnHost(hosts, host, dir.path(),
                                 env + SourceDir() + "/deploy/sluice-worker " + host,
                                 dir / ("host-" + host + ".log"))
                              .c_str()),
              0);
  }
  if (during) during(err);
  for (int i = 0; i < 1200 && !std::filesystem::exists(dir / "rc.txt"); ++i) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  std::this_thread::sleep_for(milliseconds(200));
  HostsRun run{ReadFile(dir / "rc.txt"), ReadFile(dir / "out.txt"), ReadFile(err), "", {}};
  for (const std::string& host : kHosts) run.logs += ReadFile(dir / ("host-" + host + ".log"));
  if (!run.out.empty()) {
    run.summary = nlohmann::json::parse(run.out.substr(run.out.rfind('\n', run.out.size() - 2) + 1),
                                        nullptr, false);
  }
  return run;
}

// The target digest of the same sample run on loopback (`sluice run
// --local`), once for every test.
const std::string& LoopbackDigest() {
  static const std::string digest = [] {
    ScratchDir dir("hosts_loopback");
    PrepareQuickstart(dir.path(), 2000, 1000);
    auto run = RunPlan(dir.path(), "--dedup-shards 2");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return TargetDigest(dir / "out/target.db");
  }();
  return digest;
}

// The run completed, reconciled, and wrote the loopback run's target.
void ExpectTheLoopbackTarget(const ScratchDir& dir, const HostsRun& run) {
  ASSERT_EQ(run.rc, "0\n") << run.err << run.logs;
  ASSERT_FALSE(run.summary.is_discarded()) << run.out;
  EXPECT_EQ(run.summary["status"], "completed");
  EXPECT_EQ(Sum(run.summary, "extracted"), 3000u);
  for (const auto& [key, row] : Rows(run.summary)) {
    EXPECT_TRUE(row["reconciled"].get<bool>()) << row.dump();
  }
  const std::string digest = TargetDigest(dir / "out/target.db");
  EXPECT_FALSE(digest.empty());
  EXPECT_EQ(digest, LoopbackDigest()) << "not the target a loopback run writes";
}

#define SLUICE_NEED_HOSTS(hosts)                                                     \
  if (!(hosts).error().empty()) {                                                    \
    FAIL() << "cannot create the network namespaces and bridge this test runs the "  \
              "hosts in: it needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2 " \
              "(scripts/setup.sh installs it); CI runs as root. ip said: "           \
           << (hosts).error();                                                       \
  }

// The snoop: the last names and national ids of the sample's CSV source.
std::set<std::string> SampleNames(const std::string& csv) {
  std::set<std::string> names;
  std::istringstream lines(ReadFile(csv));
  std::string line;
  std::getline(lines, line);  // header: hcp_id,national_id,first_name,last_name,...
  while (std::getline(lines, line)) {
    std::vector<std::string> cells;
    std::stringstream cols(line);
    for (std::string c; std::getline(cols, c, ',');) cells.push_back(c);
    if (cells.size() > 3 && cells[3].size() >= 5) names.insert(cells[3]);
    if (cells.size() > 1 && cells[1].size() >= 10) names.insert(cells[1]);
  }
  return names;
}

TEST(HostPerRole, EveryRoleOnAHostOfItsOwnWritesTheLoopbackTargetAndNoNameCrossesTheWire) {
  Hosts hosts(kHosts);
  SLUICE_NEED_HOSTS(hosts);
  ScratchDir dir("hosts_each");
  std::unique_ptr<Capture> snoop;
  HostsRun run = RunOnHosts(dir, hosts, [&](const std::string&) {
    // Every host that sends or receives batches or members.
    std::vector<std::string> links;
    for (const std::string& h : kHosts) links.push_back(hosts.Link(h));
    snoop = std::make_unique<Capture>(links);
  });
  const std::string wire = snoop->Stop();
  ExpectTheLoopbackTarget(dir, run);
  EXPECT_EQ(snoop->links(), kHosts.size());
  EXPECT_GT(wire.size(), 200000u) << "the capture saw too little to tell";
  const std::set<std::string> names = SampleNames(dir / "data/hcp_crm.csv");
  EXPECT_GT(names.size(), 100u);
  int seen = 0;
  for (const std::string& name : names) {
    if (wire.find(name) != std::string::npos && ++seen <= 5) {
      ADD_FAILURE() << "'" << name << "' crossed the wire in clear";
    }
  }
  EXPECT_EQ(seen, 0);
}

TEST(HostPerRole, AnIntruderWithAKeyNotOnTheListIsRefusedAndTheRunCompletes) {
  std::vector<std::string> names = kHosts;
  names.push_back("intruder");
  Hosts hosts(names);
  SLUICE_NEED_HOSTS(hosts);
  ScratchDir dir("hosts_intruder");
  auto intruder_keys = GenerateCurveKeyPair();
  ASSERT_TRUE(intruder_keys.ok());
  ASSERT_TRUE(WriteCurveKeyPair(dir / "intruder", "deduper-1", *intruder_keys).ok());
  HostsRun run = RunOnHosts(dir, hosts, [&](const std::string&) {
    // A second deduper-1, on a host of its own, with a key of its own.
    const std::string cmd =
        "timeout 40 env SLUICE_COORDINATOR=tcp://" + hosts.Address("coordinator") +
        ":5570 SLUICE_BIN_DIR=" + BinDir() + " SLUICE_ADVERTISE_HOST=" + hosts.Address("intruder") +
        " SLUICE_KEY=" + dir.path() +
        "/intruder/deduper-1.key_secret SLUICE_COORDINATOR_KEY=" + dir.path() +
        "/keys/coordinator.key " + SourceDir() + "/deploy/sluice-worker deduper-1";
    EXPECT_EQ(std::system(OnHost(hosts, "intruder", dir.path(), cmd, dir / "intruder.log").c_str()),
              0);
  });
  ExpectTheLoopbackTarget(dir, run);
  EXPECT_NE(run.err.find("refused CURVE key " + intruder_keys->public_key), std::string::npos)
      << run.err;
  EXPECT_EQ(run.err.find(intruder_keys->secret_key), std::string::npos);
  EXPECT_EQ(run.summary["restarts"], 0) << "the intruder replaced a worker";
}

TEST(HostPerRole, ADedupShardCutOffPastItsWriteOffRejoinsAndTheTargetIsTheSame) {
  Hosts hosts(kHosts);
  SLUICE_NEED_HOSTS(hosts);
  ScratchDir dir("hosts_partition");
  bool written_off = false;
  HostsRun run = RunOnHosts(dir, hosts, [&](const std::string& err) {
    // As the wave starts, deduper-1's link goes down until the coordinator
    // wrote it off (5 s of silence), and a second more.
    for (int i = 0; i < 600 && ReadFile(err).find("wave hcp: entity hcp") == std::string::npos;
         ++i) {
      std::this_thread::sleep_for(milliseconds(50));
    }
    hosts.SetLink("deduper-1", false);
    for (int i = 0; i < 300 && !written_off; ++i) {
      written_off =
          ReadFile(err).find("worker deduper-1 missed its heartbeats") != std::string::npos;
      std::this_thread::sleep_for(milliseconds(100));
    }
    std::this_thread::sleep_for(milliseconds(1000));
    hosts.SetLink("deduper-1", true);
  });
  EXPECT_TRUE(written_off) << "the partition did not outlast the heartbeat write-off: " << run.err;
  ExpectTheLoopbackTarget(dir, run);
  EXPECT_GE(run.summary["restarts"].get<int>(), 1) << run.err;
}

}  // namespace
}  // namespace sluice::testing
