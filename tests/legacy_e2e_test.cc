// Issue 19, the legacy long tail end to end: a Windows-1252 fixed-width
// mainframe export consolidated with a UTF-8 CSV through the real
// executables; profiled; checked by `sluice plan check`.
#include <gtest/gtest.h>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

std::string Sluice() { return BinDir() + "/sluice"; }

// Checks the plan of `dir` with `sluice plan check`, then runs it.
CommandResult CheckAndRun(const std::string& dir) {
  CommandResult check = Shell(Sluice() + " plan check " + dir + "/plan.yaml");
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  CommandResult r = RunPlan(dir);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return r;
}

// `sluice errors` of `run`.
CommandResult ErrorLog(const std::string& dir, const std::string& run) {
  return Shell(Sluice() + " errors " + run + " --state-dir " + dir + "/state");
}

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
  CommandResult r = CheckAndRun(dir.path());
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
  CommandResult errors = ErrorLog(dir.path(), r.json["run_id"]);
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

// A mainframe dataset as it leaves z/OS: EBCDIC cp037, fixed-length records
// of 32 bytes without line ends, a COMP-3 balance and a zoned count.
TEST(LegacyEndToEnd, EbcdicRecordsWithPackedDecimals) {
  ScratchDir dir("legacy-ebcdic");
  WriteFile(dir / "model.yaml", R"yaml(entities:
  account:
    fields:
      name: {type: string, required: true}
      balance: {type: "decimal(9,2)"}
      visits: {type: int}
)yaml");
  // type(1) id(5) name(12) balance(5, packed, 2 decimals) visits(4, zoned)
  // filler(5); in cp037: 'D' C4, '0'-'9' F0-F9, 'A'-'I' C1-C9, 'J'-'R' D1-D9,
  // 'S'-'Z' E2-E9, space 40, '@' for e acute 51, '{' C0, '}' D0.
  auto record = [](std::string_view text, std::string_view packed) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c >= '0' && c <= '9') out.push_back(static_cast<char>(0xF0 + (c - '0')));
      if (c >= 'A' && c <= 'I') out.push_back(static_cast<char>(0xC1 + (c - 'A')));
      if (c >= 'J' && c <= 'R') out.push_back(static_cast<char>(0xD1 + (c - 'J')));
      if (c >= 'S' && c <= 'Z') out.push_back(static_cast<char>(0xE2 + (c - 'S')));
      if (c == ' ') out.push_back('\x40');
      if (c == '@') out.push_back('\x51');  // e acute
      if (c == '{') out.push_back('\xC0');
      if (c == '}') out.push_back('\xD0');
      if (i == 17) out.append(packed);
    }
    return out;
  };
  using namespace std::literals;
  std::string data = record("H00000HEADER      0000     ", "\x00\x00\x00\x00\x0C"sv) +
                     record("D00001DUPR@ ANNE  001{     ", "\x00\x01\x23\x45\x6C"sv) +
                     record("D00002MARTIN PAUL 004}     ", "\x00\x00\x00\x99\x9D"sv) +
                     record("D00003LEROY JEAN  000A     ", "\x00\x12\x3A\x45\x6C"sv) +
                     record("T00002            0000     ", "\x00\x00\x00\x00\x0C"sv);
  ASSERT_EQ(data.size(), 5u * 32u);
  WriteFile(dir / "ACCOUNTS.DAT", data);
  WriteFile(dir / "plan.yaml", R"(name: host
model: model.yaml
sources:
  host:
    kind: fixed_width
    path: ACCOUNTS.DAT
    key: id
    encoding: cp037
    record_length: 32
    record_type: type=D
    layout: |
      type 1
      id 5
      name 12
      balance 5 packed:2
      visits 4 zoned
mappings:
  - entity: account
    source: host
    fields: {name: name, balance: balance, visits: visits}
target: {kind: sqlite, path: out/target.db}
waves:
  - {name: accounts, entities: [account]}
)");
  CommandResult r = CheckAndRun(dir.path());
  ASSERT_EQ(r.json["status"], "completed") << r.out;
  auto rows = Rows(r.json);
  const auto& host = rows[{"account", "host"}];
  EXPECT_EQ(host["extracted"], 3u) << host.dump();  // the detail records only
  EXPECT_EQ(host["rejected"], 1u) << host.dump();   // record 4: half-byte A
  EXPECT_EQ(Sum(r.json, "loaded"), 2u) << r.out;
  EXPECT_EQ(Query(dir / "out/target.db",
                  "SELECT name || '|' || balance || '|' || visits FROM account ORDER BY name"),
            (std::vector<std::string>{"DUPR\xC3\xA9 ANNE|1234.56|10", "MARTIN PAUL|-9.99|-40"}));

  CommandResult errors = ErrorLog(dir.path(), r.json["run_id"]);
  ASSERT_EQ(errors.exit_code, 0) << errors.err;
  EXPECT_NE(errors.out.find("column balance: not packed decimal: bytes 00 12 3A 45 6C"),
            std::string::npos)
      << errors.out;

  // Profiling reads the dataset through the same source: the detail
  // records, the packed balances as decimals.
  CommandResult profile = Shell(Sluice() + " profile " + dir.path() + "/plan.yaml --json");
  ASSERT_EQ(profile.exit_code, 0) << profile.err;
  const auto& source = profile.json["sources"][0];
  EXPECT_EQ(source["rows"], 2) << source.dump();
  EXPECT_EQ(source["rejected_rows"], 1) << source.dump();
  EXPECT_EQ(source["fields"][3]["name"], "balance") << source.dump();
  EXPECT_EQ(source["fields"][3]["inferred_type"], "decimal") << source.dump();
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
