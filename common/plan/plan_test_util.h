// Shared fixture, sample plan and helpers of the plan parser tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/audit/sqlite_util.h"
#include "common/core/hash.h"
#include "common/plan/plan.h"

namespace sluice {
namespace plan_testing {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed at the end of the test.
class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("sluice_plan_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(counter++) + "_" + info->name());
    fs::create_directories(dir_ / "data");
    Write("data/crm.csv", "hcp_id,nat_id\n1,A\n");
    // A real database: plan check looks the sources' tables up.
    auto db = SqliteDb::Open(At("data/erp.db"));
    if (db.ok()) (void)(*db)->Exec("CREATE TABLE doctors(doc_id TEXT); CREATE TABLE t(k TEXT);");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Write(const std::string& rel, const std::string& text) {
    std::ofstream out(dir_ / rel, std::ios::binary);
    out << text;
  }
  std::string Dir() const { return dir_.string(); }
  std::string At(const std::string& rel) const { return (dir_ / rel).lexically_normal().string(); }

  fs::path dir_;
};

// --- A valid plan, every feature, read back. -------------------------------

constexpr char kModel[] = R"y(entities:
  hcp:
    description: healthcare professional
    fields:
      national_id: {type: string, required: true, max_length: 20, pii: true, owner: "MDM team", description: "national id"}
      last_name: {type: string, required: true}
      first_name: {type: string}
      email: string
      phone: {type: string}
      revenue: {type: "decimal(12,2)"}
      birth_date: {type: date}
      updated_at: {type: timestamp}
      active: {type: bool}
      specialty: {type: enum, values: [cardiology, general_practice]}
      parent_id: {type: reference, entity: hcp}
      country: {type: string}
      count: {type: int}
)y";

constexpr char kPlan[] = R"y(name: quickstart
version: 1
batch_size: 500
model: model.yaml
sources:
  crm:
    kind: csv
    path: data/crm.csv
    key: hcp_id
    delimiter: ";"
    header: yes
  erp:
    kind: sqlite
    path: data/erp.db
    table: doctors
    key: doc_id
mappings:
  - entity: hcp
    source: crm
    fields:
      national_id: nat_id
      last_name: {from: last, trim: false}
      first_name: {from: first, trim: true}
      birth_date: {from: dob, format: "%d/%m/%Y"}
      updated_at: {from: upd, formats: ["%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S"]}
      specialty: {from: spec, map: {CARD: cardiology, GP: general_practice}}
      country: {default: "FR"}
      active: {from: active, true_values: [Y], false_values: [N]}
      revenue: {from: rev, decimal_point: ",", group_separator: "."}
  - entity: hcp
    source: erp
    fields:
      national_id: nid
      last_name: name
dedup:
  hcp:
    key: [national_id, last_name]
    survivorship:
      source_priority: [erp, crm]
      most_recent: updated_at
validation:
  hcp:
    - {name: email_format, kind: regex, field: email, pattern: "^[^@]+@[^@]+$", severity: warning}
    - {name: revenue_range, kind: range, field: revenue, min: 0, max: 10000000}
    - {name: last_name_required, kind: required, field: last_name}
    - {name: specialty_allowed, kind: picklist, field: specialty}
    - {name: phone_digits, kind: type, field: phone, type: int}
    - {name: last_name_len, kind: max_length, field: last_name, max: 80}
    - {name: birth_range, kind: date_range, field: birth_date, min: "1900-01-01", max: "2010-12-31", severity: review}
target:
  kind: sqlite
  path: out/target.db
waves:
  - name: hcp
    entities: [hcp]
)y";

// A small valid plan in sections; a case replaces one section.
const std::vector<std::pair<std::string, std::string>> kSections = {
    {"top", "name: t\n"},
    {"model", R"y(model:
  entities:
    hcp:
      fields:
        national_id: {type: string, required: true, max_length: 20}
        last_name: {type: string, required: true}
        first_name: {type: string}
        birth_date: {type: date}
        updated_at: {type: timestamp}
        active: {type: bool}
        revenue: {type: "decimal(12,2)"}
        specialty: {type: enum, values: [cardiology, general_practice]}
        parent_id: {type: reference, entity: hcp}
        email: string
    account:
      fields:
        name: {type: string, required: true}
        hcp_id: {type: reference, entity: hcp}
)y"},
    {"sources", R"y(sources:
  crm: {kind: csv, path: data/crm.csv, key: hcp_id}
  erp: {kind: sqlite, path: data/erp.db, table: doctors, key: doc_id}
)y"},
    {"mappings", R"y(mappings:
  - entity: hcp
    source: crm
    fields:
      national_id: nat_id
      last_name: {from: last}
  - entity: account
    source: erp
    fields:
      name: acc
)y"},
    {"dedup", "dedup:\n  hcp: {key: national_id}\n"},
    {"validation", "validation:\n  hcp:\n    - {name: r1, kind: required, field: last_name}\n"},
    {"target", "target: {kind: sqlite, path: out/target.db}\n"},
    {"waves",
     "waves:\n  - {name: hcp, entities: [hcp]}\n  - {name: accounts, entities: [account]}\n"},
};

inline std::string PlanWith(const std::map<std::string, std::string>& replace) {
  std::string text;
  for (const auto& [name, section] : kSections) {
    auto it = replace.find(name);
    text += it == replace.end() ? section : it->second;
  }
  return text;
}

// An entity `hcp` with a text field `name` and `parent_id`, a reference to
// hcp itself: the model of the self-reference tests (loader, reconciler).
inline Entity SelfReferencingHcp() {
  Entity hcp;
  hcp.name = "hcp";
  ModelField name;
  name.name = "name";
  ModelField parent;
  parent.name = "parent_id";
  parent.type = FieldType::kReference;
  parent.references = "hcp";
  hcp.fields = {name, parent};
  return hcp;
}

inline std::string Dump(const std::vector<PlanIssue>& issues) {
  std::string out;
  for (const PlanIssue& i : issues) out += "\n  " + i.ToString();
  return out;
}

}  // namespace plan_testing
}  // namespace sluice
