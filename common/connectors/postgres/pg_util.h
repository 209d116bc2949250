// A small RAII layer over libpq that reports failure as a Status, shared by
// the PostgreSQL connectors.
//
// Server errors are classified by SQLSTATE so that callers can decide what
// to do without parsing messages:
//   - transient (retry the transaction, reconnecting when needed): the
//     connection is gone or class 08, 40001 serialization failure, 40P01
//     deadlock, 53300 too many connections, 57P01/57P02/57P03 shutdown,
//     crash, cannot connect now -> StatusCode::kUnavailable;
//   - data rejected (the rows are at fault, not the statement): class 22
//     data exception and class 23 integrity constraint violation ->
//     StatusCode::kInvalidArgument, whose message is exactly the server's
//     primary message and, in parentheses, its detail;
//   - anything else is permanent -> StatusCode::kFailedPrecondition, the
//     message naming the SQLSTATE, the server's message and the statement.
//
// Not thread-safe: a PgConn belongs to one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"

namespace sluice {

enum class PgFailure { kTransient, kDataRejected, kPermanent };

// Classifies a SQLSTATE ("" when the server sent none); `connection_lost`
// wins over the SQLSTATE.
PgFailure ClassifySqlState(std::string_view sqlstate, bool connection_lost);

// True when `status` came from a server error of class 22 or 23.
inline bool IsDataRejection(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument;
}
// True when retrying the transaction may succeed.
inline bool IsTransient(const Status& status) { return status.code() == StatusCode::kUnavailable; }

// An owned PGresult; cleared on destruction. Move-only.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r) {}

  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  int columns() const { return r_ ? PQnfields(r_.get()) : 0; }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  // The text form of a value; "" for NULL. Valid while this result lives.
  std::string_view Text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
  }
  // The value as an integer; 0 for NULL or non-numeric text.
  int64_t Int(int row, int col) const;
  // Rows affected by an INSERT/UPDATE/DELETE.
  int64_t Affected() const;
  PGresult* raw() const { return r_.get(); }

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> r_;
};

// One connection to a server; closed on destruction.
class PgConn {
 public:
  // Connects with a libpq connection string (key=value or URI), then sets the
  // session to UTF8, ISO dates and UTC so that values read and written as
  // text round-trip. Failure to reach the server is transient (kUnavailable).
  static Result<std::unique_ptr<PgConn>> Connect(const std::string& dsn);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // False once the connection is known to be broken.
  bool healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  int backend_pid() const { return PQbackendPID(conn_); }

  // Runs one or more statements (simple query protocol) that return nothing
  // of interest.
  Status Exec(const std::string& sql);
  // Runs one statement with text parameters $1..$n and returns its rows.
  Result<PgResult> Query(const std::string& sql, const std::vector<std::string>& params = {});
  // Runs `copy_sql` (a COPY ... FROM STDIN) and sends `data`, in COPY text
  // format, as its input.
  Status CopyIn(const std::string& copy_sql, std::string_view data);
  // The same in steps, so that the server parses one part while the caller
  // formats the next: CopyStart, any number of CopyPut, then CopyEnd, which
  // reports what the server made of it all (a data error in any part
  // included). After a failed CopyStart, call nothing else.
  Status CopyStart(const std::string& copy_sql);
  Status CopyPut(std::string_view data);
  Status CopyEnd(const std::string& copy_sql);
  // Best effort ROLLBACK, for cleaning up after a failed transaction.
  void RollbackQuietly();

  PGconn* raw() { return conn_; }

 private:
  explicit PgConn(PGconn* conn) : conn_(conn) {}
  // The Status for a result that is not `expected` (PGRES_*).
  Status Check(const PgResult& r, ExecStatusType expected, std::string_view sql);

  PGconn* conn_ = nullptr;
};

// The Status for a failed result (or a null one, on connection loss).
Status PgResultStatus(PGconn* conn, const PGresult* result, std::string_view sql);

// Quotes an identifier: "name" with inner quotes doubled.
std::string PgQuoteIdent(std::string_view name);
// Quotes a string literal: 'text' with inner quotes doubled (standard
// conforming strings, which every supported server uses).
std::string PgQuoteLiteral(std::string_view text);
// Appends `value` to a COPY text-format line, escaping backslash, tab,
// newline and carriage return.
void AppendCopyText(std::string_view value, std::string* out);

}  // namespace sluice
