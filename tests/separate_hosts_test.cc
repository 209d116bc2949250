// Issue 22 (no shared disks): the reconciler on a host of its own. It runs in
// a network namespace of its own, reached over a veth pair with CURVE on,
// and in its mount namespace the coordinator's state directory is an empty
// tmpfs: the wave's ledger, fates and decimal sums reach it over its control
// socket only, and it sends its report back. The other workers run as on
// the coordinator's host (deploy/sluice-worker, as in deploy_test.cc).
//
// Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) for the namespaces; CI runs
// as root. Without it the tests skip and say why.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

// A network namespace joined to this one by a veth pair: this side
// 10.223.<n>.1, the namespace's side 10.223.<n>.2. Removed on destruction.
class NetworkNamespace {
 public:
  explicit NetworkNamespace(int n)
      : name_("sluice-rec-" + std::to_string(n)),
        host_link_("svh" + std::to_string(n)),
        host_address_("10.223." + std::to_string(n) + ".1"),
        ns_address_("10.223." + std::to_string(n) + ".2") {
    Shell("ip netns del " + name_ + " 2>/dev/null; ip link del " + host_link_ + " 2>/dev/null");
    const std::string ns_link = "svn" + std::to_string(n);
    auto made =
        Shell("set -e; ip netns add " + name_ + "; ip link add " + host_link_ +
              " type veth peer name " + ns_link + "; ip link set " + ns_link + " netns " + name_ +
              "; ip addr add " + host_address_ + "/30 dev " + host_link_ + "; ip link set " +
              host_link_ + " up; ip netns exec " + name_ + " ip addr add " + ns_address_ +
              "/30 dev " + ns_link + "; ip netns exec " + name_ + " ip link set " + ns_link +
              " up; ip netns exec " + name_ + " ip link set lo up");
    error_ = made.exit_code == 0 ? "" : made.err;
  }
  ~NetworkNamespace() {
    Shell("ip netns del " + name_ + " 2>/dev/null; ip link del " + host_link_ + " 2>/dev/null");
  }
  // Why the namespace could not be made ("" when it was).
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }
  const std::string& host_address() const { return host_address_; }

 private:
  std::string name_, host_link_, host_address_, ns_address_, error_;
};

struct ApartRun {
  std::string rc, out, err, workers_log, state_seen;
};

// A consolidation of the quickstart sample in `dir` with the reconciler in
// `ns`, the state directory hidden from it; with `decoy_target`, the
// target's folder it sees is an empty one of its own, as if its host had a
// stale copy.
ApartRun RunWithReconcilerApart(const ScratchDir& dir, const NetworkNamespace& ns,
                                bool decoy_target) {
  PrepareQuickstart(dir.path(), 2000, 1000);
  const int port = 20000 + static_cast<int>(getpid() % 9000);
  const std::string endpoint = "tcp://" + ns.host_address() + ":" + std::to_string(port);
  const std::string keys = dir / "keys";
  for (const std::string name : {"coordinator", "workers/host-b"}) {
    auto made = Shell(BinDir() + "/sluice keys generate --out " + keys + "/" +
                      name.substr(0, name.rfind('/') + 1) + " " + name.substr(name.rfind('/') + 1));
    EXPECT_EQ(made.exit_code, 0) << made.err;
  }
  std::filesystem::create_directories(dir / "state");
  std::filesystem::create_directories(dir / "decoy");
  std::filesystem::create_directories(dir / "out");  // the decoy is mounted on it
  const std::string coordinator =
      "(" + BinDir() + "/sluice run " + dir.path() + "/plan.yaml --json --bind " + endpoint +
      " --key " + keys + "/coordinator.key_secret --authorized-keys " + keys +
      "/workers --state-dir " + dir.path() + "/state > " + dir.path() + "/out.txt 2> " +
      dir.path() + "/err.txt; echo $? > " + dir.path() + "/rc.txt) &";
  EXPECT_EQ(std::system(coordinator.c_str()), 0);
  const std::string env =
      "SLUICE_COORDINATOR=" + endpoint + " SLUICE_BIN_DIR=" + BinDir() +
      " SLUICE_DATA_PORT_BASE=" + std::to_string(port + 1) + " SLUICE_KEY=" + keys +
      "/workers/host-b.key_secret SLUICE_COORDINATOR_KEY=" + keys + "/coordinator.key ";
  const std::string launcher = SourceDir() + "/deploy/sluice-worker";
  for (const char* name :
       {"extractor-0", "transformer-0", "deduper-0", "validator-0", "loader-0"}) {
    const std::string worker =
        env + launcher + " " + name + " 2>> " + dir.path() + "/workers.log &";
    EXPECT_EQ(std::system(worker.c_str()), 0);
  }
  // The reconciler's host: its own network and mounts, the state directory
  // an empty tmpfs, its working directory elsewhere.
  std::string host_b = "mount -t tmpfs tmpfs " + dir.path() + "/state && ";
  if (decoy_target) host_b += "mount --bind " + dir.path() + "/decoy " + dir.path() + "/out && ";
  host_b += "ls -A " + dir.path() + "/state | wc -l > " + dir.path() +
            "/state_seen.txt && cd / && " + env + "exec " + launcher + " reconciler-0";
  const std::string reconciler = "ip netns exec " + ns.name() + " unshare --mount sh -c '" +
                                 host_b + "' 2>> " + dir.path() + "/reconciler.log &";
  EXPECT_EQ(std::system(reconciler.c_str()), 0);
  for (int i = 0; i < 900 && !std::filesystem::exists(dir / "rc.txt"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return ApartRun{ReadFile(dir / "rc.txt"), ReadFile(dir / "out.txt"), ReadFile(dir / "err.txt"),
                  ReadFile(dir / "workers.log") + ReadFile(dir / "reconciler.log"),
                  ReadFile(dir / "state_seen.txt")};
}

TEST(SeparateHosts, AReconcilerWithoutTheStateDirectoryProvesTheWave) {
  NetworkNamespace ns(static_cast<int>(getpid() % 200) + 1);
  if (!ns.error().empty()) {
    GTEST_SKIP() << "creating a network namespace needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN); "
                 << "CI runs as root: " << ns.error();
  }
  ScratchDir dir("separate_hosts_pass");
  ApartRun run = RunWithReconcilerApart(dir, ns, /*decoy_target=*/false);
  EXPECT_EQ(run.state_seen, "0\n") << "the reconciler's host saw the state directory";
  ASSERT_EQ(run.rc, "0\n") << run.err << run.workers_log;
  const auto summary = nlohmann::json::parse(
      run.out.substr(run.out.rfind('\n', run.out.size() - 2) + 1), nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << run.out;
  EXPECT_EQ(Sum(summary, "extracted"), 3000u);
  const auto rows = Query(dir / "out/target.db", "SELECT count(*) FROM hcp");
  ASSERT_EQ(rows.size(), 1u) << "no target written";
  EXPECT_EQ(std::stoull(rows[0]), Sum(summary, "loaded"));
  for (const auto& [key, row] : Rows(summary)) {
    EXPECT_TRUE(row["reconciled"].get<bool>()) << row.dump();
  }
  // The report, from the reconciler over the wire, in the coordinator's
  // state directory.
  const std::string run_id = summary["run_id"];
  const std::string report = ReadFile(dir / ("state/reports/" + run_id + "/wave-0.json"));
  EXPECT_NE(report.find("\"verdict\": \"PASS\""), std::string::npos) << report;
  EXPECT_NE(report.find("errors_by_rule"), std::string::npos) << report;
}

TEST(SeparateHosts, AReconcilerThatSeesAnotherTargetFailsTheWave) {
  NetworkNamespace ns(static_cast<int>(getpid() % 200) + 1);
  if (!ns.error().empty()) {
    GTEST_SKIP() << "creating a network namespace needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN); "
                 << "CI runs as root: " << ns.error();
  }
  ScratchDir dir("separate_hosts_fail");
  ApartRun run = RunWithReconcilerApart(dir, ns, /*decoy_target=*/true);
  EXPECT_EQ(run.state_seen, "0\n");
  EXPECT_NE(run.rc, "0\n") << run.out;
  EXPECT_NE(run.err.find("reconciliation failed"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("does not add up"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace sluice::testing
