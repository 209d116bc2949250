// A small RAII layer over the sqlite3 C API that reports failure as a
// Status: the audit store and the SQLite connectors share it.
//
// Errors read "sqlite: <sqlite message> [in: <sql>]" and map the SQLite
// result code onto a sluice code (busy/locked -> unavailable, corrupt ->
// corruption, I/O and full disk -> io error, constraint and SQL errors ->
// invalid argument, a missing read-only file -> not found).
//
// None of these classes is thread-safe; a SqliteDb and its statements belong
// to one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/core/status.h"

namespace sluice {

// A prepared statement. Move-only; finalized on destruction. Must not
// outlive the SqliteDb that prepared it.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Bind parameter `idx` (1-based). Text is copied by SQLite.
  Status Bind(int idx, int64_t value);
  Status Bind(int idx, int value) { return Bind(idx, static_cast<int64_t>(value)); }
  Status Bind(int idx, std::string_view text);
  Status Bind(int idx, const char* text) { return Bind(idx, std::string_view(text)); }
  Status Bind(int idx, std::nullptr_t);
  Status BindNull(int idx) { return Bind(idx, nullptr); }
  // Binds without copying: `text` must stay valid until the next Step(),
  // Reset() or rebinding of `idx`. For hot loops.
  Status BindView(int idx, std::string_view text);
  // Binds `bytes` as a BLOB without copying, under the same condition.
  Status BindBlobView(int idx, std::string_view bytes);

  // Runs one step: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, for statements that return no rows of interest.
  Status Run();
  // Makes the statement ready to run again and clears its bindings.
  Status Reset();

  int ColumnCount() const;
  std::string ColumnName(int col) const;
  bool ColumnIsNull(int col) const;
  int64_t ColumnInt64(int col) const;
  // SQLite's text form of the column (integers and reals rendered by SQLite);
  // valid until the next Step(), Reset() or destruction. "" for NULL.
  std::string_view ColumnText(int col) const;

  const std::string& sql() const { return sql_; }
  sqlite3_stmt* raw() { return stmt_; }

 private:
  friend class SqliteDb;
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::string sql)
      : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
  Status Check(int rc, std::string_view what) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

// An open database connection, closed on destruction.
class SqliteDb {
 public:
  // Opens `path` (":memory:" for an in-memory database). Read-write opens
  // create the file (but not its folder); read-only opens of a missing file
  // fail with NotFound naming the path. A busy timeout of 10 s is set.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool readonly = false);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements that return no rows.
  Status Exec(std::string_view sql);
  // Prepares one statement.
  Result<Statement> Prepare(std::string_view sql);

  int64_t LastInsertRowid() const;
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const;
  const std::string& path() const { return path_; }
  sqlite3* raw() { return db_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_ = nullptr;
  std::string path_;
};

// BEGIN IMMEDIATE on Begin(); ROLLBACK on destruction unless committed.
class Transaction {
 public:
  static Result<Transaction> Begin(SqliteDb* db);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status Commit();
  // Rolls back now (also done by the destructor).
  Status Rollback();

 private:
  explicit Transaction(SqliteDb* db) : db_(db) {}
  SqliteDb* db_ = nullptr;  // null once committed or rolled back
};

// Quotes an identifier for SQL: "name" with inner quotes doubled.
std::string QuoteIdentifier(std::string_view name);

// A Status for SQLite result code `rc` with `message` and the SQL context.
Status SqliteStatus(int rc, std::string_view message, std::string_view sql = {});

}  // namespace sluice
