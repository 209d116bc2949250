// deploy/sluice-worker, the launcher systemd and compose start workers with:
// a coordinator, two dedup shards and one worker of every other role, each
// started through the launcher with a fixed data port over TCP, as on the
// machines of a cluster.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

std::string Launcher() { return SourceDir() + "/deploy/sluice-worker"; }

int FreePortBase(const std::string& seed) {
  // Six roles x 100 ordinals above the base, and the dedup shards' member
  // sockets at base + 600: a different base per test dir, all of it below
  // Linux's ephemeral range (32768 up), where the other tests running at
  // the same time bind their `:*` sockets and could take a fixed port.
  return 20000 + static_cast<int>(std::hash<std::string>{}(seed) % 110) * 100;
}

TEST(Deploy, WorkersStartedByTheLauncherCompleteARun) {
  ScratchDir dir("deploy");
  PrepareQuickstart(dir.path(), 2000, 1000);
  const int base = FreePortBase(dir.path());
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(base + 99);
  // The keys, as deploy/README.md's walk-through makes them: one pair for
  // the coordinator, one for the workers' machine.
  const std::string keys = dir / "keys";
  for (const std::string name : {"coordinator", "workers/host-b"}) {
    auto made = Shell(BinDir() + "/sluice keys generate --out " + keys + "/" +
                      name.substr(0, name.rfind('/') + 1) + " " + name.substr(name.rfind('/') + 1));
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  const std::string coordinator =
      "(" + BinDir() + "/sluice run " + dir.path() + "/plan.yaml --json --dedup-shards 2 --bind " +
      endpoint + " --key " + keys + "/coordinator.key_secret --authorized-keys " + keys +
      "/workers --state-dir " + dir.path() + "/state > " + dir.path() + "/out.txt 2> " +
      dir.path() + "/err.txt; echo $? > " + dir.path() + "/rc.txt) &";
  ASSERT_EQ(std::system(coordinator.c_str()), 0);
  const std::string env = "SLUICE_COORDINATOR=" + endpoint + " SLUICE_BIN_DIR=" + BinDir() +
                          " SLUICE_DATA_PORT_BASE=" + std::to_string(base) + " SLUICE_KEY=" + keys +
                          "/workers/host-b.key_secret SLUICE_COORDINATOR_KEY=" + keys +
                          "/coordinator.key ";
  for (const char* name : {"extractor-0", "transformer-0", "deduper-0", "deduper-1", "validator-0",
                           "loader-0", "reconciler-0"}) {
    const std::string worker =
        env + Launcher() + " " + name + " 2>> " + dir.path() + "/workers.log &";
    ASSERT_EQ(std::system(worker.c_str()), 0);
  }
  for (int i = 0; i < 600 && !std::filesystem::exists(dir / "rc.txt"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(std::filesystem::exists(dir / "rc.txt")) << ReadFile(dir / "err.txt");
  const std::string log = ReadFile(dir / "workers.log");
  EXPECT_EQ(ReadFile(dir / "rc.txt"), "0\n") << ReadFile(dir / "err.txt") << log;
  const std::string out = ReadFile(dir / "out.txt");
  const auto summary =
      nlohmann::json::parse(out.substr(out.rfind('\n', out.size() - 2) + 1), nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << out;
  EXPECT_EQ(Sum(summary, "extracted"), 3000u);
  const auto rows = Query(dir / "out/target.db", "SELECT count(*) FROM hcp");
  ASSERT_EQ(rows.size(), 1u) << "no target written";
  EXPECT_EQ(std::stoull(rows[0]), Sum(summary, "loaded"));
  // The fixed ports: base + 100 x role slot + ordinal.
  EXPECT_NE(log.find("serving tcp://0.0.0.0:" + std::to_string(base + 200)), std::string::npos)
      << log;  // deduper-0
  EXPECT_NE(log.find("serving tcp://0.0.0.0:" + std::to_string(base + 201)), std::string::npos)
      << log;  // deduper-1
  EXPECT_NE(log.find("serving tcp://0.0.0.0:" + std::to_string(base + 100)), std::string::npos)
      << log;  // transformer-0
  // The dedup shards' member sockets: base + 600 + ordinal.
  for (int ordinal : {0, 1}) {
    EXPECT_NE(log.find("serving cluster members on tcp://0.0.0.0:" +
                       std::to_string(base + 600 + ordinal)),
              std::string::npos)
        << log;
  }
}

// The image's runtime stage installs shared libraries by package name: a
// library an executable starts linking (jemalloc did) must be added there,
// or every container fails to start. Each library the executables need
// directly must come from a package the Dockerfile installs, or from the
// base image (libc6, libgcc-s1, libstdc++6).
TEST(Deploy, TheImageInstallsEveryLibraryTheExecutablesNeed) {
  std::ifstream file(SourceDir() + "/deploy/docker/Dockerfile");
  const std::string dockerfile((std::istreambuf_iterator<char>(file)),
                               std::istreambuf_iterator<char>());
  const size_t runtime = dockerfile.find("--no-install-recommends", dockerfile.rfind("FROM "));
  ASSERT_NE(runtime, std::string::npos) << "no runtime apt-get install in the Dockerfile";
  std::set<std::string> installed = {"libc6", "libgcc-s1", "libstdc++6"};
  std::istringstream words(dockerfile.substr(runtime, dockerfile.find("&&", runtime) - runtime));
  for (std::string w; words >> w;) installed.insert(w);
  auto libs = Shell("for b in " + BinDir() +
                    "/sluice*; do ldd \"$b\"; done | awk '/=> \\//{print $3}' | sort -u");
  ASSERT_EQ(libs.exit_code, 0) << libs.err;
  auto needed = Shell("for b in " + BinDir() +
                      "/sluice*; do objdump -p \"$b\" | awk '/NEEDED/{print $2}'; done | sort -u");
  ASSERT_EQ(needed.exit_code, 0) << needed.err;
  std::istringstream sonames(needed.out);
  size_t checked = 0;
  for (std::string so; sonames >> so;) {
    std::istringstream paths(libs.out);
    std::string path;
    for (std::string p; paths >> p;) {
      if (p.size() > so.size() &&
          p.compare(p.size() - so.size() - 1, so.size() + 1, "/" + so) == 0) {
        path = p;
        break;
      }
    }
    ASSERT_FALSE(path.empty()) << so << " is not resolved by ldd";
    // dpkg knows a file by the path its package installed (usrmerge: /usr/lib).
    auto owner = Shell("dpkg -S " + path + " 2>/dev/null || dpkg -S /usr" + path);
    ASSERT_EQ(owner.exit_code, 0) << so << " at " << path << ": no Debian package owns it";
    const std::string package = owner.out.substr(0, owner.out.find_first_of(":"));
    EXPECT_TRUE(installed.count(package))
        << so << " comes from " << package << ", which deploy/docker/Dockerfile does not install";
    ++checked;
  }
  EXPECT_GE(checked, 10u) << needed.out;
}

TEST(Deploy, TheLauncherRefusesBadNamesAndAMissingCoordinator) {
  auto role = Shell("SLUICE_COORDINATOR=tcp://127.0.0.1:1 " + Launcher() + " dedupr-0");
  EXPECT_EQ(role.exit_code, 2);
  EXPECT_NE(role.err.find("unknown role 'dedupr'"), std::string::npos) << role.err;
  auto ordinal = Shell("SLUICE_COORDINATOR=tcp://127.0.0.1:1 " + Launcher() + " deduper-x");
  EXPECT_EQ(ordinal.exit_code, 2);
  EXPECT_NE(ordinal.err.find("ordinal must be a number"), std::string::npos) << ordinal.err;
  auto missing = Shell("env -u SLUICE_COORDINATOR " + Launcher() + " deduper-0");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("set SLUICE_COORDINATOR"), std::string::npos) << missing.err;
  auto usage = Shell(Launcher());
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("usage: sluice-worker ROLE-ORDINAL"), std::string::npos) << usage.err;
  // A worker serves every interface: keys, or plaintext said out loud.
  auto plaintext =
      Shell("env -u SLUICE_KEY -u SLUICE_INSECURE SLUICE_COORDINATOR=tcp://127.0.0.1:1 " +
            Launcher() + " deduper-0");
  EXPECT_EQ(plaintext.exit_code, 2);
  EXPECT_NE(plaintext.err.find("SLUICE_INSECURE=1"), std::string::npos) << plaintext.err;
}

}  // namespace
}  // namespace sluice::testing
