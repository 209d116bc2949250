// Issue 19, the legacy long tail end to end: a Windows-1252 fixed-width
// mainframe export consolidated with a UTF-8 CSV through the real
// executables; profiled; checked by `sluice plan check`.
#include <gtest/gtest.h>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

std::string Sluice() { return BinDir() + "/sluice"; }

// A CRM export (UTF-8 CSV) and a host export (windows-1252, fixed width,
// header/detail/trailer record types) of overlapping HCPs. The host's line
// 4 holds 0x81, which windows-1252 has no character for.
void PrepareLegacyPlan(const ScratchDir& dir) {
  WriteFile(dir / "model.yaml", R"(entities:
  hcp:
    fields:
      national_id: {type: string, pii: true}
      first_name: {type: string, pii: true}
      last_name: {type: string, required: true, pii: true}
      city: {type: string}
)");
  WriteFile(dir / "crm.csv",
            "hcp_id,national_id,first_name,last_name,city\n"
            "C1,FR10000000001,Helene,Dupre,Orleans\n"
            "C2,FR10000000002,Marc,Roux,Lyon\n");
  // type(1) id(4) national_id(13) first_name(10) last_name(10) city(10)
  WriteFile(dir / "host.dat",
            "H20261206 EXPORT HCP\r\n"
            "D0001FR10000000001H\xE9l\xE8ne    Dupr\xE9     Orl\xE9"
            "ans   \r\n"
            "D0002FR10000000003Fran\xE7oise Garc\xED"
            "a    N\xEEmes     \r\n"
            "D0003FR10000000004Jos\x81      Martin    Paris     \r\n"
            "T0003\r\n");
  WriteFile(dir / "plan.yaml", R"(name: legacy
model: model.yaml
sources:
  crm: {kind: csv, path: crm.csv, key: hcp_id}
  host:
    kind: fixed_width
    path: host.dat
    key: id
    encoding: windows-1252
    record_type: type=D
    layout: |
      type 1
      id 4
      national_id 13
      first_name 10
      last_name 10
      city 10
mappings:
  - entity: hcp
    source: crm
    fields: {national_id: national_id, first_name: first_name, last_name: last_name, city: city}
  - entity: hcp
    source: host
    fields: {national_id: national_id, first_name: first_name, last_name: last_name, city: city}
dedup:
  hcp: {key: national_id, survivorship: {source_priority: [host, crm]}}
target: {kind: sqlite, path: out/target.db}
waves:
  - {name: hcp, entities: [hcp]}
)");
}

TEST(LegacyEndToEnd, FixedWidthWindows1252IsConsolidated) {
  ScratchDir dir("legacy-fw");
  PrepareLegacyPlan(dir);
  CommandResult check = Shell(Sluice() + " plan check " + dir.path() + "/plan.yaml");
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;

  CommandResult r = RunPlan(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(r.json["status"], "completed") << r.out;
  auto rows = Rows(r.json);
  const auto& host = rows[{"hcp", "host"}];
  EXPECT_EQ(host["extracted"], 3u) << host.dump();  // the detail lines only
  EXPECT_EQ(host["rejected"], 1u) << host.dump();   // the line holding 0x81
  EXPECT_EQ(Sum(r.json, "merged"), 1u) << r.out;    // FR10000000001 in both
  EXPECT_EQ(Sum(r.json, "loaded"), 3u) << r.out;

  // The host's windows-1252 text arrives as UTF-8, cut at the right places.
  const std::string db = dir / "out/target.db";
  EXPECT_EQ(Query(db,
                  "SELECT first_name || '|' || last_name || '|' || city FROM hcp "
                  "WHERE national_id = 'FR10000000001'"),
            std::vector<std::string>{"H\xC3\xA9l\xC3\xA8ne|Dupr\xC3\xA9|Orl\xC3\xA9"
                                     "ans"});
  EXPECT_EQ(Query(db,
                  "SELECT first_name || '|' || city FROM hcp "
                  "WHERE national_id = 'FR10000000003'"),
            std::vector<std::string>{"Fran\xC3\xA7oise|N\xC3\xAEmes"});

  // The rejected line is in the error log with its line and the byte in hex.
  const std::string run = r.json["run_id"];
  CommandResult errors =
      Shell(Sluice() + " errors " + run + " --state-dir " + dir.path() + "/state");
  ASSERT_EQ(errors.exit_code, 0) << errors.err;
  EXPECT_NE(errors.out.find("cannot convert byte 0x81 from windows-1252 at byte"),
            std::string::npos)
      << errors.out;

  // Profiling reads the fixed-width source like any other.
  CommandResult profile = Shell(Sluice() + " profile " + dir.path() + "/plan.yaml --json");
  ASSERT_EQ(profile.exit_code, 0) << profile.err;
  ASSERT_EQ(profile.json["sources"].size(), 2u) << profile.out;
  EXPECT_EQ(profile.json["sources"][1]["name"], "host");
  EXPECT_EQ(profile.json["sources"][1]["rows"], 2) << profile.json["sources"][1].dump();
}

TEST(LegacyEndToEnd, PlanCheckNamesTheWrongColumn) {
  ScratchDir dir("legacy-check");
  PrepareLegacyPlan(dir);
  std::string plan = ReadFile(dir / "plan.yaml");
  plan.replace(plan.rfind("city: city"), 10, "city: ctiy");
  WriteFile(dir / "plan.yaml", plan);
  CommandResult check = Shell(Sluice() + " plan check " + dir.path() + "/plan.yaml");
  EXPECT_EQ(check.exit_code, 2) << check.out;
  EXPECT_NE(check.out.find("mappings[1].fields.city.from: source has no column 'ctiy' "
                           "(did you mean 'city'?)"),
            std::string::npos)
      << check.out;
}

}  // namespace
}  // namespace sluice::testing
