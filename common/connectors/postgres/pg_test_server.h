// Where the PostgreSQL test server is, for the tests that need one.
//
// ctest starts the server (scripts/pg.sh, the `postgres` fixture in
// tests/CMakeLists.txt) and gives every test of a binary registered with
// `PROPERTIES ${SLUICE_PG_TEST_PROPERTIES}` the variable SLUICE_PG_DSN_FILE.
// A test fails, never skips, when there is no server: the scripts make sure
// there is one.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

namespace sluice {

// What to do when PgTestDsn() is empty.
inline constexpr char kPgTestServerHelp[] =
    "no PostgreSQL test server: run the test through ctest (the `postgres` fixture starts "
    "one), or start one with `scripts/pg.sh start DIR` and set SLUICE_PG_DSN=\"$(cat "
    "DIR/dsn)\"";

// The test server's libpq connection string: env SLUICE_PG_DSN when set,
// else the first line of the file named by SLUICE_PG_DSN_FILE; "" when
// neither gives one.
inline std::string PgTestDsn() {
  if (const char* dsn = std::getenv("SLUICE_PG_DSN"); dsn != nullptr && *dsn != '\0') return dsn;
  const char* file = std::getenv("SLUICE_PG_DSN_FILE");
  if (file == nullptr || *file == '\0') return "";
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

}  // namespace sluice
