// The PostgreSQL target read back (ScanRows, ScanRowsWithoutEntry): one
// `COPY (query) TO STDOUT`, streamed. The server produces rows while the
// reader hashes and compares the ones before (a cursor's FETCH made each wait
// for the other), and a single statement reads one snapshot.
#include <charconv>

#include "common/connectors/postgres/postgres_load.h"

namespace sluice {
namespace {

// The main scan's plan, whatever the statistics say: sluice.xref's primary
// key in (source, key) order, each entry's row by its primary key, so rows
// stream from the first one on. A COPY is planned for all its rows, and with
// fresh statistics the planner chose parallel workers, hash joins and a sort
// of the whole join on disk (210 MB of temporary files at 1M rows, growing
// with the entity): nothing reaches the reader before the sort ends.
constexpr char kBeginScan[] =
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL enable_hashjoin = off;"
    " SET LOCAL enable_mergejoin = off; SET LOCAL enable_sort = off;"
    " SET LOCAL enable_bitmapscan = off; SET LOCAL max_parallel_workers_per_gather = 0;"
    " SET LOCAL jit = off";

// Splits one COPY text line (no trailing newline) into fields, undoing the
// escapes COPY TO writes (\\, \b, \f, \n, \r, \t, \v); `null` marks \N.
// Unescaped fields point into `line`, the others into `scratch`.
void SplitCopyLine(std::string_view line, std::vector<std::string_view>* fields,
                   std::vector<bool>* null, std::string* scratch) {
  fields->clear();
  null->clear();
  scratch->clear();
  // Unescaped text is never longer than the line: no reallocation below.
  scratch->reserve(line.size());
  size_t start = 0;
  while (true) {
    size_t end = line.find('\t', start);
    if (end == std::string_view::npos) end = line.size();
    std::string_view f = line.substr(start, end - start);
    if (f == "\\N") {
      fields->push_back({});
      null->push_back(true);
    } else if (f.find('\\') == std::string_view::npos) {
      fields->push_back(f);
      null->push_back(false);
    } else {
      const size_t from = scratch->size();
      for (size_t i = 0; i < f.size(); ++i) {
        char c = f[i];
        if (c == '\\' && i + 1 < f.size()) {
          switch (f[++i]) {
            case 'b':
              c = '\b';
              break;
            case 'f':
              c = '\f';
              break;
            case 'n':
              c = '\n';
              break;
            case 'r':
              c = '\r';
              break;
            case 't':
              c = '\t';
              break;
            case 'v':
              c = '\v';
              break;
            default:
              c = f[i];  // \\ and any other escaped byte stand for themselves
          }
        }
        scratch->push_back(c);
      }
      fields->push_back(std::string_view(*scratch).substr(from));
      null->push_back(false);
    }
    if (end == line.size()) break;
    start = end + 1;
  }
}

int64_t ToInt(std::string_view t) {
  int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

// Reads what is left of a COPY TO so that the connection can be used again.
void Drain(PgConn* conn) {
  char* buf = nullptr;
  while (PQgetCopyData(conn->raw(), &buf, 0) > 0) PQfreemem(buf);
  while (PGresult* r = PQgetResult(conn->raw())) PQclear(r);
}

}  // namespace

Status ScanPgRows(PgConn* conn, const PgEntity& e, bool strays,
                  const std::function<void(const TargetRow&)>& fn) {
  const std::string copy = "COPY (" + (strays ? e.stray_scan : e.scan) + ") TO STDOUT";
  SLUICE_RETURN_IF_ERROR(
      conn->Exec(strays ? std::string("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        : std::string(kBeginScan)));
  PgResult start(PQexec(conn->raw(), copy.c_str()));
  if (start.raw() == nullptr || PQresultStatus(start.raw()) != PGRES_COPY_OUT) {
    Status st = PgResultStatus(conn->raw(), start.raw(), copy);
    conn->RollbackQuietly();
    return st;
  }
  constexpr size_t kFirstValue = 6;
  const size_t columns = kFirstValue + e.schema.fields.size();
  TargetRow row;
  std::vector<std::string_view> fields;
  std::vector<bool> null;
  std::string scratch;
  Status bad;
  while (true) {
    char* buf = nullptr;
    const int n = PQgetCopyData(conn->raw(), &buf, 0);
    if (n < 0) break;  // -1: done (the result follows), -2: failed
    std::string_view line(buf, static_cast<size_t>(n));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    SplitCopyLine(line, &fields, &null, &scratch);
    if (fields.size() != columns) {
      PQfreemem(buf);
      bad = Status::Corruption("scan: a row of " + std::to_string(fields.size()) +
                               " columns, expected " + std::to_string(columns));
      break;
    }
    row.source.assign(fields[0]);
    row.key.assign(fields[1]);
    row.target_id = ToInt(fields[2]);
    row.recorded_hash = static_cast<uint64_t>(ToInt(fields[3]));
    row.merged = fields[4] == "merged";
    row.values.clear();
    if (!null[5]) {  // else a dangling entry: no values
      for (size_t i = 0; i < e.schema.fields.size() && bad.ok(); ++i) {
        const FieldSpec& f = e.schema.fields[i];
        const size_t col = kFirstValue + i;
        if (null[col]) {
          row.values.push_back(Value::Null());
        } else if (f.type == FieldType::kDecimal) {
          auto units = ParseDecimalUnits(fields[col], f.scale);
          if (!units.ok()) {
            bad = Status::Corruption("row " + std::to_string(row.target_id) + " field '" + f.name +
                                     "': cannot read '" + std::string(fields[col]) +
                                     "': " + units.status().message());
          } else {
            row.values.push_back(Value::Int(*units));
          }
        } else if (IsIntegral(f.type)) {
          row.values.push_back(Value::Int(ToInt(fields[col])));
        } else {
          row.values.push_back(Value::Str(std::string(fields[col])));
        }
      }
    }
    PQfreemem(buf);
    if (!bad.ok()) break;
    fn(row);
  }
  if (!bad.ok()) {
    Drain(conn);
    conn->RollbackQuietly();
    return bad;
  }
  Status status;
  while (PGresult* raw = PQgetResult(conn->raw())) {
    PgResult r(raw);
    if (status.ok() && PQresultStatus(raw) != PGRES_COMMAND_OK) {
      status = PgResultStatus(conn->raw(), raw, copy);
    }
  }
  if (status.ok() && !conn->healthy()) status = PgResultStatus(conn->raw(), nullptr, copy);
  if (!status.ok()) {
    conn->RollbackQuietly();
    return status;
  }
  return conn->Exec("COMMIT");
}

}  // namespace sluice
