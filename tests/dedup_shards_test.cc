// Dedup scale-out over the real executables (issue 5, "Scale-out";
// docs/dedup.md#scale-out): the same fuzzy plan, m estimated by EM, run with
// 1, 2 and 4 dedup shards gives the same decisions, the same fate for every
// record and the same target; a kill -9 of one shard, while it ingests or
// while it emits, still ends in that same result.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "tests/harness.h"
#include "tests/supervision_testing.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;

// Doctors in two sources: the ERP repeats about a third of the CRM's with
// typos, swapped letters, accents and missing national ids; the CRM repeats
// one of its own keys (a rejection).
void WritePlan(const std::string& dir) {
  WriteFile(dir + "/model.yaml", R"(entities:
  hcp:
    fields:
      national_id: string
      first_name: string
      last_name: string
      postcode: string
      birth_date: date
)");
  static const char* kFirst[] = {"Anna", "Jean", "Paul", "Marie", "Louis", "Claire",
                                 "Hugo", "Léa",  "Emma", "Jules", "Chloé", "Lucas"};
  static const char* kLast[] = {"Martin",  "Dupont",   "Durand", "Bernard",  "Petit",  "Moreau",
                                "Laurent", "Simon",    "Michel", "Lefebvre", "Leroy",  "Roux",
                                "David",   "Bertrand", "Morel",  "Fournier", "Girard", "Bonnet"};
  std::mt19937 rng(20261122);
  std::string crm = "id,nid,first,last,postcode,born\n";
  std::string erp = "code,nid,first,last,postcode,born\n";
  for (int i = 0; i < 1500; ++i) {
    const std::string first = kFirst[rng() % 12];
    const std::string last = kLast[rng() % 18];
    const std::string postcode = std::to_string(75000 + rng() % 60);
    char born[16];
    std::snprintf(born, sizeof born, "19%02u-%02u-%02u", static_cast<unsigned>(40 + rng() % 50),
                  static_cast<unsigned>(1 + rng() % 12), static_cast<unsigned>(1 + rng() % 28));
    const std::string nid = rng() % 5 == 0 ? "" : "N" + std::to_string(100000 + i);
    crm += "C" + std::to_string(i) + "," + nid + "," + first + "," + last + "," + postcode + "," +
           born + "\n";
    if (i == 700) crm += "C7,N999999,Anna,Martin,75001,1950-01-01\n";  // repeated key
    if (rng() % 3 == 0) {
      std::string l = last, f = first;
      switch (rng() % 4) {
        case 0:
          std::swap(l[1], l[2]);
          break;
        case 1:
          l += "e";
          break;
        case 2:
          for (auto& c : f) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          break;
        default:
          break;
      }
      erp += "E" + std::to_string(i) + "," + (rng() % 3 == 0 ? "" : nid) + "," + f + "," + l + "," +
             postcode + "," + born + "\n";
    }
  }
  WriteFile(dir + "/crm.csv", crm);
  WriteFile(dir + "/erp.csv", erp);
  WriteFile(dir + "/plan.yaml", R"yaml(name: dedup_shards
model: model.yaml
batch_size: 250
sources:
  crm: {kind: csv, path: crm.csv, key: id}
  erp: {kind: csv, path: erp.csv, key: code}
mappings:
  - entity: hcp
    source: crm
    fields: {national_id: nid, first_name: first, last_name: last, postcode: postcode,
             birth_date: {from: born, format: "%Y-%m-%d"}}
  - entity: hcp
    source: erp
    fields: {national_id: nid, first_name: first, last_name: last, postcode: postcode,
             birth_date: {from: born, format: "%Y-%m-%d"}}
dedup:
  hcp:
    blocking:
      - {name: nid, on: [national_id]}
      - {name: sound_post, on: ["soundex(last_name)", postcode]}
      - {name: last3_year, on: ["prefix(last_name, 3)", "year(birth_date)"]}
      - {name: post_born, on: [postcode, birth_date]}
    max_block_size: 40
    rules:
      - {name: same_national_id, when: "national_id exact and jw(last_name) >= 0.8"}
      # Namesakes in one postcode born apart: for a steward (scored, their
      # blocking rule's EM gives them less than even odds: distinct).
      - {name: namesakes, when: "first_name exact and last_name exact and postcode exact and not date(birth_date) <= 31", decide: review}
    comparisons:
      - {field: first_name, comparator: jaro_winkler, thresholds: [0.92, 0.8]}
      - {field: last_name, comparator: jaro_winkler, thresholds: [0.94, 0.85]}
      - {field: birth_date, comparator: date, thresholds: [31]}
      - {field: postcode, comparator: exact}
    thresholds: {merge: 14, review: 8}
    estimation: {em_iterations: 20, u_sample_pairs: 20000}
    max_cluster_size: 3
    survivorship:
      source_priority: [crm, erp]
      fields: {national_id: non_null}
target: {kind: sqlite, path: target.db}
waves:
  - {name: doctors, entities: [hcp]}
)yaml");
}

// What must not depend on the shard count, read back from a run's folder.
struct Result {
  std::vector<std::string> decisions, fates, xref;
  std::string target;
};

Result Read(const std::string& dir) {
  Result r;
  const std::string audit = dir + "/state/audit.db";
  r.decisions = Query(audit,
                      "SELECT a_source, a_key, b_source, b_key, rule, band, score, outcome, "
                      "cluster, survivor FROM match_decisions "
                      "ORDER BY a_source, a_key, b_source, b_key");
  r.fates = Query(audit,
                  "SELECT source, key, kind, stage, rule, reason, survivor_source, survivor_key "
                  "FROM all_fates ORDER BY source, key, kind, stage, rule");
  const std::string db = dir + "/target.db";
  r.target = TargetDigest(db);
  // Every source key to the source key of the row it landed in (its own or
  // its survivor's): the cross-reference without the target ids.
  r.xref = Query(db,
                 "SELECT m.source, m.key, m.kind, l.source, l.key FROM sluice_xref m "
                 "JOIN sluice_xref l ON l.entity = m.entity AND l.target_id = m.target_id "
                 "AND l.kind = 'loaded' ORDER BY m.source, m.key");
  return r;
}

void ExpectReconciled(const CommandResult& run) {
  ASSERT_TRUE(run.json.is_object()) << run.out << run.err;
  EXPECT_EQ(run.json["status"], "completed") << run.out;
  for (const auto& e : run.json["entities"]) {
    EXPECT_TRUE(e["reconciled"].get<bool>()) << e.dump();
    EXPECT_EQ(e["extracted"].get<uint64_t>(),
              e["loaded"].get<uint64_t>() + e["merged"].get<uint64_t>() +
                  e["rejected"].get<uint64_t>() + e["review"].get<uint64_t>())
        << e.dump();
  }
}

void ExpectSame(const Result& got, const Result& want, const std::string& what) {
  EXPECT_EQ(got.decisions.size(), want.decisions.size()) << what;
  EXPECT_TRUE(got.decisions == want.decisions) << what << ": match decisions differ";
  EXPECT_EQ(got.fates.size(), want.fates.size()) << what;
  EXPECT_TRUE(got.fates == want.fates) << what << ": fates differ";
  EXPECT_EQ(got.target, want.target) << what;
  EXPECT_TRUE(got.xref == want.xref) << what << ": cross-reference differs";
}

// The shard logs a run left: one per dedup shard.
size_t ShardLogs(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir + "/state/shards")) {
    if (e.path().extension() == ".log") ++n;
  }
  return n;
}

// Records each dedup shard ingested (its ingest commits), by shard.
std::vector<uint64_t> Ingested(const std::string& dir, int shards) {
  std::vector<uint64_t> n;
  for (int s = 0; s < shards; ++s) {
    const std::string stage = s == 0 ? "dedup_ingest" : "dedup_ingest/" + std::to_string(s);
    auto rows = Query(dir + "/state/audit.db",
                      "SELECT COALESCE(SUM(n_in), 0) FROM batches WHERE stage = '" + stage + "'");
    n.push_back(rows.empty() ? 0 : std::stoull(rows[0]));
  }
  return n;
}

TEST(DedupShards, OneTwoAndFourShardsGiveTheSameDecisionsFatesAndTarget) {
  ScratchDir one("shards1");
  WritePlan(one.path());
  auto base = RunPlan(one.path());
  ASSERT_EQ(base.exit_code, 0) << base.out << base.err;
  ExpectReconciled(base);
  const Result want = Read(one.path());
  // The data exercises the deduper: merges, reviews, a rejection.
  EXPECT_GT(Sum(base.json, "merged"), 200u) << base.out;
  EXPECT_GT(Sum(base.json, "review"), 0u) << base.out;
  EXPECT_EQ(Sum(base.json, "rejected"), 1u) << base.out;
  EXPECT_GT(want.decisions.size(), 200u);
  EXPECT_EQ(ShardLogs(one.path()), 1u);

  for (int n : {2, 4}) {
    ScratchDir dir("shards" + std::to_string(n));
    WritePlan(dir.path());
    // 2 shards from the plan's own `dedup_shards`, 4 from the command line.
    std::string flag = "--dedup-shards " + std::to_string(n);
    if (n == 2) {
      std::ofstream(dir.path() + "/plan.yaml", std::ios::app) << "dedup_shards: 2\n";
      flag.clear();
    }
    auto run = RunPlan(dir.path(), flag);
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
    ExpectReconciled(run);
    EXPECT_EQ(ShardLogs(dir.path()), static_cast<size_t>(n));
    // Records are routed by key, not copied to every shard: each shard
    // holds its home records and the members of the blocks it owns, so a
    // record goes to at most 1 + 4 shards here (home, four blocking keys)
    // and together the shards hold every record at least once. On 2 shards
    // nearly every record meets one of its keys on each; on 4 a shard holds
    // about 1 - (3/4)^5 of them.
    const uint64_t all = Sum(run.json, "extracted");
    uint64_t held = 0;
    for (uint64_t part : Ingested(dir.path(), n)) {
      EXPECT_GT(part, 0u) << n << " shards";
      EXPECT_LT(part, n == 2 ? all : all * 17 / 20) << n << " shards: not routed by key";
      held += part;
    }
    EXPECT_GE(held, all - Sum(base.json, "rejected")) << n << " shards";
    EXPECT_LE(held, all * 5) << n << " shards";
    for (const char* field : {"extracted", "loaded", "merged", "rejected", "review"}) {
      EXPECT_EQ(Sum(run.json, field), Sum(base.json, field)) << field << " on " << n << " shards";
    }
    ExpectSame(Read(dir.path()), want, std::to_string(n) + " shards");
  }
}

// kill -9 of dedup shard 1 of 2: while it ingests (its log is replayed and
// the batches it had not made durable are extracted again), during the
// resolve rounds, and once it emits its output (the replacement rebuilds
// its part from the relayed edges and resends what was not loaded).
class KilledDedupShard : public ::testing::TestWithParam<const char*> {};

TEST_P(KilledDedupShard, RunCompletesAsWithoutTheKill) {
  ScratchDir clean("shards-clean");
  ScratchDir crash("shards-crash");
  WritePlan(clean.path());
  WritePlan(crash.path());
  auto a = RunPlan(clean.path(), "--dedup-shards 2");
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  auto b =
      RunPlan(crash.path(), std::string("--dedup-shards 2 --test-fault deduper-1:") + GetParam());
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  EXPECT_GE(b.json["restarts"].get<int>(), 1) << b.out;
  ExpectReconciled(b);
  ExpectSame(Read(crash.path()), Read(clean.path()), GetParam());
}

// 10 ingest batches (7 crm, 3 erp at 250 rows) reach each shard. Shard 1
// dies taking its 7th; or a few leases into the resolve rounds (the count
// of batches and leases it took); or in round 4 once it published its
// members (shard 0 may be fetching from it: it waits for the round again,
// with the replacement's endpoint); or as it starts its 2nd output batch
// (the replacement rebuilds its part from the relayed edges and resends).
// With the pre-round (a fuzzy plan): shard 1 dies in its rows step with its
// rows published (shard 0 may be fetching them: it waits for the rows lease
// again, with the replacement's endpoint; the replacement asks again); or a
// few leases after it (in rounds 1-3: the replacement takes its rows again
// before it compares).
INSTANTIATE_TEST_SUITE_P(Shard1, KilledDedupShard,
                         ::testing::Values("sigkill_after=6", "sigkill_after=11",
                                           "sigkill_in_preround", "sigkill_after=14",
                                           "sigkill_in_round4", "sigkill_before_output=1"));

// ---- guests by request (docs/dedup.md#guests-by-request) ----

// The guest rows each shard took in the pre-round, from its log line
// ("pre-round: took N guest row(s)"); -1 when it has none.
std::vector<long> RowsTaken(const std::string& dir, int shards) {
  std::vector<long> taken;
  const std::regex took("pre-round: took ([0-9]+) guest row");
  for (int s = 0; s < shards; ++s) {
    const std::string log =
        ReadFile(dir + "/state/logs/" + RunIdOf(dir) + "/deduper-" + std::to_string(s) + ".log");
    std::smatch m;
    taken.push_back(std::regex_search(log, m, took) ? std::stol(m[1]) : -1);
  }
  return taken;
}

// `sluice run` on 2 shards: the transformers send each shard its home
// records and their rows only, the coordinator relays the pre-round, each
// shard takes the rows of the other's records that pair with its blocks,
// and the run decides and loads what one shard does.
TEST(PreRound, TwoShardsTakeTheRowsThatPairAndDecideAsOne) {
  ScratchDir one("preround1");
  ScratchDir two("preround2");
  WritePlan(one.path());
  WritePlan(two.path());
  auto a = RunPlan(one.path(), "--log-level info");
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  auto b = RunPlan(two.path(), "--dedup-shards 2 --log-level info");
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  ExpectReconciled(b);
  ExpectSame(Read(two.path()), Read(one.path()), "2 shards with the pre-round");
  EXPECT_EQ(RowsTaken(one.path(), 1), std::vector<long>{-1}) << "no pre-round on one shard";
  // Each shard takes rows, fewer than the other shard's home records: only
  // those in a block of two or more that it owns.
  const std::vector<uint64_t> homes = Ingested(two.path(), 2);
  const std::vector<long> taken = RowsTaken(two.path(), 2);
  for (int s = 0; s < 2; ++s) {
    EXPECT_GT(taken[s], 0) << "shard " << s;
    EXPECT_LT(taken[s], static_cast<long>(homes[1 - s])) << "shard " << s;
  }
}

// ---- a resolution sent in parts (issue 16 item 5; docs/dedup.md#resolution-parts) ----

namespace resolve_parts {

// `sluice trace` of a merged, a held and a loaded record, without the run id,
// each trace's lines sorted: the stage lines of a batch come in the order
// its commits reached the coordinator (a load's may pass its dedup output's),
// which no run fixes.
std::string Traces(const std::string& dir) {
  const std::string run_id = RunIdOf(dir);
  std::string all;
  for (const char* kind : {"merged", "review", "loaded"}) {
    auto keys =
        Query(dir + "/state/audit.db", std::string("SELECT source || ':' || key FROM all_fates "
                                                   "WHERE kind = '") +
                                           kind + "' ORDER BY source, key LIMIT 2");
    for (const std::string& key : keys) {
      auto trace = Shell(BinDir() + "/sluice trace hcp " + key + " --state-dir " + dir + "/state");
      EXPECT_EQ(trace.exit_code, 0) << trace.err;
      std::string out = trace.out;
      for (size_t at; (at = out.find(run_id)) != std::string::npos;)
        out.replace(at, run_id.size(), "RUN");
      std::vector<std::string> lines;
      for (size_t from = 0, nl; from < out.size(); from = nl + 1) {
        nl = out.find('\n', from);
        if (nl == std::string::npos) nl = out.size();
        lines.push_back(out.substr(from, nl - from));
      }
      std::sort(lines.begin(), lines.end());
      for (const std::string& line : lines) all += line + "\n";
    }
  }
  return all;
}

// Decisions, fates, target and traces of a run in parts of one decision each
// (hundreds of parts) are those of a run that sent the resolution whole.
TEST(ResolveParts, OneDecisionPerPartGivesTheSameRunAsOnePart) {
  ScratchDir whole("parts-whole");
  ScratchDir parts("parts-one-each");
  WritePlan(whole.path());
  WritePlan(parts.path());
  auto a = RunPlan(whole.path());
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  auto b = RunPlan(parts.path(), "--test-fault deduper:resolve_part_bytes=1");
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  ExpectReconciled(b);
  const Result want = Read(whole.path());
  EXPECT_GT(want.decisions.size(), 200u);
  ExpectSame(Read(parts.path()), want, "one decision per part");
  const std::string traces = Traces(whole.path());
  EXPECT_NE(traces.find("MATCH DECISION"), std::string::npos) << traces;
  EXPECT_EQ(Traces(parts.path()), traces);
  for (const char* field : {"extracted", "loaded", "merged", "rejected", "review"}) {
    EXPECT_EQ(Sum(b.json, field), Sum(a.json, field)) << field;
  }
}

// A deduper killed -9 between two parts: the half-sent resolution is not
// counted; the resolve is leased again and the run ends as without the kill.
TEST(ResolveParts, ADeduperKilledBetweenPartsEndsAsWithoutTheKill) {
  ScratchDir clean("parts-clean");
  ScratchDir crash("parts-killed");
  WritePlan(clean.path());
  WritePlan(crash.path());
  auto a = RunPlan(clean.path());
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  auto b = RunPlan(crash.path(), "--test-fault deduper:sigkill_after_resolve_parts=120");
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  EXPECT_GE(b.json["restarts"].get<int>(), 1) << b.out;
  ExpectReconciled(b);
  ExpectSame(Read(crash.path()), Read(clean.path()), "deduper killed between parts");
}

// The coordinator killed -9 between two parts it recorded: `sluice resume`
// forgets them and ends the run as without the kill.
TEST(ResolveParts, ACoordinatorKilledBetweenPartsResumesToTheSameRun) {
  ScratchDir clean("parts-coord-clean");
  ScratchDir crash("parts-coord-killed");
  WritePlan(clean.path());
  WritePlan(crash.path());
  auto a = RunPlan(clean.path());
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  auto killed = RunPlan(crash.path(),
                        "--test-fault deduper:resolve_part_bytes=1 "
                        "--test-fault coordinator:sigkill_at=dedup_resolve:60");
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.out << killed.err;
  const std::string run_id = RunIdOf(crash.path());
  // Parts were recorded when it died.
  EXPECT_FALSE(Query(crash.path() + "/state/audit.db",
                     "SELECT 1 FROM fates WHERE batch LIKE '%dedup/0/resolve%' LIMIT 1")
                   .empty());
  auto resumed = Resume(crash.path(), run_id);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  ASSERT_EQ(resumed.json["status"], "completed") << resumed.out;
  ExpectSame(Read(crash.path()), Read(clean.path()), "coordinator killed between parts");
}

// On two dedup shards, shard 1 killed between two parts: its replacement
// answers round 4 again from part 0.
TEST(ResolveParts, ADedupShardKilledBetweenPartsEndsAsWithoutTheKill) {
  ScratchDir clean("parts-shards-clean");
  ScratchDir crash("parts-shards-killed");
  WritePlan(clean.path());
  WritePlan(crash.path());
  auto a = RunPlan(clean.path(), "--dedup-shards 2");
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  auto b = RunPlan(crash.path(),
                   "--dedup-shards 2 --test-fault deduper-1:sigkill_after_resolve_parts=60");
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  EXPECT_GE(b.json["restarts"].get<int>(), 1) << b.out;
  ExpectReconciled(b);
  ExpectSame(Read(crash.path()), Read(clean.path()), "dedup shard killed between parts");
}

// Traces without target ids: on N shards the shards' output batches reach
// the loader in no fixed order, which numbers the rows.
std::string TracesOfShards(const std::string& dir) {
  static const std::regex kTargetId("target id:? [0-9]+");
  return std::regex_replace(Traces(dir), kTargetId, "target id #");
}

// On two dedup shards, every shard's resolution in parts of one item each,
// written aside by the coordinator as they arrive and merged into parts of
// one item each (the fault cuts both): the same decisions, fates, target and traces as whole parts.
TEST(ResolveParts, OnTwoShardsOneItemPerPartGivesTheSameRunAsWholeParts) {
  ScratchDir whole("parts-2-whole");
  ScratchDir parts("parts-2-one-each");
  WritePlan(whole.path());
  WritePlan(parts.path());
  auto a = RunPlan(whole.path(), "--dedup-shards 2");
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  auto b = RunPlan(parts.path(), "--dedup-shards 2 --test-fault deduper:resolve_part_bytes=1");
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  ExpectReconciled(b);
  ExpectSame(Read(parts.path()), Read(whole.path()), "two shards, one item per part");
  EXPECT_EQ(TracesOfShards(parts.path()), TracesOfShards(whole.path()));
  // Nothing of the resolution waits in the state folder once recorded.
  EXPECT_FALSE(fs::exists(parts.path() + "/state/resolving/hcp"));
}

// Items of the resolution the coordinator records: with one item a part,
// how many parts the shards send together, and it merges again.
uint64_t ResolutionItems(const std::string& dir) {
  const std::string audit = dir + "/state/audit.db";
  uint64_t n = 0;
  for (const char* sql :
       {"SELECT COUNT(*) FROM match_decisions", "SELECT COUNT(*) FROM golden_records",
        "SELECT COUNT(*) FROM fates WHERE stage = 'dedup'",
        "SELECT COUNT(*) FROM review_items WHERE stage = 'dedup'"}) {
    n += std::stoull(Query(audit, sql).at(0));
  }
  return n;
}

// The coordinator of two dedup shards killed -9 mid-resolve, as the shards'
// parts arrive (`early`) or as it records their merged parts (`late`):
// `sluice resume` forgets what it recorded and ends as without the kill.
class KilledCoordinatorOnTwoShards : public ::testing::TestWithParam<const char*> {};

TEST_P(KilledCoordinatorOnTwoShards, ResumesToTheSameRun) {
  const bool late = std::string(GetParam()) == "late";
  ScratchDir clean(std::string("parts-2-coord-clean-") + GetParam());
  ScratchDir crash(std::string("parts-2-coord-killed-") + GetParam());
  WritePlan(clean.path());
  WritePlan(crash.path());
  auto a = RunPlan(clean.path(), "--dedup-shards 2");
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  // The shards send `items` parts; then the coordinator records as many.
  const uint64_t items = ResolutionItems(clean.path());
  ASSERT_GT(items, 200u);
  const uint64_t at = late ? items + items / 2 : 60;
  auto killed = RunPlan(crash.path(),
                        "--dedup-shards 2 --test-fault deduper:resolve_part_bytes=1 "
                        "--test-fault coordinator:sigkill_at=dedup_resolve:" +
                            std::to_string(at));
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.out << killed.err;
  const std::string run_id = RunIdOf(crash.path());
  // Merged parts were recorded when it died late; none early.
  EXPECT_EQ(Query(crash.path() + "/state/audit.db",
                  "SELECT 1 FROM fates WHERE batch LIKE '%dedup/resolve%' LIMIT 1")
                .empty(),
            !late);
  auto resumed = Resume(crash.path(), run_id);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  ASSERT_EQ(resumed.json["status"], "completed") << resumed.out;
  ExpectSame(Read(crash.path()), Read(clean.path()), "coordinator of two shards killed");
  EXPECT_EQ(TracesOfShards(crash.path()), TracesOfShards(clean.path()));
}

INSTANTIATE_TEST_SUITE_P(TwoShards, KilledCoordinatorOnTwoShards,
                         ::testing::Values("early", "late"));

}  // namespace resolve_parts

}  // namespace
}  // namespace sluice::testing
