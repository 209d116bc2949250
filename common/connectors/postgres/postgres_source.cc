// PostgreSQL source: a table or a query read in key order through a cursor.
//
// Why a cursor and rank offsets rather than keyset pagination (`WHERE key >
// $last ORDER BY key LIMIT n`): a legacy key need not be unique, and a query
// has no index, so every keyset page would scan and sort the whole result
// again. One cursor sorts once and streams. A batch is a range of ranks in a
// total order (the key, then, unless a unique index says there are no ties,
// the other columns' text, so unorderable column types are fine too); Seek
// moves the cursor forward or declares it again
// with OFFSET, as the SQLite source does. The read runs in one REPEATABLE READ
// snapshot, so the batches of one source never see a concurrent change, and
// the session settings fix every value's text form, so a re-extraction in
// another process reads a batch identically while the data is unchanged.
#include "common/connectors/postgres/postgres_source.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "common/connectors/incremental_column.h"
#include "common/connectors/postgres/pg_util.h"
#include "common/connectors/table_or_query.h"

namespace sluice {
namespace {

constexpr char kCursor[] = "sluice_source_rows";
constexpr char kRowAlias[] = "sluice_source_row";
constexpr char kKeysTable[] = "sluice_resident_keys";

// Text forms that do not depend on the server's or the role's defaults.
constexpr char kSessionSettings[] =
    "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC';"
    " SET extra_float_digits = 1; SET bytea_output = 'hex';"
    // The cursor is read to its end: plan for all rows, not the first ones.
    " SET cursor_tuple_fraction = 1.0";

// "crm.contacts" -> "crm"."contacts"; "contacts" -> "contacts".
std::string QuoteTableName(const std::string& name) {
  size_t dot = name.find('.');
  if (dot == std::string::npos) return PgQuoteIdent(name);
  return PgQuoteIdent(name.substr(0, dot)) + "." + PgQuoteIdent(name.substr(dot + 1));
}

class PostgresSource : public Source {
 public:
  PostgresSource(SourceSpec spec, std::unique_ptr<PgConn> conn,
                 std::optional<std::vector<std::string>> keys)
      : spec_(std::move(spec)), conn_(std::move(conn)), keys_(std::move(keys)) {}

  // Opens the snapshot, reads the column names and declares the cursor.
  Status Init() {
    const std::string& at = spec_.yaml_path;
    const std::string table = spec_.Option("table");
    std::string query = spec_.Option("query");
    const std::string key = spec_.Option("key");
    SLUICE_RETURN_IF_ERROR(conn_->Exec(kSessionSettings).WithContext(at + ".dsn"));
    std::string from;
    std::string from_path;
    if (!table.empty()) {
      from = QuoteTableName(table);
      from_path = at + ".table";
    } else {
      while (!query.empty() &&
             (query.back() == ';' || std::isspace(static_cast<unsigned char>(query.back())))) {
        query.pop_back();
      }
      from = "(" + query + "\n)";  // a trailing -- comment must not hide the ')'
      from_path = at + ".query";
    }
    // Residents (issue 18 item 3): the listed keys, in a temporary table of
    // the key's own type, filled before the read-only snapshot begins.
    if (keys_) {
      SLUICE_RETURN_IF_ERROR(LoadKeys(from, key, *keys_).WithContext(at + ".key"));
    }
    SLUICE_RETURN_IF_ERROR(
        conn_->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").WithContext(at + ".dsn"));
    // Learn the columns first (no rows are read).
    auto probe = conn_->Query("SELECT * FROM " + from + " AS " + kRowAlias + " LIMIT 0");
    if (!probe.ok()) return probe.status().WithContext(from_path);
    std::set<std::string> seen;
    for (int i = 0; i < probe->columns(); ++i) {
      std::string name = PQfname(probe->raw(), i);
      if (!seen.insert(name).second) {
        return Status::InvalidArgument(from_path + ": duplicate column '" + name + "'");
      }
      schema_.fields.push_back({name, FieldType::kString, 0, 0});
    }
    key_index_ = schema_.IndexOf(key);
    if (key_index_ < 0) {
      return Status::InvalidArgument(at + ".key: column '" + key + "' not found in " +
                                     (table.empty() ? "the query" : "table '" + table + "'"));
    }
    // Delta extraction (issue 18): only the rows above the mark, compared
    // in the column's own type (the literal takes it); NULL is never above.
    std::string where;
    if (keys_) {
      where = std::string(" WHERE ") + kRowAlias + "." + PgQuoteIdent(key) + " IN (SELECT k FROM " +
              kKeysTable + ")";
    } else if (spec_.extract_above) {
      SLUICE_RETURN_IF_ERROR(CheckIncrementalColumn(spec_, schema_, table));
      const std::string& column = spec_.incremental_column;
      where = std::string(" WHERE ") + kRowAlias + "." + PgQuoteIdent(column) + " > " +
              PgQuoteLiteral(*spec_.extract_above);
    }
    std::string columns = "*";
    if (spec_.keys_only) {
      // A key scan (issue 18): the key column alone, in any order of ties.
      schema_.fields = {schema_.fields[static_cast<size_t>(key_index_)]};
      key_index_ = 0;
      columns = std::string(kRowAlias) + "." + PgQuoteIdent(key);
    }
    ordered_ = "SELECT " + columns + " FROM " + from + " AS " + kRowAlias + where + " ORDER BY " +
               kRowAlias + "." + PgQuoteIdent(key);
    SLUICE_ASSIGN_OR_RETURN(bool unique, KeyIsUnique(table, key));
    if (!unique && !spec_.keys_only) {
      // Ties are broken by the other columns' text: the very text a record
      // carries, so rows tied on all of it are identical batches either way.
      // (The whole row's text, `row::text`, costs four times as much.)
      for (size_t i = 0; i < schema_.fields.size(); ++i) {
        if (static_cast<int>(i) == key_index_) continue;
        ordered_ +=
            std::string(", ") + kRowAlias + "." + PgQuoteIdent(schema_.fields[i].name) + "::text";
      }
    }
    // Declaring plans the query without running it: an unorderable key
    // type fails here, at open time, rather than at the first batch.
    return Declare(0).WithContext(at + ".key");
  }

  const Schema& schema() const override { return schema_; }

  Result<bool> Next(size_t max_rows, RecordBatch* out, std::vector<v1::Fate>* rejects) override {
    if (done_ || max_rows == 0) return false;
    auto fetched = conn_->Query("FETCH FORWARD " + std::to_string(max_rows) + " FROM " + kCursor);
    if (!fetched.ok()) return fetched.status().WithContext(spec_.yaml_path);
    const PgResult& rows = *fetched;
    const size_t n = static_cast<size_t>(rows.rows());
    if (n < max_rows) done_ = true;
    if (n == 0) return false;
    const uint64_t begin = rank_;
    size_t n_records = 0;
    for (size_t i = 0; i < n; ++i) {
      const int row = static_cast<int>(i);
      const uint64_t line = ++rank_;  // rank + 1
      if (rows.IsNull(row, key_index_) || rows.Text(row, key_index_).empty()) {
        rejects->push_back(MissingKey(rows, row, line));
        continue;
      }
      AppendTextRecord(
          out, &n_records, schema_, spec_.name, line, key_index_,
          [&rows, row](int c) { return rows.IsNull(row, c); },
          [&rows, row](int c) { return rows.Text(row, c); });
    }
    out->records.resize(n_records);
    out->schema = schema_;
    out->range.set_begin_offset(begin);
    out->range.set_end_offset(rank_);
    out->range.set_first_line(begin + 1);
    return true;
  }

  Status Seek(const v1::BatchRange& range) override {
    const uint64_t target = range.begin_offset();
    if (target == rank_) return Status::Ok();
    if (target > rank_ && !done_) {
      // Forward: skip rows of the running cursor instead of sorting again.
      SLUICE_RETURN_IF_ERROR(
          conn_->Exec("MOVE FORWARD " + std::to_string(target - rank_) + " IN " + kCursor)
              .WithContext(spec_.yaml_path));
      rank_ = target;
      return Status::Ok();
    }
    SLUICE_RETURN_IF_ERROR(
        conn_->Exec(std::string("CLOSE ") + kCursor).WithContext(spec_.yaml_path));
    return Declare(target).WithContext(spec_.yaml_path);
  }

 private:
  // True when `table` (empty for a query) has a unique index on the key
  // column alone, which is NOT NULL: then the key orders every row and the
  // sort needs no tie-breaker (a primary key reads in index order).
  Result<bool> KeyIsUnique(const std::string& table, const std::string& key) {
    if (table.empty()) return false;
    auto found = conn_->Query(
        "SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        " AND a.attnum = i.indkey[0] WHERE i.indrelid = $1::regclass AND i.indisunique"
        " AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL"
        " AND a.attnotnull AND a.attname = $2 LIMIT 1",
        {QuoteTableName(table), key});
    if (!found.ok()) return found.status().WithContext(spec_.yaml_path + ".table");
    return found->rows() > 0;
  }

  // Fills the temporary table kKeysTable (one column `k` of the type of the
  // key column of `from`) with `keys`, 1,000 a statement.
  Status LoadKeys(const std::string& from, const std::string& key,
                  const std::vector<std::string>& keys) {
    SLUICE_RETURN_IF_ERROR(conn_->Exec(std::string("DROP TABLE IF EXISTS ") + kKeysTable +
                                       "; CREATE TEMP TABLE " + kKeysTable + " AS SELECT " +
                                       kRowAlias + "." + PgQuoteIdent(key) + " AS k FROM " + from +
                                       " AS " + kRowAlias + " LIMIT 0"));
    for (size_t begin = 0; begin < keys.size(); begin += 1000) {
      std::string sql = std::string("INSERT INTO ") + kKeysTable + " VALUES ";
      const size_t end = std::min(keys.size(), begin + 1000);
      for (size_t i = begin; i < end; ++i) {
        sql += (i > begin ? ",(" : "(") + PgQuoteLiteral(keys[i]) + ")";
      }
      SLUICE_RETURN_IF_ERROR(conn_->Exec(sql));
    }
    return conn_->Exec(std::string("ANALYZE ") + kKeysTable);
  }

  // Declares the cursor at `rank` (a number of rows to skip).
  Status Declare(uint64_t rank) {
    std::string sql = std::string("DECLARE ") + kCursor + " NO SCROLL CURSOR FOR " + ordered_;
    if (rank > 0) sql += " OFFSET " + std::to_string(rank);
    SLUICE_RETURN_IF_ERROR(conn_->Exec(sql));
    rank_ = rank;
    done_ = false;
    return Status::Ok();
  }

  v1::Fate MissingKey(const PgResult& rows, int row, uint64_t line) const {
    v1::Fate fate;
    fate.set_kind(v1::FATE_REJECTED);
    fate.set_source(spec_.name);
    fate.set_key("line:" + std::to_string(line));
    fate.set_stage("extract");
    fate.set_rule("missing_key");
    fate.set_field(schema_.fields[key_index_].name);
    fate.set_reason("missing key");
    fate.set_line(line);
    fate.set_value(RowText(rows, row));
    return fate;
  }

  // The row as comma-separated text cut to 200 bytes on a UTF-8 boundary,
  // for a reject's value.
  std::string RowText(const PgResult& rows, int row) const {
    std::string out;
    for (int c = 0; c < static_cast<int>(schema_.fields.size()) && out.size() <= 200; ++c) {
      if (c > 0) out += ',';
      if (!rows.IsNull(row, c)) out.append(rows.Text(row, c));
    }
    if (out.size() > 200) {
      size_t cut = 200;
      while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
      out.resize(cut);
    }
    return out;
  }

  SourceSpec spec_;
  std::unique_ptr<PgConn> conn_;
  std::optional<std::vector<std::string>> keys_;  // residents: only these keys
  Schema schema_;
  std::string ordered_;  // the SELECT in the batches' order
  int key_index_ = -1;
  uint64_t rank_ = 0;  // rank of the next row the cursor gives
  bool done_ = false;  // the cursor gave its last row
};

Result<std::unique_ptr<Source>> Open(const SourceSpec& spec,
                                     std::optional<std::vector<std::string>> keys) {
  const std::string& at = spec.yaml_path;
  if (spec.Option("dsn").empty()) {
    return Status::InvalidArgument(at + ".dsn: required (a libpq connection string)");
  }
  if (std::string problem = TableOrQueryProblem(spec.options); !problem.empty()) {
    return Status::InvalidArgument(at + ": " + problem);
  }
  if (spec.Option("key").empty()) {
    return Status::InvalidArgument(at + ".key: required (the key column of the postgres source)");
  }
  auto conn = PgConn::Connect(spec.Option("dsn"));
  if (!conn.ok()) return conn.status().WithContext(at + ".dsn");
  auto source = std::make_unique<PostgresSource>(spec, std::move(conn).value(), std::move(keys));
  SLUICE_RETURN_IF_ERROR(source->Init());
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace

Result<std::unique_ptr<Source>> OpenPostgresSource(const SourceSpec& spec) {
  return Open(spec, std::nullopt);
}

Result<std::unique_ptr<Source>> OpenPostgresSourceByKeys(const SourceSpec& spec,
                                                         std::vector<std::string> keys) {
  return Open(spec, std::move(keys));
}

}  // namespace sluice
