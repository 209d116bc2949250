#include "common/connectors/postgres/pg_util.h"

#include <charconv>

namespace sluice {
namespace {

// libpq's messages may span lines ("server closed the connection
// unexpectedly\n\tThis probably means..."): one line each, for logs.
std::string Trimmed(const char* text) {
  std::string s;
  for (const char* p = text ? text : ""; *p != '\0'; ++p) {
    if (*p == '\n' || *p == '\t' || *p == '\r') {
      if (!s.empty() && s.back() != ' ') s += ' ';
    } else {
      s += *p;
    }
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// Statements in error messages are cut so that a COPY or a long generated
// statement does not flood the log.
std::string Excerpt(std::string_view sql) {
  constexpr size_t kMax = 160;
  if (sql.size() <= kMax) return std::string(sql);
  return std::string(sql.substr(0, kMax)) + "...";
}

}  // namespace

PgFailure ClassifySqlState(std::string_view sqlstate, bool connection_lost) {
  if (connection_lost) return PgFailure::kTransient;
  if (sqlstate.substr(0, 2) == "08") return PgFailure::kTransient;
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "53300" || sqlstate == "57P01" ||
      sqlstate == "57P02" || sqlstate == "57P03") {
    return PgFailure::kTransient;
  }
  if (sqlstate.substr(0, 2) == "22" || sqlstate.substr(0, 2) == "23") {
    return PgFailure::kDataRejected;
  }
  return PgFailure::kPermanent;
}

int64_t PgResult::Int(int row, int col) const {
  std::string_view t = Text(row, col);
  int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

int64_t PgResult::Affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : "";
  int64_t v = 0;
  std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

Status PgResultStatus(PGconn* conn, const PGresult* result, std::string_view sql) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state ? state : "";
  bool lost = PQstatus(conn) != CONNECTION_OK;
  std::string primary, detail;
  if (result && PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) {
    primary = Trimmed(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY));
    detail = Trimmed(PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL));
  } else {
    primary = Trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(conn));
    if (primary.empty()) primary = Trimmed(PQerrorMessage(conn));
    if (primary.empty()) primary = "unexpected result";
  }
  switch (ClassifySqlState(sqlstate, lost)) {
    case PgFailure::kDataRejected:
      return Status::InvalidArgument(detail.empty() ? primary : primary + " (" + detail + ")");
    case PgFailure::kTransient:
      return Status::Unavailable("postgres" + (sqlstate.empty() ? "" : " " + sqlstate) + ": " +
                                 primary);
    case PgFailure::kPermanent:
      break;
  }
  std::string msg = "postgres" + (sqlstate.empty() ? "" : " " + sqlstate) + ": " + primary;
  if (!detail.empty()) msg += " (" + detail + ")";
  if (!sql.empty()) msg += " [in: " + Excerpt(sql) + "]";
  return Status::FailedPrecondition(msg);
}

Result<std::unique_ptr<PgConn>> PgConn::Connect(const std::string& dsn) {
  const char* keys[] = {"dbname", "fallback_application_name", nullptr};
  const char* values[] = {dsn.c_str(), "sluice", nullptr};
  PGconn* raw = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (raw == nullptr) return Status::Unavailable("postgres: out of memory while connecting");
  std::unique_ptr<PgConn> conn(new PgConn(raw));
  if (PQstatus(raw) != CONNECTION_OK) {
    return Status::Unavailable("postgres: cannot connect: " + Trimmed(PQerrorMessage(raw)));
  }
  // Notices ("... already exists, skipping") would go to stderr as bare text.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  SLUICE_RETURN_IF_ERROR(
      conn->Exec("SET client_encoding = 'UTF8'; SET DateStyle = 'ISO, YMD';"
                 " SET TimeZone = 'UTC'; SET IntervalStyle = 'iso_8601'"));
  return conn;
}

PgConn::~PgConn() {
  if (conn_) PQfinish(conn_);
}

Status PgConn::Check(const PgResult& r, ExecStatusType expected, std::string_view sql) {
  if (r.raw() && PQresultStatus(r.raw()) == expected) return Status::Ok();
  return PgResultStatus(conn_, r.raw(), sql);
}

Status PgConn::Exec(const std::string& sql) {
  // The simple query protocol returns one result per statement; the first
  // failure stops the server, but every result must be collected.
  if (!PQsendQuery(conn_, sql.c_str())) return PgResultStatus(conn_, nullptr, sql);
  Status first;
  while (PGresult* raw = PQgetResult(conn_)) {
    PgResult r(raw);
    ExecStatusType st = PQresultStatus(raw);
    if (first.ok() && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      first = PgResultStatus(conn_, raw, sql);
    }
  }
  if (first.ok() && PQstatus(conn_) != CONNECTION_OK) return PgResultStatus(conn_, nullptr, sql);
  return first;
}

Result<PgResult> PgConn::Query(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  PgResult r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0));
  ExecStatusType st = r.raw() ? PQresultStatus(r.raw()) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return PgResultStatus(conn_, r.raw(), sql);
  return r;
}

Status PgConn::CopyIn(const std::string& copy_sql, std::string_view data) {
  SLUICE_RETURN_IF_ERROR(CopyStart(copy_sql));
  Status sent = CopyPut(data);
  Status done = CopyEnd(copy_sql);
  return done.ok() ? sent : done;
}

Status PgConn::CopyStart(const std::string& copy_sql) {
  PgResult start(PQexec(conn_, copy_sql.c_str()));
  return Check(start, PGRES_COPY_IN, copy_sql);
}

Status PgConn::CopyPut(std::string_view data) {
  // libpq copies each slice into its output buffer and sends when full.
  constexpr size_t kSlice = 1 << 20;
  for (size_t pos = 0; pos < data.size(); pos += kSlice) {
    size_t n = std::min(kSlice, data.size() - pos);
    if (PQputCopyData(conn_, data.data() + pos, static_cast<int>(n)) != 1) {
      return PgResultStatus(conn_, nullptr, "COPY");
    }
  }
  return Status::Ok();
}

Status PgConn::CopyEnd(const std::string& copy_sql) {
  PQputCopyEnd(conn_, nullptr);
  Status status;
  while (PGresult* raw = PQgetResult(conn_)) {
    PgResult r(raw);
    if (status.ok() && PQresultStatus(raw) != PGRES_COMMAND_OK) {
      status = PgResultStatus(conn_, raw, copy_sql);
    }
  }
  if (status.ok() && PQstatus(conn_) != CONNECTION_OK) {
    return PgResultStatus(conn_, nullptr, copy_sql);
  }
  return status;
}

void PgConn::RollbackQuietly() {
  if (!healthy()) return;
  if (PQtransactionStatus(conn_) == PQTRANS_IDLE) return;
  PgResult r(PQexec(conn_, "ROLLBACK"));
}

std::string PgQuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string PgQuoteLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

void AppendCopyText(std::string_view value, std::string* out) {
  // Plain runs are appended whole; only the four special bytes are escaped.
  size_t run = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char* escaped;
    switch (value[i]) {
      case '\\':
        escaped = "\\\\";
        break;
      case '\t':
        escaped = "\\t";
        break;
      case '\n':
        escaped = "\\n";
        break;
      case '\r':
        escaped = "\\r";
        break;
      default:
        continue;
    }
    out->append(value.data() + run, i - run);
    out->append(escaped, 2);
    run = i + 1;
  }
  out->append(value.data() + run, value.size() - run);
}

}  // namespace sluice
