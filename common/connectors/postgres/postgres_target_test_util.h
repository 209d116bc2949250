// Shared fixture of the PostgreSQL target tests: a database of its own per
// test (so that tests may run in parallel on one server), a target opened
// on it and an extra connection for checks and sabotage.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "common/connectors/postgres/pg_test_server.h"
#include "common/connectors/postgres/pg_util.h"
#include "common/connectors/postgres/postgres_target.h"
#include "common/connectors/target_testing.h"

namespace sluice {
namespace pgtest {

using target_testing::Field;
using target_testing::Hcp;

inline Record Rec(const std::string& key, const std::string& name, int64_t balance,
                  const std::string& source = "crm") {
  Record r;
  r.source = source;
  r.key = key;
  r.line = 100 + static_cast<uint64_t>(key.size());
  r.values = {Value::Str(name), Value::Int(*CivilDays(1980, 2, 29)), Value::Int(balance),
              Value::Int(1), Value::Null()};
  return r;
}

// `dsn` with `keyword` (dbname, user, ...) set to `value`, as a key=value
// string.
inline std::string WithParam(const std::string& dsn, const std::string& keyword,
                             const std::string& value) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
  if (opts == nullptr) {
    PQfreemem(err);
    return dsn + " " + keyword + "=" + value;
  }
  std::string out;
  auto quote = [](const std::string& v) {
    std::string q = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') q += '\\';
      q += c;
    }
    return q + "'";
  };
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || o->keyword == keyword) continue;
    out += std::string(o->keyword) + "=" + quote(o->val) + " ";
  }
  PQconninfoFree(opts);
  return out + keyword + "=" + quote(value);
}

class PgTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string server = PgTestDsn();
    ASSERT_FALSE(server.empty()) << kPgTestServerHelp;
    auto admin = PgConn::Connect(server);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString() << "\n" << kPgTestServerHelp;
    admin_ = std::move(admin).value();
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::isalnum(c) ? std::tolower(c) : '_'; });
    db_ = "sluice_tgt_" + std::to_string(::getpid()) + "_" + name.substr(0, 36);
    ASSERT_TRUE(admin_->Exec("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)").ok());
    Status created = admin_->Exec("CREATE DATABASE " + db_);
    ASSERT_TRUE(created.ok()) << created.ToString();
    dsn_ = WithParam(server, "dbname", db_);
    spec_.kind = "postgres";
    spec_.options["dsn"] = dsn_;
    spec_.options["retry_base_ms"] = "20";
    spec_.options["retry_max_ms"] = "200";
    auto conn = PgConn::Connect(dsn_);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
  }

  void TearDown() override {
    target_.reset();
    conn_.reset();
    if (!admin_) return;
    (void)admin_->Exec("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    for (const auto& role : roles_) (void)admin_->Exec("DROP ROLE IF EXISTS " + role);
  }

  // A login role of this test's own (dropped after the database), with no
  // privileges beyond PUBLIC's.
  std::string Role() {
    std::string role = db_.substr(0, 50) + "_r" + std::to_string(roles_.size());
    EXPECT_TRUE(
        admin_->Exec("DROP ROLE IF EXISTS " + role + "; CREATE ROLE " + role + " LOGIN").ok());
    roles_.push_back(role);
    return role;
  }

  // Opens the target under test into target_.
  void Open() {
    auto t = OpenPostgresTarget(spec_);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    target_ = std::move(t).value();
  }

  RecordBatch Batch(uint64_t seq, std::vector<Record> records, const Entity& entity = Hcp()) {
    RecordBatch b;
    b.id.set_run_id("r1");
    b.id.set_entity(entity.name);
    b.id.set_source("crm");
    b.id.set_sequence(seq);
    b.schema = entity.ToSchema();
    b.records = std::move(records);
    b.RehashAll();
    return b;
  }

  // One value of a query on the test database, "" for NULL or an error.
  std::string Scalar(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->rows() == 0) return "";
    return std::string(r->Text(0, 0));
  }

  // md5 of every row of the entity table and of its sluice.xref entries, in
  // order.
  std::string Checksum(const std::string& entity = "hcp") {
    return Scalar(
        "SELECT md5(coalesce((SELECT string_agg(t::text, '|' ORDER BY sluice_id) FROM"
        " public." +
        entity +
        " t), '') || '#' || coalesce((SELECT string_agg(x::text, '|' ORDER BY entity,"
        " source, key) FROM sluice.xref x WHERE entity = '" +
        entity + "'), ''))");
  }

  std::unique_ptr<PgConn> admin_;  // on the server's own database
  std::unique_ptr<PgConn> conn_;   // on this test's database
  std::string db_;
  std::vector<std::string> roles_;
  std::string dsn_;
  TargetSpec spec_;
  std::unique_ptr<Target> target_;
};

}  // namespace pgtest
}  // namespace sluice
