// A PostgreSQL database of a test's own on the fixture server (the
// `postgres` fixture, scripts/pg.sh), for end-to-end tests whose plan
// reads or writes PostgreSQL.
#pragma once

#include <unistd.h>

#include <string>

#include "common/connectors/postgres/pg_test_server.h"
#include "tests/harness.h"

namespace sluice::testing {

// The output of psql for `sql` on `dsn`, trimmed ("" for none); "error: ..."
// when psql fails.
inline std::string PsqlOut(const std::string& dsn, const std::string& sql) {
  auto r = Shell("psql -X -A -t -q -v ON_ERROR_STOP=1 \"" + dsn + "\" -c \"" + sql + "\"");
  std::string out = r.exit_code == 0 ? r.out : "error: " + r.err;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// A database named `prefix`_<pid>, created on the fixture server and dropped
// at the end: `error` is empty when it was created, `dsn` connects to it.
struct TestDatabase {
  explicit TestDatabase(const std::string& prefix)
      : server(PgTestDsn()), name(prefix + "_" + std::to_string(getpid())) {
    if (server.empty()) {
      error = kPgTestServerHelp;
      return;
    }
    error = PsqlOut(server, "CREATE DATABASE " + name);
    const auto at = server.find("dbname=");
    dsn = (at == std::string::npos ? server + " " : server.substr(0, at)) + "dbname=" + name;
  }
  ~TestDatabase() {
    if (!server.empty()) PsqlOut(server, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;
  std::string server, name, dsn, error;
};

}  // namespace sluice::testing
