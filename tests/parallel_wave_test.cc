// Parallel entities inside a wave (issue 3, docs/consolidation.md#waves):
// one wave holding two independent entities (account, hcp) and a child
// referencing both (interaction), run by the real executables. The audit
// store's order of batch commits shows the two parents in flight together
// and the child extracted only after both were loaded; a worker killed -9
// while both parents are in flight still gives the clean run's target; a
// halt in the wave stops both and `sluice resume` completes it.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

constexpr int kParents = 600;  // rows of crm.csv: 24 batches of 25 per parent entity
constexpr int kVisits = 400;   // rows of visits.csv: 16 batches

// A CRM export whose rows feed both account and hcp (keys C0000...), and a
// visit log whose `id_ref` names a CRM row: each visit references that
// row's account and hcp (references_from: crm).
void PrepareParallelPlan(const std::string& dir, const std::string& plan_suffix = "") {
  WriteFile(dir + "/model.yaml", R"(entities:
  account:
    fields:
      name: {type: string, required: true}
      city: string
  hcp:
    fields:
      national_id: {type: string, required: true}
      last_name: string
  interaction:
    fields:
      hcp_ref: {type: reference, entity: hcp, required: true}
      account_ref: {type: reference, entity: account, required: true}
      notes: string
)");
  WriteFile(dir + "/plan.yaml", R"(name: parallel
batch_size: 25
model: model.yaml
sources:
  crm: {kind: csv, path: data/crm.csv, key: id}
  visits: {kind: csv, path: data/visits.csv, key: visit_id, references_from: crm}
mappings:
  - entity: account
    source: crm
    fields: {name: account_name, city: city}
  - entity: hcp
    source: crm
    fields: {national_id: national_id, last_name: last_name}
  - entity: interaction
    source: visits
    fields: {hcp_ref: id_ref, account_ref: id_ref, notes: notes}
target: {kind: sqlite, path: out/target.db}
waves:
  - name: all
    entities: [interaction, account, hcp]
)" + plan_suffix);
  std::string crm = "id,account_name,city,national_id,last_name\n";
  for (int i = 0; i < kParents; ++i) {
    char row[128];
    std::snprintf(row, sizeof row, "C%04d,Account %d,City %d,N%06d,Name%d\n", i, i, i % 7, i, i);
    crm += row;
  }
  WriteFile(dir + "/data/crm.csv", crm);
  std::string visits = "visit_id,id_ref,notes\n";
  for (int i = 0; i < kVisits; ++i) {
    char row[96];
    std::snprintf(row, sizeof row, "V%04d,C%04d,note %d\n", i, (i * 7) % kParents, i);
    visits += row;
  }
  WriteFile(dir + "/data/visits.csv", visits);
}

std::string Sluice(const std::string& args) { return BinDir() + "/sluice " + args; }

// (entity) -> the summary row; the plan has one source per entity.
std::map<std::string, nlohmann::json> Rows(const nlohmann::json& summary) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& e : summary["entities"]) out[e["entity"]] = e;
  return out;
}

// Every entity complete, balanced and reconciled, the references checked.
void ExpectCompleteAndBalanced(const CommandResult& r) {
  ASSERT_EQ(r.json["status"], "completed") << r.out << r.err;
  auto rows = Rows(r.json);
  const std::map<std::string, int> want = {
      {"account", kParents}, {"hcp", kParents}, {"interaction", kVisits}};
  for (const auto& [entity, n] : want) {
    ASSERT_TRUE(rows.count(entity)) << entity << "\n" << r.out;
    const nlohmann::json& e = rows[entity];
    EXPECT_EQ(e["extracted"], n) << e.dump();
    // Conservation: extracted = loaded + merged + rejected + review.
    EXPECT_EQ(e["extracted"].get<int>(), e["loaded"].get<int>() + e["merged"].get<int>() +
                                             e["rejected"].get<int>() + e["review"].get<int>())
        << e.dump();
    EXPECT_EQ(e["loaded"], n) << e.dump();
    EXPECT_TRUE(e["reconciled"].get<bool>()) << e.dump();
    EXPECT_EQ(e["ri_check"], entity == "interaction" ? "PASS" : "n/a") << e.dump();
  }
  ASSERT_EQ(r.json["reports"].size(), 1u) << r.out;
  EXPECT_NE(r.out.find("wave all: PASS"), std::string::npos) << r.out;
}

// The target with target ids replaced by source keys (they depend on the
// load order): each parent row, and each visit with the keys of the hcp and
// the account it points at.
std::string Digest(const std::string& db) {
  std::string all;
  for (const auto& row : Query(db,
                               "SELECT x.key, a.name, a.city FROM sluice_xref x JOIN account a ON "
                               "a.sluice_id = x.target_id WHERE x.entity = 'account' ORDER BY "
                               "x.key")) {
    all += "account|" + row + "\n";
  }
  for (const auto& row : Query(db,
                               "SELECT x.key, h.national_id, h.last_name FROM sluice_xref x JOIN "
                               "hcp h ON h.sluice_id = x.target_id WHERE x.entity = 'hcp' ORDER "
                               "BY x.key")) {
    all += "hcp|" + row + "\n";
  }
  for (const auto& row :
       Query(db,
             "SELECT x.key, i.notes, hx.key, ax.key FROM sluice_xref x "
             "JOIN interaction i ON i.sluice_id = x.target_id "
             "LEFT JOIN sluice_xref hx ON hx.entity = 'hcp' AND hx.target_id = CAST(i.hcp_ref AS "
             "INTEGER) "
             "LEFT JOIN sluice_xref ax ON ax.entity = 'account' AND ax.target_id = "
             "CAST(i.account_ref AS INTEGER) "
             "WHERE x.entity = 'interaction' ORDER BY x.key")) {
    all += "interaction|" + row + "\n";
  }
  return all;
}

// Positions (audit-store rowids) of a run's batch commits, per entity.
struct CommitOrder {
  std::map<std::string, long long> first;          // first commit of any stage
  std::map<std::string, long long> first_extract;  // first extraction commit
  std::map<std::string, long long> last_load;      // last load commit
};

CommitOrder OrderOf(const std::string& audit_db, const std::string& run_id) {
  CommitOrder o;
  for (const auto& row : Query(audit_db,
                               "SELECT entity, stage, MIN(rowid), MAX(rowid) FROM batches WHERE "
                               "run_id = '" +
                                   run_id + "' GROUP BY entity, stage")) {
    // entity|stage|min|max
    const size_t a = row.find('|'), b = row.find('|', a + 1), c = row.find('|', b + 1);
    const std::string entity = row.substr(0, a), stage = row.substr(a + 1, b - a - 1);
    const long long lo = std::stoll(row.substr(b + 1, c - b - 1));
    const long long hi = std::stoll(row.substr(c + 1));
    if (!o.first.count(entity) || lo < o.first[entity]) o.first[entity] = lo;
    if (stage == "extract") o.first_extract[entity] = lo;
    if (stage == "load") o.last_load[entity] = hi;
  }
  return o;
}

TEST(ParallelWave, IndependentEntitiesRunTogetherAndTheChildAfterBothParents) {
  ScratchDir dir("parallel_wave");
  PrepareParallelPlan(dir.path());
  auto check = Shell(Sluice("plan check " + dir / "plan.yaml"));
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("wave all: [account, hcp] -> [interaction]"), std::string::npos)
      << check.out;

  auto r = RunPlan(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ExpectCompleteAndBalanced(r);
  EXPECT_EQ(r.json["restarts"], 0);

  const std::string run_id = r.json["run_id"];
  CommitOrder o = OrderOf(dir / "state/audit.db", run_id);
  for (const char* e : {"account", "hcp", "interaction"}) {
    ASSERT_TRUE(o.first.count(e) && o.last_load.count(e) && o.first_extract.count(e)) << e;
  }
  // The two parents were in flight at the same time: whichever committed
  // first, the other's first commit came before its last load (one after
  // the other, the second would start only after the first's last load).
  const std::string one = o.first["account"] < o.first["hcp"] ? "account" : "hcp";
  const std::string two = one == "account" ? "hcp" : "account";
  EXPECT_LT(o.first[two], o.last_load[one]) << two << " started at commit " << o.first[two] << ", "
                                            << one << " loaded last at " << o.last_load[one];
  // The child references both: nothing of it was extracted before both
  // parents were completely loaded.
  EXPECT_GT(o.first_extract["interaction"], o.last_load["account"]);
  EXPECT_GT(o.first_extract["interaction"], o.last_load["hcp"]);

  // Every visit points at the hcp and the account of its CRM row.
  const std::string digest = Digest(dir / "out/target.db");
  for (int i : {0, 1, 123, kVisits - 1}) {
    char want[96];
    std::snprintf(want, sizeof want, "interaction|V%04d|note %d|C%04d|C%04d\n", i, i,
                  (i * 7) % kParents, (i * 7) % kParents);
    EXPECT_NE(digest.find(want), std::string::npos) << want;
  }
  // The ledger the coordinator wrote holds each entity once, balanced.
  auto ledger = Query(dir / "state/audit.db",
                      "SELECT entity, extracted, loaded + merged + rejected + review FROM ledger "
                      "WHERE run_id = '" +
                          run_id + "' ORDER BY entity");
  EXPECT_EQ(ledger,
            (std::vector<std::string>{"account|600|600", "hcp|600|600", "interaction|400|400"}));
}

// kill -9 of a worker while both parents are in flight: every active
// entity's work is leased again and the target equals a clean run's.
class KilledWhileParallel : public ::testing::TestWithParam<const char*> {};

TEST_P(KilledWhileParallel, RunCompletesWithTheCleanTarget) {
  ScratchDir clean("parallel_clean");
  PrepareParallelPlan(clean.path());
  auto a = RunPlan(clean.path());
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;

  ScratchDir crash("parallel_crash");
  PrepareParallelPlan(crash.path());
  auto b = RunPlan(crash.path(), std::string("--test-fault ") + GetParam());
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  ExpectCompleteAndBalanced(b);
  EXPECT_GE(b.json["restarts"].get<int>(), 1) << b.out;
  // Neither parent can have finished when the fault fires (each needs 24
  // batches through every stage), and the child waits for both: the death
  // was recovered with exactly the two parents in flight.
  EXPECT_NE(b.err.find("(2 entities in flight)"), std::string::npos) << b.err;
  EXPECT_EQ(Digest(crash / "out/target.db"), Digest(clean / "out/target.db"));
}

INSTANTIATE_TEST_SUITE_P(Workers, KilledWhileParallel,
                         ::testing::Values("deduper:sigkill_after=30", "loader:sigkill_after=10",
                                           "extractor:sigkill_after=20"));

// hcp's reject rate (national ids ending in 7: 10%) is over its halt
// threshold: the wave halts before anything of hcp loads, whatever account
// did meanwhile, and the child never starts. `shards`: extra flags for both
// the run and the resume (dedup shards).
void HaltThenResume(const std::string& name, const std::string& shards) {
  ScratchDir dir(name);
  const std::string strict = R"(validation:
  hcp:
    halt: {reject_rate: 0.05}
    rules:
      - {name: not_seven, kind: regex, field: national_id, pattern: "[^7]$"}
)";
  PrepareParallelPlan(dir.path(), strict);
  auto r = RunPlan(dir.path(), shards);
  ASSERT_EQ(r.exit_code, 3) << r.out << r.err;
  ASSERT_EQ(r.json["status"], "halted") << r.out;
  EXPECT_NE(r.json["halt_reason"].get<std::string>().find("entity hcp: reject rate"),
            std::string::npos)
      << r.json["halt_reason"];
  const std::string target = dir / "out/target.db";
  EXPECT_EQ(Query(target, "SELECT COUNT(*) FROM sluice_xref WHERE entity = 'hcp'"),
            std::vector<std::string>{"0"});
  EXPECT_EQ(Query(target, "SELECT COUNT(*) FROM sluice_xref WHERE entity = 'interaction'"),
            std::vector<std::string>{"0"});

  // The threshold raised, the halted wave runs again and completes.
  std::string plan = ReadFile(dir / "plan.yaml");
  plan.replace(plan.find("reject_rate: 0.05"), 17, "reject_rate: 0.50");
  WriteFile(dir / "plan.yaml", plan);
  const std::string run_id = r.json["run_id"];
  auto resumed =
      Shell(Sluice("resume " + run_id + " --json --state-dir " + dir.path() + "/state" + shards));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  ASSERT_EQ(resumed.json["status"], "completed") << resumed.out;
  if (!shards.empty()) {
    // The resumed run kept its two shards: each wrote its own shard log.
    const std::string logs = dir / ("state/shards/" + resumed.json["run_id"].get<std::string>());
    size_t second = 0;
    for (const auto& f : std::filesystem::directory_iterator(logs)) {
      second += f.path().filename().string().find("-shard1.log") != std::string::npos;
    }
    EXPECT_GT(second, 0u) << "no shard 1 log in " << logs;
  }
  auto rows = Rows(resumed.json);
  EXPECT_EQ(rows["account"]["loaded"], kParents);
  EXPECT_EQ(rows["hcp"]["rejected"], kParents / 10);
  EXPECT_EQ(rows["hcp"]["loaded"], kParents - kParents / 10);
  // Visits of a rejected hcp are orphans, rejected with their reason.
  int orphans = 0;
  for (int i = 0; i < kVisits; ++i) orphans += ((i * 7) % kParents) % 10 == 7;
  EXPECT_EQ(rows["interaction"]["rejected"], orphans);
  EXPECT_EQ(rows["interaction"]["loaded"], kVisits - orphans);
  EXPECT_EQ(rows["interaction"]["ri_check"], "PASS");
  for (const auto& [entity, e] : rows) EXPECT_TRUE(e["reconciled"].get<bool>()) << e.dump();
}

TEST(ParallelWave, AHaltStopsTheWaveAndResumeCompletesIt) { HaltThenResume("parallel_halt", ""); }

TEST(ParallelWave, AResumeKeepsItsDedupShards) {
  HaltThenResume("parallel_halt_shards", " --dedup-shards 2");
}

TEST(ParallelWave, TheWindowPausesEveryEntityInFlightAndResumeFinishesTheWave) {
  // 05:50 UTC in a 03:00-06:00 window, a minute passing with each loaded
  // batch: the window closes with the tenth load, before either parent (24
  // batches each) is complete; the run pauses there and the child never
  // starts.
  ScratchDir dir("parallel_window");
  PrepareParallelPlan(dir.path(), "window: {start: \"03:00\", end: \"06:00\", tz: UTC}\n");
  const std::string run =
      "run " + dir / "plan.yaml" + " --local --json --state-dir " + dir.path() + "/state";
  auto paused = Shell("SLUICE_TEST_CLOCK=2026-11-23T05:50:00Z+60 " + Sluice(run));
  ASSERT_EQ(paused.exit_code, 4) << paused.out << paused.err;
  ASSERT_EQ(paused.json["status"], "paused") << paused.out;
  EXPECT_NE(paused.out.find("paused in wave all at a batch boundary"), std::string::npos)
      << paused.out;
  const std::string run_id = paused.json["run_id"];
  const std::string audit = dir / "state/audit.db";
  // Paused from the tenth load on: the loads the loader committed before it
  // read the pause are recorded (their rows are in the target, so their
  // fates are too), no entity finished (none has ledger rows), nothing of
  // the child extracted.
  const auto loads = Query(
      audit, "SELECT COUNT(*) FROM batches WHERE stage = 'load' AND run_id = '" + run_id + "'");
  ASSERT_EQ(loads.size(), 1u);
  EXPECT_GE(std::stoi(loads[0]), 10);
  EXPECT_EQ(Query(dir / "out/target.db", "SELECT COUNT(*) FROM sluice_xref"),
            Query(audit, "SELECT COUNT(*) FROM all_fates WHERE kind = 'loaded' AND run_id = '" +
                             run_id + "'"))
      << "every row in the target has its LOADED fate";
  EXPECT_EQ(Query(audit, "SELECT COUNT(*) FROM ledger WHERE run_id = '" + run_id + "'"),
            std::vector<std::string>{"0"});
  EXPECT_EQ(
      Query(audit, "SELECT COUNT(*) FROM batches WHERE entity = 'interaction' AND run_id = '" +
                       run_id + "'"),
      std::vector<std::string>{"0"});
  // Both parents were in flight when the window closed.
  EXPECT_EQ(Query(audit, "SELECT DISTINCT entity FROM batches WHERE run_id = '" + run_id +
                             "' ORDER BY entity"),
            (std::vector<std::string>{"account", "hcp"}));

  // In the next window the wave runs again from its start and completes.
  auto resumed = Shell("SLUICE_TEST_CLOCK=2026-11-24T03:30:00Z " +
                       Sluice("resume " + run_id + " --json --state-dir " + dir.path() + "/state"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  ExpectCompleteAndBalanced(resumed);
  EXPECT_EQ(Query(dir / "out/target.db", "SELECT COUNT(*) FROM sluice_xref"),
            std::vector<std::string>{std::to_string(2 * kParents + kVisits)});
}

}  // namespace
}  // namespace sluice::testing
