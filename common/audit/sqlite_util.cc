#include "common/audit/sqlite_util.h"

#include <filesystem>
#include <utility>

namespace sluice {

Status SqliteStatus(int rc, std::string_view message, std::string_view sql) {
  std::string text = "sqlite: ";
  text.append(message);
  if (!sql.empty()) {
    // Long statements are cut: the start says which one it was.
    constexpr size_t kMaxSql = 300;
    text += " [in: ";
    text.append(sql.substr(0, kMaxSql));
    if (sql.size() > kMaxSql) text += "...";
    text += "]";
  }
  // Resource faults say so first, whatever the caller adds: the halt reason
  // of a run must name the cause (issue 23).
  if ((rc & 0xff) == SQLITE_FULL) text = "no space left on device: " + text;
  if ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_PERM) text = "not writable: " + text;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(std::move(text));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(std::move(text));
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return Status::IoError(std::move(text));
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_ERROR:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
      return Status::InvalidArgument(std::move(text));
    case SQLITE_INTERRUPT:
      return Status::Cancelled(std::move(text));
    default:
      return Status::Internal(std::move(text));
  }
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      sql_(std::move(other.sql_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    sql_ = std::move(other.sql_);
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Status Statement::Check(int rc, std::string_view what) const {
  if (rc == SQLITE_OK) return Status::Ok();
  if (stmt_ == nullptr)
    return Status::Internal("sqlite: " + std::string(what) + " on an empty statement");
  return SqliteStatus(rc, std::string(what) + ": " + sqlite3_errmsg(db_), sql_);
}

Status Statement::Bind(int idx, int64_t value) {
  if (stmt_ == nullptr) return Check(SQLITE_MISUSE, "bind");
  return Check(sqlite3_bind_int64(stmt_, idx, value), "bind");
}

Status Statement::Bind(int idx, std::string_view text) {
  if (stmt_ == nullptr) return Check(SQLITE_MISUSE, "bind");
  return Check(
      sqlite3_bind_text64(stmt_, idx, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      "bind");
}

Status Statement::BindBlobView(int idx, std::string_view bytes) {
  if (stmt_ == nullptr) return Check(SQLITE_MISUSE, "bind");
  const char* data = bytes.data() != nullptr ? bytes.data() : "";
  return Check(sqlite3_bind_blob64(stmt_, idx, data, bytes.size(), SQLITE_STATIC), "bind");
}

Status Statement::BindView(int idx, std::string_view text) {
  if (stmt_ == nullptr) return Check(SQLITE_MISUSE, "bind");
  // A null data pointer would bind NULL; an empty view must bind "".
  const char* data = text.data() != nullptr ? text.data() : "";
  return Check(sqlite3_bind_text64(stmt_, idx, data, text.size(), SQLITE_STATIC, SQLITE_UTF8),
               "bind");
}

Status Statement::Bind(int idx, std::nullptr_t) {
  if (stmt_ == nullptr) return Check(SQLITE_MISUSE, "bind");
  return Check(sqlite3_bind_null(stmt_, idx), "bind");
}

Result<bool> Statement::Step() {
  if (stmt_ == nullptr) return Check(SQLITE_MISUSE, "step");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = SqliteStatus(rc, sqlite3_errmsg(db_), sql_);
  // Leave the statement reusable after a failed step.
  sqlite3_reset(stmt_);
  return st;
}

Status Statement::Run() {
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

Status Statement::Reset() {
  if (stmt_ == nullptr) return Check(SQLITE_MISUSE, "reset");
  // sqlite3_reset repeats the last step's error, already reported by Step().
  sqlite3_reset(stmt_);
  return Check(sqlite3_clear_bindings(stmt_), "clear bindings");
}

int Statement::ColumnCount() const { return stmt_ == nullptr ? 0 : sqlite3_column_count(stmt_); }

std::string Statement::ColumnName(int col) const {
  const char* name = stmt_ == nullptr ? nullptr : sqlite3_column_name(stmt_, col);
  return name == nullptr ? std::string() : std::string(name);
}

bool Statement::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

int64_t Statement::ColumnInt64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string_view Statement::ColumnText(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  if (text == nullptr) return {};
  int n = sqlite3_column_bytes(stmt_, col);
  return std::string_view(reinterpret_cast<const char*>(text), static_cast<size_t>(n));
}

// ---- SqliteDb ----

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, bool readonly) {
  bool special = path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0;
  if (readonly && !special) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      return Status::NotFound(path + ": no such database file");
    }
  }
  // SQLite's memory statistics take a global mutex on every allocation
  // (about 3% of a process writing rows); nothing here reads them. Only
  // possible before SQLite initialises, so done once before the first open.
  static const bool kNoMemStatus = [] {
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)kNoMemStatus;
  int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;
  if (path.rfind("file:", 0) == 0) flags |= SQLITE_OPEN_URI;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return SqliteStatus(rc, path + ": " + message);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 10000);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db, path));
}

SqliteDb::~SqliteDb() {
  // close_v2 defers the close until outstanding statements are finalized.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status SqliteDb::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string message = err != nullptr ? err : sqlite3_errmsg(db_);
  sqlite3_free(err);
  return SqliteStatus(rc, message, sql);
}

Result<Statement> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteStatus(rc, sqlite3_errmsg(db_), sql);
  }
  if (stmt == nullptr) return Status::InvalidArgument("sqlite: empty statement");
  return Statement(db_, stmt, std::string(sql));
}

int64_t SqliteDb::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

int64_t SqliteDb::Changes() const { return sqlite3_changes64(db_); }

// ---- Transaction ----

Result<Transaction> Transaction::Begin(SqliteDb* db) {
  SLUICE_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
  return Transaction(db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    (void)Rollback();
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Transaction::~Transaction() { (void)Rollback(); }

Status Transaction::Commit() {
  if (db_ == nullptr) return Status::FailedPrecondition("sqlite: transaction already finished");
  Status st = db_->Exec("COMMIT");
  // A failed COMMIT (e.g. busy) leaves the transaction open: the destructor
  // or an explicit Rollback() ends it.
  if (st.ok()) db_ = nullptr;
  return st;
}

Status Transaction::Rollback() {
  if (db_ == nullptr) return Status::Ok();
  SqliteDb* db = std::exchange(db_, nullptr);
  // After some errors SQLite has already rolled back on its own.
  if (sqlite3_get_autocommit(db->raw()) != 0) return Status::Ok();
  return db->Exec("ROLLBACK");
}

}  // namespace sluice
