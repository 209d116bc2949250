// What the SQLite target's tests share: the entity they load, a record of it, a
// checksum of every row the target holds, and a fixture with a fresh folder.
#ifndef SLUICE_COMMON_CONNECTORS_SQLITE_SQLITE_TARGET_TESTING_H_
#define SLUICE_COMMON_CONNECTORS_SQLITE_SQLITE_TARGET_TESTING_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/audit/sqlite_util.h"
#include "common/connectors/sqlite/sqlite_target.h"
#include "common/connectors/target_testing.h"
#include "common/core/test_dir_testing.h"

namespace sluice {

using target_testing::Field;
using target_testing::Hcp;

inline Record Rec(const std::string& key, const std::string& name, int64_t balance) {
  Record r;
  r.source = "crm";
  r.key = key;
  r.values = {Value::Str(name), Value::Int(*CivilDays(1980, 2, 29)), Value::Int(balance),
              Value::Int(1), Value::Null()};
  return r;
}

// Every row of the entity table and of sluice_xref, in order, each value
// with its SQLite type (quote()), and the applied batches.
inline std::string Checksum(const std::string& path) {
  auto db = SqliteDb::Open(path, /*readonly=*/true);
  if (!db.ok()) return db.status().ToString();
  std::string out;
  for (const char* sql :
       {"SELECT quote(sluice_id) || ',' || quote(name) || ',' || quote(dob) || ',' ||"
        " quote(balance) || ',' || quote(active) || ',' || quote(visits) FROM hcp"
        " ORDER BY sluice_id",
        "SELECT quote(entity) || ',' || quote(source) || ',' || quote(key) || ',' ||"
        " quote(target_id) || ',' || quote(content_hash) || ',' || quote(kind) || ',' ||"
        " quote(run_id) FROM sluice_xref ORDER BY entity, source, key",
        "SELECT quote(run_id) || ',' || quote(batch) FROM sluice_batches ORDER BY 1"}) {
    auto s = (*db)->Prepare(sql);
    if (!s.ok()) return s.status().ToString();
    while (true) {
      auto row = s->Step();
      if (!row.ok()) return row.status().ToString();
      if (!*row) break;
      out += std::string(s->ColumnText(0)) + "\n";
    }
    out += "--\n";
  }
  return out;
}

class SqliteTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("sluice-sqltgt");
    spec_.path = (dir_ / "sub" / "target.db").string();  // the folder is created
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  RecordBatch Batch(uint64_t seq, std::vector<Record> records) {
    RecordBatch b;
    b.id.set_run_id("r1");
    b.id.set_entity("hcp");
    b.id.set_source("crm");
    b.id.set_sequence(seq);
    b.schema = Hcp().ToSchema();
    b.records = std::move(records);
    b.RehashAll();
    return b;
  }

  std::filesystem::path dir_;
  TargetSpec spec_;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_CONNECTORS_SQLITE_SQLITE_TARGET_TESTING_H_
