// End-to-end tests: the real coordinator and workers over TCP loopback.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <thread>

#include "common/runtime/endpoint.h"
#include "tests/harness.h"

namespace sluice::testing {
namespace {

void ExpectConservation(const nlohmann::json& summary) {
  ASSERT_TRUE(summary.is_object()) << "no JSON summary";
  ASSERT_FALSE(summary["entities"].empty());
  for (const auto& e : summary["entities"]) {
    EXPECT_EQ(e["extracted"].get<uint64_t>(),
              e["loaded"].get<uint64_t>() + e["merged"].get<uint64_t>() +
                  e["rejected"].get<uint64_t>() + e["review"].get<uint64_t>())
        << e.dump();
  }
}

TEST(EndToEnd, QuickstartConsolidatesTwoSourcesAndReconciles) {
  ScratchDir dir("e2e");
  PrepareQuickstart(dir.path(), 6000, 2500);
  auto r = RunPlan(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(r.json["status"], "completed") << r.out;
  ExpectConservation(r.json);
  for (const auto& e : r.json["entities"]) EXPECT_TRUE(e["reconciled"].get<bool>()) << e.dump();
  // Every extracted row is in the summary: 6000 CRM rows and 2500 ERP rows.
  std::map<std::string, uint64_t> extracted;
  for (const auto& e : r.json["entities"]) extracted[e["source"]] = e["extracted"];
  EXPECT_EQ(extracted["crm"], 6000u);
  EXPECT_EQ(extracted["erp"], 2500u);
  // Cross-source duplicates merged, dirty rows rejected.
  EXPECT_GT(Sum(r.json, "merged"), 0u);
  EXPECT_GT(Sum(r.json, "rejected"), 0u);

  std::string db = dir / "out/target.db";
  auto rows = Query(db, "SELECT count(*) FROM hcp");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(std::stoull(rows[0]), Sum(r.json, "loaded"));
  EXPECT_EQ(std::stoull(Query(db, "SELECT count(*) FROM sluice_xref WHERE kind='merged'")[0]),
            Sum(r.json, "merged"));
  EXPECT_EQ(std::stoull(Query(db, "SELECT count(*) FROM sluice_xref WHERE kind='loaded'")[0]),
            Sum(r.json, "loaded"));
  // Values arrive in canonical form: ISO dates, mapped specialties, exact decimals.
  EXPECT_EQ(Query(db,
                  "SELECT count(*) FROM hcp WHERE registered NOT GLOB "
                  "'[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'")[0],
            "0");
  EXPECT_EQ(Query(db,
                  "SELECT count(*) FROM hcp WHERE specialty NOT IN ('cardiology', "
                  "'general_practice', 'dermatology', 'oncology', 'pediatrics', 'neurology', "
                  "'psychiatry', 'radiology')")[0],
            "0");
  EXPECT_EQ(Query(db, "SELECT count(*) FROM hcp WHERE revenue NOT GLOB '*.[0-9][0-9]'")[0], "0");
  // No national id appears twice in the consolidated target.
  EXPECT_EQ(Query(db,
                  "SELECT count(*) FROM (SELECT national_id FROM hcp WHERE national_id IS "
                  "NOT NULL GROUP BY national_id HAVING count(*) > 1)")[0],
            "0");
  // The reconciliation report exists and says PASS.
  ASSERT_FALSE(r.json["reports"].empty());
  auto report = nlohmann::json::parse(ReadFile(r.json["reports"][0]), nullptr, false);
  EXPECT_EQ(report["verdict"], "PASS") << report.dump();
}

TEST(EndToEnd, SecondRunChangesNothing) {
  ScratchDir dir("idem");
  PrepareQuickstart(dir.path(), 3000, 1200);
  auto first = RunPlan(dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_GT(Sum(first.json, "inserted"), 0u);
  std::string before = TargetDigest(dir / "out/target.db");
  auto second = RunPlan(dir.path());
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(Sum(second.json, "inserted"), 0u);
  EXPECT_EQ(Sum(second.json, "updated"), 0u);
  EXPECT_EQ(Sum(second.json, "unchanged"), Sum(first.json, "loaded"));
  EXPECT_NE(second.out.find("nothing inserted or updated"), std::string::npos) << second.out;
  EXPECT_EQ(TargetDigest(dir / "out/target.db"), before);
}

TEST(EndToEnd, RecordLostBetweenStagesHaltsAndNamesIt) {
  ScratchDir dir("halt");
  PrepareQuickstart(dir.path(), 3000, 1200);
  auto r = RunPlan(dir.path(), "--test-fault transformer:drop_key=CRM0000042");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(r.json["status"], "halted");
  std::string reason =
      r.json["halt_reason"].is_string() ? r.json["halt_reason"].get<std::string>() : "";
  EXPECT_NE(reason.find("crm:CRM0000042"), std::string::npos) << reason;
  // Nothing was loaded after the halt: the entity never reached the loader.
  std::string db = dir / "out/target.db";
  auto rows = Query(db, "SELECT count(*) FROM hcp");
  EXPECT_TRUE(rows.empty() || rows[0] == "0") << rows[0];
}

TEST(EndToEnd, KilledTransformerIsReplacedAndTheTargetMatchesACleanRun) {
  ScratchDir clean("clean");
  ScratchDir crash("crash");
  PrepareQuickstart(clean.path(), 6000, 2500, "batch_size: 500\n");
  PrepareQuickstart(crash.path(), 6000, 2500, "batch_size: 500\n");
  auto a = RunPlan(clean.path());
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  // kill -9 of the transformer after its fourth batch.
  auto b = RunPlan(crash.path(), "--test-fault transformer:sigkill_after=4");
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  EXPECT_GE(b.json["restarts"].get<int>(), 1) << b.out;
  ExpectConservation(b.json);
  EXPECT_EQ(TargetDigest(crash / "out/target.db"), TargetDigest(clean / "out/target.db"));
  EXPECT_EQ(Sum(b.json, "loaded"), Sum(a.json, "loaded"));
  EXPECT_EQ(Sum(b.json, "merged"), Sum(a.json, "merged"));
  EXPECT_EQ(Sum(b.json, "rejected"), Sum(a.json, "rejected"));
}

// kill -9 of a stateful stage: the deduper (its shard log is replayed by the
// replacement) and the loader (unloaded output batches are emitted again).
class KilledWorker : public ::testing::TestWithParam<const char*> {};

TEST_P(KilledWorker, RunCompletesWithTheSameTarget) {
  ScratchDir clean("clean");
  ScratchDir crash("crash");
  PrepareQuickstart(clean.path(), 4000, 1500, "batch_size: 400\n");
  PrepareQuickstart(crash.path(), 4000, 1500, "batch_size: 400\n");
  auto a = RunPlan(clean.path());
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  auto b = RunPlan(crash.path(), std::string("--test-fault ") + GetParam() + ":sigkill_after=5");
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  EXPECT_GE(b.json["restarts"].get<int>(), 1) << b.out;
  ExpectConservation(b.json);
  EXPECT_EQ(TargetDigest(crash / "out/target.db"), TargetDigest(clean / "out/target.db"));
  EXPECT_EQ(Sum(b.json, "merged"), Sum(a.json, "merged"));
  EXPECT_EQ(Sum(b.json, "rejected"), Sum(a.json, "rejected"));
  for (const auto& e : b.json["entities"]) EXPECT_TRUE(e["reconciled"].get<bool>());
}

INSTANTIATE_TEST_SUITE_P(EndToEnd, KilledWorker,
                         ::testing::Values("deduper", "validator", "loader", "extractor"));

// A one-source plan over a small CSV, for bad-input cases.
void WriteItemPlan(const std::string& dir, const std::string& csv) {
  WriteFile(dir + "/items.csv", csv);
  WriteFile(dir + "/plan.yaml", R"yaml(name: items
model:
  entities:
    item:
      fields:
        name: {type: string}
        amount: {type: "decimal(10,2)"}
sources:
  shop: {kind: csv, path: items.csv, key: id}
mappings:
  - entity: item
    source: shop
    fields:
      name: name
      amount: amount
target: {kind: sqlite, path: out/target.db}
waves:
  - {name: items, entities: [item]}
)yaml");
}

TEST(BadInput, MalformedRowsAreRejectedWithTheirLineAndTheRestLoads) {
  ScratchDir dir("bad");
  std::string csv =
      "id,name,amount\n"
      "1,apple,1.50\n"
      "2,\"pear, green\",2.00\n"
      "3,too,many,columns\n"        // line 4: wrong column count
      "4,\xff\xfe bad utf8,3.00\n"  // line 5: invalid UTF-8
      "5,\"unterminated,4.00\n"     // line 6: unbalanced quote
      "6,plum,5.25\n";
  WriteItemPlan(dir.path(), csv);
  auto r = RunPlan(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ExpectConservation(r.json);
  EXPECT_EQ(Sum(r.json, "extracted"), 6u);
  EXPECT_EQ(Sum(r.json, "rejected"), 3u);
  EXPECT_EQ(Sum(r.json, "loaded"), 3u);
  auto names = Query(dir / "out/target.db", "SELECT name FROM item ORDER BY name");
  EXPECT_EQ(names, (std::vector<std::string>{"apple", "pear, green", "plum"}));
  // Each rejection names its line and reason.
  auto trace = Shell(BinDir() + "/sluice trace item shop:3 --state-dir " + dir.path() + "/state");
  EXPECT_EQ(trace.exit_code, 0) << trace.err;
  EXPECT_NE(trace.out.find("REJECTED"), std::string::npos) << trace.out;
  EXPECT_NE(trace.out.find("column count"), std::string::npos) << trace.out;
  EXPECT_NE(trace.out.find("line/row 4"), std::string::npos) << trace.out;
  EXPECT_NE(trace.out.find("extracted: batch "), std::string::npos) << trace.out;
  auto utf =
      Shell(BinDir() + "/sluice trace item shop:line:5 --state-dir " + dir.path() + "/state");
  auto utf_by_key =
      Shell(BinDir() + "/sluice trace item shop:4 --state-dir " + dir.path() + "/state");
  EXPECT_NE((utf.out + utf_by_key.out).find("utf-8"), std::string::npos)
      << utf.out << utf_by_key.out;
}

TEST(BadInput, EmptyFileIsAClearErrorNotACrash) {
  ScratchDir dir("empty");
  WriteItemPlan(dir.path(), "");
  auto r = RunPlan(dir.path());
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  std::string reason =
      r.json["halt_reason"].is_string() ? r.json["halt_reason"].get<std::string>() : "";
  EXPECT_NE(reason.find("empty file"), std::string::npos) << reason;
}

TEST(BadInput, InvalidPlanExitsTwoNamingTheYamlPath) {
  ScratchDir dir("badplan");
  WriteItemPlan(dir.path(), "id,name,amount\n1,a,1.00\n");
  std::string plan = ReadFile(dir / "plan.yaml");
  plan.replace(plan.find("kind: csv"), 9, "kind: csv, delimter: ';'");
  WriteFile(dir / "plan.yaml", plan);
  auto r = RunPlan(dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("sources.shop"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("delimter"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sluice::testing

namespace sluice::testing {
namespace {

// Workers started by hand, as an operator does on other machines: the
// coordinator waits for them to register over TCP.
TEST(Distributed, WorkersStartedSeparatelyRegisterAndTheRunCompletes) {
  ScratchDir dir("remote");
  PrepareQuickstart(dir.path(), 2000, 1000);
  // Below Linux's ephemeral range (32768 up), where the tests running at the
  // same time bind their `:*` sockets.
  int port = 20000 + static_cast<int>(std::hash<std::string>{}(dir.path()) % 12000);
  std::string endpoint = "tcp://127.0.0.1:" + std::to_string(port);
  // Every interface needs keys (or --insecure): the coordinator's pair, and
  // one pair for the workers' machine, whose public half it accepts.
  for (const char* name : {"coordinator", "workers/host-b"}) {
    std::string path = name;
    auto made = Shell(BinDir() + "/sluice keys generate --out " + dir.path() + "/keys/" +
                      path.substr(0, path.rfind('/') + 1) + " " + path.substr(path.rfind('/') + 1));
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  const std::string keys = dir / "keys";
  std::string coordinator =
      "(" + BinDir() + "/sluice run " + dir.path() + "/plan.yaml --json --bind " + endpoint +
      " --key " + keys + "/coordinator.key_secret --authorized-keys " + keys +
      "/workers --state-dir " + dir.path() + "/state > " + dir.path() + "/out.txt 2> " +
      dir.path() + "/err.txt; echo $? > " + dir.path() + "/rc.txt) &";
  ASSERT_EQ(std::system(coordinator.c_str()), 0);
  for (const char* role :
       {"extractor", "transformer", "deduper", "validator", "loader", "reconciler"}) {
    // Data sockets bound to every interface, as on a machine of a cluster:
    // consumers must be sent to this host's name, never to 0.0.0.0.
    std::string worker = BinDir() + "/sluice-" + role + " --coordinator " + endpoint + " --key " +
                         keys + "/workers/host-b.key_secret --coordinator-key " + keys +
                         "/coordinator.key --ordinal 0 --bind 'tcp://0.0.0.0:*' 2>> " + dir.path() +
                         "/workers.log &";
    ASSERT_EQ(std::system(worker.c_str()), 0);
  }
  for (int i = 0; i < 600 && !std::filesystem::exists(dir / "rc.txt"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(std::filesystem::exists(dir / "rc.txt")) << ReadFile(dir / "err.txt");
  EXPECT_EQ(ReadFile(dir / "rc.txt"), "0\n")
      << ReadFile(dir / "err.txt") << ReadFile(dir / "workers.log");
  std::string out = ReadFile(dir / "out.txt");
  auto last_line = out.substr(out.rfind('\n', out.size() - 2) + 1);
  auto summary = nlohmann::json::parse(last_line, nullptr, false);
  ExpectConservation(summary);
  EXPECT_EQ(Sum(summary, "extracted"), 3000u);
  EXPECT_EQ(std::stoull(Query(dir / "out/target.db", "SELECT count(*) FROM hcp")[0]),
            Sum(summary, "loaded"));
  std::string log = ReadFile(dir / "workers.log");
  EXPECT_NE(log.find("serving tcp://0.0.0.0:"), std::string::npos) << log;
  EXPECT_NE(log.find(" as tcp://" + LocalHostName() + ":"), std::string::npos) << log;
  EXPECT_EQ(log.find(" as tcp://0.0.0.0:"), std::string::npos) << log;
}

// Plaintext on every interface is refused, unless said out loud.
TEST(Distributed, PlaintextOnEveryInterfaceIsRefusedWithoutInsecure) {
  ScratchDir dir("plaintext");
  PrepareQuickstart(dir.path(), 1000, 1000);
  auto run = Shell(BinDir() + "/sluice run " + dir.path() + "/plan.yaml --bind tcp://0.0.0.0:0" +
                   " --state-dir " + dir.path() + "/state");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("refusing to bind tcp://0.0.0.0:0 in plaintext"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("--insecure"), std::string::npos) << run.err;
  auto worker = Shell(BinDir() + "/sluice-transformer --coordinator tcp://127.0.0.1:1 --bind " +
                      "'tcp://0.0.0.0:*'");
  EXPECT_NE(worker.exit_code, 0);
  EXPECT_NE(worker.err.find("refusing to bind tcp://0.0.0.0:* in plaintext"), std::string::npos)
      << worker.err;
}

}  // namespace
}  // namespace sluice::testing

namespace sluice::testing {
namespace {

// `sluice rollback RUN` restores the target exactly as it was before the run,
// also after a run that inserted and updated rows.
TEST(EndToEnd, RollbackRestoresThePreRunTarget) {
  ScratchDir dir("rollback");
  PrepareQuickstart(dir.path(), 2000, 1000);
  auto first = RunPlan(dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  std::string before = TargetDigest(dir / "out/target.db");
  // New source data: more rows (inserts) and a different seed (updates).
  auto gen = Shell(BinDir() + "/sluice-sample quickstart --out " + dir.path() +
                   "/data --crm-rows 2500 --erp-rows 1000 --seed 2");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  auto second = RunPlan(dir.path());
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  ASSERT_GT(Sum(second.json, "inserted") + Sum(second.json, "updated"), 0u);
  ASSERT_NE(TargetDigest(dir / "out/target.db"), before);
  std::string run = second.json["run_id"];
  auto rb = Shell(BinDir() + "/sluice rollback " + run + " --plan " + dir.path() +
                  "/plan.yaml --state-dir " + dir.path() + "/state");
  ASSERT_EQ(rb.exit_code, 0) << rb.out << rb.err;
  EXPECT_EQ(TargetDigest(dir / "out/target.db"), before);
  auto runs = Shell(BinDir() + "/sluice runs --state-dir " + dir.path() + "/state");
  EXPECT_NE(runs.out.find("rolled_back"), std::string::npos) << runs.out;
}

}  // namespace
}  // namespace sluice::testing
