// deploy/k8s (issue 22, item 5): the kustomize manifests rendered with
// `kubectl kustomize` (Debian's kubernetes-client, or any kubectl on PATH)
// and checked against the launcher's scheme (deploy/sluice-worker): one
// StatefulSet and headless Service per role whose pods are named
// ROLE-ORDINAL and started through the launcher, the data ports base + 100 x
// role slot (+ ordinal), a dedup shard's member port base + 600, each role's
// own key pair mounted where the launcher reads it, the coordinator given
// every role's public key, and one dedup shard count for the deduper's
// replicas and the coordinator's --dedup-shards, set by one patch.
// No cluster here: nothing is applied.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "common/runtime/curve_keys.h"
#include "tests/harness.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;

// role -> slot, as the launcher's `case` says ("extractor) slot=0 ;;").
std::map<std::string, int> LauncherSlots() {
  std::map<std::string, int> slots;
  const std::string launcher = ReadFile(SourceDir() + "/deploy/sluice-worker");
  const std::regex re("\\n\\s*([a-z]+)\\) slot=([0-9]+) ;;");
  for (std::sregex_iterator it(launcher.begin(), launcher.end(), re), end; it != end; ++it) {
    slots[(*it)[1]] = std::stoi((*it)[2]);
  }
  return slots;
}

int LauncherPortBase() {
  std::smatch m;
  const std::string launcher = ReadFile(SourceDir() + "/deploy/sluice-worker");
  const std::regex re("SLUICE_DATA_PORT_BASE:-([0-9]+)");
  return std::regex_search(launcher, m, re) ? std::stoi(m[1]) : -1;
}

// deploy/k8s copied into `dir` with a key pair per role and the
// quick-start plan, as deploy/README.md says, and rendered; or, with
// `overlay` ("k8s-nightly"), that overlay of it.
std::vector<YAML::Node> Render(const ScratchDir& dir, int dedup_shards,
                               const std::string& overlay = "") {
  const std::string k8s = dir / "k8s";
  fs::copy(SourceDir() + "/deploy/k8s", k8s, fs::copy_options::recursive);
  if (!overlay.empty()) {
    fs::copy(SourceDir() + "/deploy/" + overlay, dir / overlay, fs::copy_options::recursive);
  }
  for (const char* name : {"coordinator", "extractor", "transformer", "deduper", "validator",
                           "loader", "reconciler"}) {
    auto keys = GenerateCurveKeyPair();
    EXPECT_TRUE(keys.ok() && WriteCurveKeyPair(k8s + "/keys", name, *keys).ok());
  }
  for (const char* file : {"plan.yaml", "model.yaml"}) {
    fs::copy_file(SourceDir() + "/examples/quickstart/" + file, k8s + "/plan/" + file);
  }
  if (dedup_shards != 2) {
    std::string patch = ReadFile(k8s + "/patches/dedup-shards.yaml");
    patch = std::regex_replace(patch, std::regex("replicas: 2"),
                               "replicas: " + std::to_string(dedup_shards));
    patch = std::regex_replace(patch, std::regex("value: \"2\""),
                               "value: \"" + std::to_string(dedup_shards) + "\"");
    WriteFile(k8s + "/patches/dedup-shards.yaml", patch);
  }
  auto rendered = Shell("kubectl kustomize " + (overlay.empty() ? k8s : dir / overlay));
  EXPECT_EQ(rendered.exit_code, 0)
      << "kubectl kustomize (Debian: kubernetes-client): " << rendered.err;
  return YAML::LoadAll(rendered.out);
}

const YAML::Node* Find(const std::vector<YAML::Node>& docs, const std::string& kind,
                       const std::string& name) {
  for (const YAML::Node& d : docs) {
    if (d["kind"].as<std::string>() == kind && d["metadata"]["name"].as<std::string>() == name) {
      return &d;
    }
  }
  return nullptr;
}

std::map<std::string, std::string> Env(const YAML::Node& container) {
  std::map<std::string, std::string> env;
  for (const YAML::Node& e : container["env"]) {
    env[e["name"].as<std::string>()] = e["value"] ? e["value"].as<std::string>() : "(from field)";
  }
  return env;
}

int Port(const YAML::Node& ports, const std::string& name, const char* field) {
  for (const YAML::Node& p : ports) {
    if (p["name"].as<std::string>() == name) return p[field].as<int>();
  }
  return -1;
}

TEST(Kubernetes, TheManifestsFollowTheLaunchersScheme) {
  ScratchDir dir("k8s");
  const std::vector<YAML::Node> docs = Render(dir, 2);
  ASSERT_FALSE(docs.empty());
  const std::map<std::string, int> slots = LauncherSlots();
  ASSERT_EQ(slots.size(), 6u);
  const int base = LauncherPortBase();
  ASSERT_GT(base, 0);

  std::string keys_secret;
  for (const YAML::Node& d : docs) {
    const std::string name = d["metadata"]["name"].as<std::string>();
    if (d["kind"].as<std::string>() == "Secret" && name.rfind("sluice-keys-", 0) == 0) {
      keys_secret = name;
      for (const auto& [role, slot] : slots) {
        EXPECT_TRUE(d["data"][role + ".key"]) << role;
        EXPECT_TRUE(d["data"][role + ".key_secret"]) << role;
      }
      EXPECT_TRUE(d["data"]["coordinator.key_secret"]);
    }
  }
  ASSERT_FALSE(keys_secret.empty()) << "no sluice-keys Secret";

  for (const auto& [role, slot] : slots) {
    SCOPED_TRACE(role);
    const YAML::Node* service = Find(docs, "Service", role);
    const YAML::Node* set = Find(docs, "StatefulSet", role);
    ASSERT_TRUE(service && set);
    // Headless, named after the role: pods are ROLE-ORDINAL.ROLE.
    EXPECT_EQ((*service)["spec"]["clusterIP"].as<std::string>(), "None");
    EXPECT_EQ((*set)["spec"]["serviceName"].as<std::string>(), role);
    EXPECT_EQ(Port((*service)["spec"]["ports"], "data", "port"), base + 100 * slot);
    const YAML::Node pod = (*set)["spec"]["template"]["spec"];
    const YAML::Node main = pod["containers"][0];
    // The pod's name (ROLE-ORDINAL, the StatefulSet being ROLE) is the
    // worker's name, started through the launcher.
    EXPECT_EQ(main["command"][0].as<std::string>(), "/usr/local/lib/sluice/sluice-worker");
    EXPECT_EQ(main["command"][1].as<std::string>(), "$(POD_NAME)");
    EXPECT_EQ(main["env"][0]["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>(),
              "metadata.name");
    auto env = Env(main);
    EXPECT_EQ(env["SLUICE_DATA_PORT_BASE"], std::to_string(base));
    EXPECT_EQ(env["SLUICE_COORDINATOR"], "tcp://sluice-coordinator:5570");
    EXPECT_EQ(env["SLUICE_ADVERTISE_HOST"], "$(POD_NAME)." + role);
    EXPECT_EQ(env.count("SLUICE_INSECURE"), 0u);
    EXPECT_EQ(Port(main["ports"], "data", "containerPort"), base + 100 * slot);
    if (role == "deduper") {
      EXPECT_EQ(Port(main["ports"], "members", "containerPort"), base + 600);
      EXPECT_EQ(Port((*service)["spec"]["ports"], "members", "port"), base + 600);
    }
    // Its own role's key pair, and only that secret key, where SLUICE_KEY says.
    const YAML::Node secret = pod["volumes"][0]["secret"];
    EXPECT_EQ(secret["secretName"].as<std::string>(), keys_secret);
    std::set<std::string> items;
    for (const YAML::Node& i : secret["items"]) items.insert(i["key"].as<std::string>());
    EXPECT_EQ(items, (std::set<std::string>{role + ".key_secret", "coordinator.key"}));
    const std::string copy = pod["initContainers"][0]["command"][2].as<std::string>();
    EXPECT_NE(copy.find("install -m 600 -o sluice -g sluice /secrets/" + role +
                        ".key_secret /keys/worker.key_secret"),
              std::string::npos)
        << copy;
    EXPECT_EQ(env["SLUICE_KEY"], "/keys/worker.key_secret");
    EXPECT_EQ(env["SLUICE_COORDINATOR_KEY"], "/keys/coordinator.key");
  }

  const YAML::Node* coordinator = Find(docs, "Service", "sluice-coordinator");
  ASSERT_TRUE(coordinator);
  EXPECT_EQ(Port((*coordinator)["spec"]["ports"], "control", "port"), 5570);
  const YAML::Node* job = Find(docs, "Job", "sluice-run");
  ASSERT_TRUE(job);
  const YAML::Node pod = (*job)["spec"]["template"]["spec"];
  std::vector<std::string> args;
  for (const YAML::Node& a : pod["containers"][0]["args"]) args.push_back(a.as<std::string>());
  ASSERT_GE(args.size(), 2u);
  EXPECT_EQ(args[0], "run");
  auto after = [&](const std::string& flag) {
    auto it = std::find(args.begin(), args.end(), flag);
    return it == args.end() || it + 1 == args.end() ? std::string() : *(it + 1);
  };
  EXPECT_EQ(after("--bind"), "tcp://0.0.0.0:5570");
  EXPECT_EQ(after("--key"), "/keys/coordinator.key_secret");
  EXPECT_EQ(after("--authorized-keys"), "/keys/workers");
  EXPECT_EQ(after("--dedup-shards"), "$(SLUICE_DEDUP_SHARDS)");
  const std::string copy = pod["initContainers"][0]["command"][2].as<std::string>();
  for (const auto& [role, slot] : slots) EXPECT_NE(copy.find(role), std::string::npos) << copy;
}

// One patch sets the number of dedup shards: the deduper's replicas and the
// coordinator's --dedup-shards agree, at 2 and at 4.
TEST(Kubernetes, OnePatchSetsTheDedupShardCount) {
  for (int shards : {2, 4}) {
    ScratchDir dir("k8s_shards");
    const std::vector<YAML::Node> docs = Render(dir, shards);
    const YAML::Node* set = Find(docs, "StatefulSet", "deduper");
    const YAML::Node* job = Find(docs, "Job", "sluice-run");
    ASSERT_TRUE(set && job);
    EXPECT_EQ((*set)["spec"]["replicas"].as<int>(), shards);
    auto env = Env((*job)["spec"]["template"]["spec"]["containers"][0]);
    EXPECT_EQ(env["SLUICE_DEDUP_SHARDS"], std::to_string(shards));
  }
}

// deploy/k8s-nightly (issue 18): the base with its one-off Job replaced by
// a CronJob running the plan every night, one at a time, on the base's
// state volume (the audit store holds the high-water marks), with the
// base's generated plan and Secrets and its dedup shard count.
TEST(Kubernetes, TheNightlySyncIsACronJobOverTheBase) {
  ScratchDir dir("k8s_nightly");
  const std::vector<YAML::Node> docs = Render(dir, 2, "k8s-nightly");
  ASSERT_FALSE(docs.empty());
  EXPECT_EQ(Find(docs, "Job", "sluice-run"), nullptr);
  const YAML::Node* cron = Find(docs, "CronJob", "sluice-sync");
  const YAML::Node* set = Find(docs, "StatefulSet", "deduper");
  ASSERT_TRUE(cron && set);
  EXPECT_EQ((*cron)["spec"]["schedule"].as<std::string>(), "30 2 * * *");
  EXPECT_EQ((*cron)["spec"]["concurrencyPolicy"].as<std::string>(), "Forbid");
  const YAML::Node job = (*cron)["spec"]["jobTemplate"]["spec"];
  EXPECT_EQ(job["backoffLimit"].as<int>(), 0);
  const YAML::Node pod = job["template"]["spec"];
  const YAML::Node c = pod["containers"][0];
  EXPECT_EQ(c["args"][0].as<std::string>(), "run");
  EXPECT_EQ(Env(c)["SLUICE_DEDUP_SHARDS"], std::to_string((*set)["spec"]["replicas"].as<int>()));
  std::map<std::string, std::string> volumes;
  for (const YAML::Node& v : pod["volumes"]) {
    const std::string name = v["name"].as<std::string>();
    if (v["configMap"]) volumes[name] = v["configMap"]["name"].as<std::string>();
    if (v["secret"]) volumes[name] = v["secret"]["secretName"].as<std::string>();
    if (v["persistentVolumeClaim"])
      volumes[name] = v["persistentVolumeClaim"]["claimName"].as<std::string>();
  }
  // The generated names (hash suffixes), as the workers get them.
  EXPECT_EQ(volumes["plan"].rfind("sluice-plan-", 0), 0u) << volumes["plan"];
  EXPECT_EQ(volumes["secrets"].rfind("sluice-keys-", 0), 0u) << volumes["secrets"];
  EXPECT_EQ(volumes["state"], "sluice-state");
  EXPECT_NE(Find(docs, "PersistentVolumeClaim", "sluice-state"), nullptr);
  EXPECT_EQ(c["envFrom"][0]["secretRef"]["name"].as<std::string>().rfind("sluice-dsn-", 0), 0u);
}

// deploy/docker/compose.yaml is sealed too (no Docker daemon here: read,
// not run): the coordinator with its key and the workers' public keys, each
// worker with its own key pair from the keys volume, which the `keys` setup
// service fills with one pair per worker; no plaintext anywhere.
TEST(Compose, EveryContainerIsSealedWithAKeyOfItsOwn) {
  const YAML::Node compose = YAML::LoadFile(SourceDir() + "/deploy/docker/compose.yaml");
  const std::string text = ReadFile(SourceDir() + "/deploy/docker/compose.yaml");
  EXPECT_EQ(text.find("SLUICE_INSECURE"), std::string::npos);
  EXPECT_EQ(text.find("--insecure"), std::string::npos);
  std::vector<std::string> args;
  for (const YAML::Node& a : compose["services"]["coordinator"]["command"]) {
    args.push_back(a.as<std::string>());
  }
  auto after = [&](const std::string& flag) {
    auto it = std::find(args.begin(), args.end(), flag);
    return it == args.end() || it + 1 == args.end() ? std::string() : *(it + 1);
  };
  EXPECT_EQ(after("--key"), "/keys/coordinator.key_secret");
  EXPECT_EQ(after("--authorized-keys"), "/keys/workers");
  std::string generate = compose["services"]["keys"]["command"][2].as<std::string>();
  std::replace(generate.begin(), generate.end(), ';', ' ');
  int workers = 0;
  for (const auto& service : compose["services"]) {
    const std::string name = service.first.as<std::string>();
    if (!LauncherSlots().count(name.substr(0, name.rfind('-')))) continue;
    SCOPED_TRACE(name);
    ++workers;
    // yaml-cpp keeps YAML's merge key as a key: the shared part is under "<<".
    const YAML::Node env = service.second["environment"];
    EXPECT_EQ(env["SLUICE_KEY"].as<std::string>(), "/keys/workers/" + name + ".key_secret");
    EXPECT_EQ(env["<<"]["SLUICE_COORDINATOR_KEY"].as<std::string>(), "/keys/coordinator.key");
    EXPECT_NE(generate.find(" " + name + " "), std::string::npos) << generate;
  }
  EXPECT_EQ(workers, 7);
}

}  // namespace
}  // namespace sluice::testing
