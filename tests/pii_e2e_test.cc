// Issue 19, item 1, end to end: a rehearsal environment with
// `pii: {mode: pseudonymise}` runs the real executables over sources full of
// recognisable personal data; no value of it may appear in anything the run
// wrote (target, state folder: audit store, shard logs, reports), in its
// stdout/stderr, nor in what `sluice trace`, `sluice errors`, `sluice review
// export` and `sluice runs` print. Dedup (exact key and fuzzy rules) still
// forms the same clusters as the unmasked run, and a second masked run
// changes nothing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;

std::string Sluice() { return BinDir() + "/sluice"; }

// Every personal value of the sources, as written there and as the
// transformer would normalise it (E.164 phones, ISO dates, lower-case
// e-mails).
const std::vector<std::string> kPersonal = {
    // names
    "Anouk", "ANOUK", "Quatremare", "QUATREMARE", "Barnabe", "Zylberstein", "Capucine",
    "Vanderlinden", "Desire", "Oberkampf", "Eulalie", "Marchetti", "Fulgence", "Tourneboeuf",
    // e-mails (and their distinctive local parts)
    "anouk.quatremare", "Anouk.Quatremare", "b.zylberstein", "capucine.v", "desire.oberkampf",
    "eulalie.mf", "fulgence.t", "hopital-nord", "Hopital-Nord",
    // phones
    "06 71 82 93 04", "+33671829304", "671829304", "645192837", "06 45 19 28 37", "611223399",
    "698765432", "655443322", "BADPHONE",
    // national ids
    "2850775123456", "1720369876543", "2910512344321", "1660188877766", "2450299988877",
    "2770644455566", "2770644455567", "2660512312312",
    // the row with a name for a key
    "sephine", "Kowalczyk", "06 12 12 12 12",
    // birth dates
    "14/07/1985", "1985-07-14", "03/03/1972", "1972-03-03", "21/05/1991", "1991-05-21",
    "09/01/1966", "1966-01-09", "28/02/1945", "1945-02-28", "30/06/1977", "1977-06-30"};

void PreparePlan(const ScratchDir& dir) {
  WriteFile(dir / "model.yaml", R"(entities:
  hcp:
    fields:
      national_id: {type: string, pii: true}
      first_name: {type: string, pii: true}
      last_name: {type: string, required: true, pii: true}
      email: {type: string, pii: true}
      phone: {type: string, pii: true}
      birth_date: {type: date, pii: true}
      city: {type: string}
      specialty: {type: enum, values: [cardiology, general_practice]}
)");
  // C3's specialty is unmapped (held for review), C4's phone does not parse
  // (rejected), C5's row misses a column (rejected by the extractor, its
  // raw text kept). C6 and E3 are one person under two national ids. The
  // last row has a name where its key should be, and a stray quote in it
  // (rejected by the extractor: keyed by its line).
  WriteFile(dir / "crm.csv",
            "hcp_id,nir,first,last,mail,tel,dob,city,spec\n"
            "C1,2850775123456,Anouk,Quatremare,anouk.quatremare@hopital-nord.fr,"
            "06 71 82 93 04,14/07/1985,Lyon,CARD\n"
            "C2,1720369876543,Barnabe,Zylberstein,b.zylberstein@clinique-est.fr,"
            "06 45 19 28 37,03/03/1972,Paris,GP\n"
            "C3,2910512344321,Capucine,Vanderlinden,capucine.v@cabinet-sud.fr,"
            "06 11 22 33 99,21/05/1991,Nantes,XX\n"
            "C4,1660188877766,Desire,Oberkampf,desire.oberkampf@ehpad-ouest.fr,"
            "01 BADPHONE,09/01/1966,Lille,GP\n"
            "C5,2450299988877,Eulalie,Marchetti,eulalie.mf@exemple-hopital.fr,"
            "06 98 76 54 32,28/02/1945,Brest\n"
            "C6,2770644455567,Fulgence,Tourneboeuf,fulgence.t@maison-sante.fr,"
            "06 55 44 33 22,30/06/1977,Dijon,CARD\n"
            "Jo\"sephine Kowalczyk,2660512312312,Josephine,Kowalczyk,jk@cabinet.fr,"
            "06 12 12 12 12,12/05/1966,Metz,GP\n");
  WriteFile(dir / "erp.csv",
            "id,national_id,given_name,family_name,email,phone,birth_date,city,specialty\n"
            "E1,2850775123456,ANOUK,QUATREMARE,Anouk.Quatremare@Hopital-Nord.fr,"
            "+33671829304,14/07/1985,Lyon,CARD\n"
            "E2,1720369876543,Barnabe,Zylberstein,b.zylberstein@clinique-est.fr,"
            "+33 6 45 19 28 37,03/03/1972,Paris,GP\n"
            "E3,2770644455566,Fulgence,Tourneboeuf,fulgence.t@maison-sante.fr,"
            "+33 6 55 44 33 22,30/06/1977,Dijon,CARD\n");
  WriteFile(dir / "plan.yaml", R"(name: rehearsal
model: model.yaml
sources:
  crm: {kind: csv, path: crm.csv, key: hcp_id}
  erp: {kind: csv, path: erp.csv, key: id}
mappings:
  - entity: hcp
    source: crm
    fields:
      national_id: nir
      first_name: first
      last_name: last
      email: {from: mail, email: true}
      phone: {from: tel, phone: true, region: FR}
      birth_date: {from: dob, format: "%d/%m/%Y"}
      city: city
      specialty: {from: spec, map: {CARD: cardiology, GP: general_practice}, on_error: review}
  - entity: hcp
    source: erp
    fields:
      national_id: national_id
      first_name: given_name
      last_name: family_name
      email: {from: email, email: true}
      phone: {from: phone, phone: true, region: FR}
      birth_date: {from: birth_date, format: "%d/%m/%Y"}
      city: city
      specialty: {from: specialty, map: {CARD: cardiology, GP: general_practice}}
dedup:
  hcp:
    key: national_id
    blocking:
      - {name: birth, on: [birth_date]}
    rules:
      - {name: same_person, when: "first_name exact and last_name exact and email exact", decide: merge}
    survivorship: {source_priority: [erp, crm]}
validation:
  hcp:
    - {name: nid_starts_with_1, kind: regex, field: national_id, pattern: "^1", severity: warning}
target: {kind: sqlite, path: out/target.db}
waves:
  - {name: hcp, entities: [hcp]}
environments:
  sandbox:
    pii: {mode: drop}
  staging:
    pii: {mode: pseudonymise, key: "${env:SLUICE_PII_KEY}"}
  prod: ~
)");
}

// Each file under `root`, read whole.
std::vector<std::pair<std::string, std::string>> FilesUnder(const std::string& root) {
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(root, ec)) {
    if (e.is_regular_file()) files.emplace_back(e.path().string(), ReadFile(e.path().string()));
  }
  return files;
}

// The clusters of the target: the source keys sharing a target row, as sets.
std::set<std::set<std::string>> Clusters(const std::string& db) {
  std::map<std::string, std::set<std::string>> by_row;
  for (const std::string& row :
       Query(db, "SELECT target_id || '|' || source || ':' || key FROM sluice_xref")) {
    const size_t bar = row.find('|');
    by_row[row.substr(0, bar)].insert(row.substr(bar + 1));
  }
  std::set<std::set<std::string>> out;
  for (auto& [id, keys] : by_row) out.insert(keys);
  return out;
}

// The cities of the target's rows, sorted (a field not marked pii).
std::string Cities(const std::string& db) {
  return Query(db, "SELECT group_concat(city, ',') FROM (SELECT city FROM hcp ORDER BY city)")[0];
}

// What a rehearsal wrote and printed: every file under the state and target
// folders of `dir`, the review export, and what each command printed.
class Outputs {
 public:
  void Keep(const std::string& what, const CommandResult& r) {
    printed_.emplace_back(what + " (stdout)", r.out);
    printed_.emplace_back(what + " (stderr)", r.err);
  }
  void KeepFile(const std::string& path) { printed_.emplace_back(path, ReadFile(path)); }

  // Searches all of them for each of kPersonal; prints what was searched.
  void ExpectNoPersonalValue(const ScratchDir& dir) const {
    std::vector<std::pair<std::string, std::string>> outputs = FilesUnder(dir / "state");
    for (auto& f : FilesUnder(dir / "out")) outputs.push_back(std::move(f));
    for (const auto& p : printed_) outputs.push_back(p);
    size_t bytes = 0;
    for (const auto& [name, text] : outputs) {
      bytes += text.size();
      for (const std::string& value : kPersonal) {
        EXPECT_EQ(text.find(value), std::string::npos) << "'" << value << "' in " << name;
      }
    }
    EXPECT_GT(outputs.size(), 10u);
    EXPECT_GT(bytes, 10000u);
    std::cout << "searched " << outputs.size() << " outputs (" << bytes << " bytes) for "
              << kPersonal.size() << " personal values\n";
  }

 private:
  std::vector<std::pair<std::string, std::string>> printed_;
};

// `sluice trace` of the records the tests follow, `errors`, `review export`
// (to held.csv) and `runs` of `run` in `dir`, kept in `*outputs`.
void ReadTheAuditTrail(const ScratchDir& dir, const std::string& run, Outputs* outputs) {
  const std::string state = " --state-dir " + dir.path() + "/state";
  for (const char* key : {"crm:C1", "erp:E1", "crm:C3", "crm:C4", "crm:C6", "erp:E3"}) {
    CommandResult trace = Shell(Sluice() + " trace hcp " + key + state);
    EXPECT_EQ(trace.exit_code, 0) << key << trace.out << trace.err;
    outputs->Keep(std::string("trace ") + key, trace);
  }
  CommandResult errors = Shell(Sluice() + " errors " + run + state);
  EXPECT_EQ(errors.exit_code, 0) << errors.err;
  EXPECT_NE(errors.out.find("withheld"), std::string::npos) << errors.out;    // C5's raw row
  EXPECT_NE(errors.out.find("crm:line:8"), std::string::npos) << errors.out;  // no key
  outputs->Keep("errors", errors);
  const std::string exported = dir / "held.csv";
  CommandResult review = Shell(Sluice() + " review export " + run + " --out " + exported + state);
  EXPECT_EQ(review.exit_code, 0) << review.out << review.err;
  EXPECT_NE(ReadFile(exported).find("C3"), std::string::npos) << ReadFile(exported);
  outputs->Keep("review export", review);
  outputs->KeepFile(exported);
  outputs->Keep("runs", Shell(Sluice() + " runs" + state));
}

class PiiEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override { setenv("SLUICE_PII_KEY", "rehearsal-key-for-the-pii-e2e-test", 1); }
  void TearDown() override { unsetenv("SLUICE_PII_KEY"); }
};

TEST_F(PiiEndToEnd, NoPersonalValueInAnyOutputAndTheSameClusters) {
  // The plain run (no environment: nothing masked) as the reference.
  ScratchDir plain("pii-plain");
  PreparePlan(plain);
  CommandResult reference = RunPlan(plain.path());
  ASSERT_EQ(reference.exit_code, 0) << reference.out << reference.err;
  ASSERT_EQ(reference.json["status"], "completed") << reference.out;
  // The plain target does hold the values (read through SQLite: they may
  // still sit in its WAL file).
  EXPECT_EQ(Query(plain / "out/target.db",
                  "SELECT count(*) FROM hcp WHERE phone = '+33671829304' AND "
                  "lower(email) LIKE 'anouk.quatremare@%'")[0],
            "1");

  ScratchDir dir("pii-masked");
  PreparePlan(dir);
  const std::string plan = dir / "plan.yaml";
  Outputs outputs;

  CommandResult check = Shell(Sluice() + " plan check " + plan + " --env staging");
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("note: pii: pseudonymise (environment staging): hcp.national_id as "
                           "identifier, hcp.first_name as name, hcp.last_name as name, hcp.email "
                           "as email, hcp.phone as phone, hcp.birth_date as date; the raw text of "
                           "rows rejected from crm, erp is withheld"),
            std::string::npos)
      << check.out;
  outputs.Keep("plan check", check);

  CommandResult first = RunPlan(dir.path(), "--env staging");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  ASSERT_EQ(first.json["status"], "completed") << first.out;
  outputs.Keep("run", first);
  const std::string run = first.json["run_id"];

  // The same fates as the unmasked run: C3 held, C4 and C5 rejected, E1/C1,
  // E2/C2 merged on the national id and C6/E3 by the fuzzy rule.
  for (const char* what : {"extracted", "loaded", "merged", "rejected", "review"}) {
    EXPECT_EQ(Sum(first.json, what), Sum(reference.json, what)) << what << first.out;
  }
  EXPECT_EQ(Sum(first.json, "merged"), 3u) << first.out;
  EXPECT_EQ(Sum(first.json, "rejected"), 3u) << first.out;
  EXPECT_EQ(Sum(first.json, "review"), 1u) << first.out;
  const std::string db = dir / "out/target.db";
  EXPECT_EQ(Clusters(db), Clusters(plain / "out/target.db"));
  // Pseudonyms of the same shapes.
  EXPECT_EQ(Query(db, "SELECT count(*) FROM hcp WHERE email NOT LIKE '%@example.invalid'")[0], "0");
  EXPECT_EQ(Query(db,
                  "SELECT count(*) FROM hcp WHERE phone NOT GLOB '+33[0-9]*' OR "
                  "length(phone) != 12")[0],
            "0");
  EXPECT_EQ(Query(db,
                  "SELECT count(*) FROM hcp WHERE national_id NOT GLOB "
                  "'[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'")[0],
            "0");
  EXPECT_EQ(Query(db,
                  "SELECT group_concat(substr(birth_date, 1, 4), ',') FROM "
                  "(SELECT birth_date FROM hcp ORDER BY birth_date)")[0],
            "1972,1977,1985");
  EXPECT_EQ(Cities(db), "Dijon,Lyon,Paris");  // not pii: as it was

  // What the auditor and the steward read.
  ReadTheAuditTrail(dir, run, &outputs);

  // A second masked run: the same pseudonyms, so nothing changes.
  const std::string digest = TargetDigest(db);
  CommandResult second = RunPlan(dir.path(), "--env staging");
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  outputs.Keep("second run", second);
  EXPECT_EQ(Sum(second.json, "inserted"), 0u) << second.out;
  EXPECT_EQ(Sum(second.json, "updated"), 0u) << second.out;
  EXPECT_EQ(TargetDigest(db), digest);

  // Every file the runs and commands wrote (the data files excepted), and
  // everything they printed.
  outputs.ExpectNoPersonalValue(dir);
}

// `mode: drop`: every pii field is NULL in the target, and no personal value
// is anywhere the run wrote or printed.
TEST_F(PiiEndToEnd, DropLeavesEveryPiiFieldEmpty) {
  ScratchDir dir("pii-drop");
  PreparePlan(dir);
  Outputs outputs;
  CommandResult check = Shell(Sluice() + " plan check " + dir.path() + "/plan.yaml --env sandbox");
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  outputs.Keep("plan check", check);
  CommandResult r = RunPlan(dir.path(), "--env sandbox");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(r.json["status"], "completed") << r.out;
  outputs.Keep("run", r);
  // The same fates as a masked run, but nothing to merge on: the national
  // ids, names and e-mails dedup compares are all NULL.
  EXPECT_EQ(Sum(r.json, "extracted"), 10u) << r.out;
  EXPECT_EQ(Sum(r.json, "merged"), 0u) << r.out;
  EXPECT_EQ(Sum(r.json, "rejected"), 3u) << r.out;  // C4's phone, C5's row, line 8
  EXPECT_EQ(Sum(r.json, "review"), 1u) << r.out;    // C3's specialty
  EXPECT_EQ(Sum(r.json, "loaded"), 6u) << r.out;

  const std::string db = dir / "out/target.db";
  EXPECT_EQ(Query(db,
                  "SELECT count(*) FROM hcp WHERE national_id IS NOT NULL OR first_name IS NOT "
                  "NULL OR last_name IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL OR "
                  "birth_date IS NOT NULL")[0],
            "0");
  EXPECT_EQ(Cities(db), "Dijon,Dijon,Lyon,Lyon,Paris,Paris");  // not pii: as it was
  ReadTheAuditTrail(dir, r.json["run_id"], &outputs);
  outputs.ExpectNoPersonalValue(dir);
}

// `sluice profile` prints the sources' real values: refused under a mode,
// with no personal value in what it prints; run on the production side.
TEST_F(PiiEndToEnd, ProfileIsRefusedUnderAMode) {
  ScratchDir dir("pii-profile");
  PreparePlan(dir);
  const std::string profile = Sluice() + " profile " + dir.path() + "/plan.yaml";
  for (const std::string env : {"staging", "sandbox"}) {
    CommandResult r = Shell(profile + " --env " + env);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    const std::string mode = env == "staging" ? "pseudonymise" : "drop";
    EXPECT_NE(r.err.find("profile refused: environment " + env + " masks pii (mode " + mode +
                         "), and a profile shows the real values (top values, min and max, "
                         "shapes) of the columns of crm, erp that fill hcp.national_id, "
                         "hcp.first_name, hcp.last_name, hcp.email, hcp.phone, hcp.birth_date: "
                         "profile on the production side"),
              std::string::npos)
        << r.err;
    for (const std::string& value : kPersonal) {
      EXPECT_EQ((r.out + r.err).find(value), std::string::npos) << value;
    }
  }
  CommandResult prod = Shell(profile + " --env prod --json");
  EXPECT_EQ(prod.exit_code, 0) << prod.out << prod.err;
  EXPECT_NE(prod.out.find("Quatremare"), std::string::npos);  // the production side sees them
}

TEST_F(PiiEndToEnd, PlanCheckWarnsOfAnUnmaskedRehearsalAndRefusesAMissingKey) {
  ScratchDir dir("pii-check");
  PreparePlan(dir);
  std::string plan = ReadFile(dir / "plan.yaml");
  plan.replace(plan.find("  staging:\n    pii"), std::string::npos, "  staging: ~\n  prod: ~\n");
  WriteFile(dir / "plan.yaml", plan);
  CommandResult check = Shell(Sluice() + " plan check " + dir.path() + "/plan.yaml");
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("warning: environment staging copies 6 pii fields as they are"),
            std::string::npos)
      << check.out;
  EXPECT_EQ(check.out.find("environment prod copies"), std::string::npos) << check.out;

  PreparePlan(dir);
  unsetenv("SLUICE_PII_KEY");
  CommandResult run = RunPlan(dir.path(), "--env staging");
  EXPECT_NE(run.exit_code, 0) << run.out;
  EXPECT_NE((run.out + run.err)
                .find("environments.staging.pii.key: secret "
                      "${env:SLUICE_PII_KEY}: environment variable "
                      "SLUICE_PII_KEY is not set"),
            std::string::npos)
      << run.out << run.err;
}

}  // namespace
}  // namespace sluice::testing
