// SQLite source: a table or a query read in key order.
//
// A batch is a range of ranks in that order, so Seek re-reads it with
// LIMIT/OFFSET. Ties on the key are broken by every other column, so the
// order (and thus every batch) is the same on each read of unchanged data.
#include "common/connectors/sqlite/sqlite_source.h"

#include <cctype>
#include <charconv>
#include <optional>
#include <set>

#include "common/audit/sqlite_util.h"
#include "common/connectors/incremental_column.h"
#include "common/connectors/table_or_query.h"

namespace sluice {
namespace {

class SqliteSource : public Source {
 public:
  SqliteSource(SourceSpec spec, std::unique_ptr<SqliteDb> db,
               std::optional<std::vector<std::string>> keys)
      : spec_(std::move(spec)), db_(std::move(db)), keys_(std::move(keys)) {}

  // Prepares the ordered query and reads the column names.
  Status Init() {
    const std::string at = spec_.yaml_path;
    std::string table = spec_.Option("table");
    std::string query = spec_.Option("query");
    std::string key = spec_.Option("key");
    std::string from;
    std::string from_path;
    if (!table.empty()) {
      from = QuoteIdentifier(table);
      from_path = at + ".table";
    } else {
      while (!query.empty() &&
             (query.back() == ';' || std::isspace(static_cast<unsigned char>(query.back())))) {
        query.pop_back();
      }
      from = "(" + query + ")";
      from_path = at + ".query";
    }
    // Learn the columns first (no rows are read).
    auto probe = db_->Prepare("SELECT * FROM " + from + " LIMIT 0");
    if (!probe.ok()) return probe.status().WithContext(from_path);
    std::set<std::string> seen;
    for (int i = 0; i < probe->ColumnCount(); ++i) {
      std::string name = probe->ColumnName(i);
      if (!seen.insert(name).second) {
        return Status::InvalidArgument(from_path + ": duplicate column '" + name + "'");
      }
      schema_.fields.push_back({name, FieldType::kString, 0, 0});
    }
    key_index_ = schema_.IndexOf(key);
    if (key_index_ < 0) {
      return Status::InvalidArgument(at + ".key: column '" + key + "' not found in " +
                                     (table.empty() ? "the query" : "table '" + table + "'") +
                                     " of " + spec_.path);
    }
    std::string columns = "*";
    std::string order = QuoteIdentifier(key);
    if (spec_.keys_only) {
      // A key scan (issue 18): the key column alone, whatever the row holds.
      schema_.fields = {schema_.fields[static_cast<size_t>(key_index_)]};
      key_index_ = 0;
      columns = QuoteIdentifier(key);
    }
    for (size_t i = 0; i < schema_.fields.size(); ++i) {
      if (static_cast<int>(i) != key_index_) order += ", " + std::to_string(i + 1);
    }
    // Delta extraction (issue 18): only the rows above the mark; a row whose
    // column is NULL is read by full runs only.
    std::string where;
    if (keys_) {
      // Residents (issue 18 item 3): the listed keys, through a temporary
      // table (the connection's own schema, writable on a read-only file);
      // an untyped column compares with the key in the key's affinity.
      SLUICE_RETURN_IF_ERROR(LoadKeys(*keys_));
      where = " WHERE " + QuoteIdentifier(key) + " IN (SELECT k FROM temp.sluice_keys)";
    } else if (spec_.extract_above) {
      SLUICE_RETURN_IF_ERROR(CheckIncrementalColumn(spec_, schema_, table));
      const std::string& column = spec_.incremental_column;
      where = " WHERE " + QuoteIdentifier(column) + " > ?2";
    }
    auto stmt = db_->Prepare("SELECT " + columns + " FROM " + from + where + " ORDER BY " + order +
                             " LIMIT -1 OFFSET ?1");
    if (!stmt.ok()) return stmt.status().WithContext(from_path);
    stmt_ = std::move(stmt).value();
    return Restart(0);
  }

  const Schema& schema() const override { return schema_; }

  Result<bool> Next(size_t max_rows, RecordBatch* out, std::vector<v1::Fate>* rejects) override {
    if (done_ || max_rows == 0) return false;
    const uint64_t begin = rank_;
    size_t n_records = 0;
    size_t rows = 0;
    while (rows < max_rows) {
      auto row = stmt_.Step();
      if (!row.ok()) return row.status().WithContext(spec_.yaml_path);
      if (!*row) {
        done_ = true;
        break;
      }
      ++rows;
      const uint64_t line = ++rank_;  // rank + 1
      if (stmt_.ColumnIsNull(key_index_) || stmt_.ColumnText(key_index_).empty()) {
        v1::Fate fate;
        fate.set_kind(v1::FATE_REJECTED);
        fate.set_source(spec_.name);
        fate.set_key("line:" + std::to_string(line));
        fate.set_stage("extract");
        fate.set_rule("missing_key");
        fate.set_field(schema_.fields[key_index_].name);
        fate.set_reason("missing key");
        fate.set_line(line);
        fate.set_value(RowText());
        rejects->push_back(std::move(fate));
        continue;
      }
      AppendTextRecord(
          out, &n_records, schema_, spec_.name, line, key_index_,
          [this](int c) { return stmt_.ColumnIsNull(c); },
          [this](int c) { return stmt_.ColumnText(c); });
    }
    if (rows == 0) return false;
    out->records.resize(n_records);
    out->schema = schema_;
    out->range.set_begin_offset(begin);
    out->range.set_end_offset(rank_);
    out->range.set_first_line(begin + 1);
    return true;
  }

  Status Seek(const v1::BatchRange& range) override { return Restart(range.begin_offset()); }

 private:
  Status Restart(uint64_t rank) {
    SLUICE_RETURN_IF_ERROR(stmt_.Reset());  // clears every binding, the mark's too
    SLUICE_RETURN_IF_ERROR(stmt_.Bind(1, static_cast<int64_t>(rank)));
    if (spec_.extract_above && !keys_) {
      SLUICE_RETURN_IF_ERROR(BindMark(*spec_.extract_above));
    }
    rank_ = rank;
    done_ = false;
    return Status::Ok();
  }

  // Fills temp.sluice_keys with `keys`.
  Status LoadKeys(const std::vector<std::string>& keys) {
    SLUICE_RETURN_IF_ERROR(db_->Exec(
        "DROP TABLE IF EXISTS temp.sluice_keys; CREATE TEMP TABLE sluice_keys(k PRIMARY KEY);"
        " BEGIN"));
    SLUICE_ASSIGN_OR_RETURN(Statement insert,
                            db_->Prepare("INSERT OR IGNORE INTO temp.sluice_keys VALUES(?1)"));
    for (const std::string& k : keys) {
      SLUICE_RETURN_IF_ERROR(insert.Reset());
      SLUICE_RETURN_IF_ERROR(insert.Bind(1, std::string_view(k)));
      SLUICE_RETURN_IF_ERROR(insert.Run());
    }
    return db_->Exec("COMMIT");
  }

  // An integer mark compares as a number with an INTEGER column (a bound
  // parameter has no affinity), any other as text: ISO dates and timestamps.
  Status BindMark(const std::string& mark) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(mark.data(), mark.data() + mark.size(), n);
    if (ec == std::errc() && end == mark.data() + mark.size()) return stmt_.Bind(2, n);
    return stmt_.Bind(2, std::string_view(mark));
  }

  // The current row as comma-separated text cut to 200 bytes on a UTF-8
  // boundary, for a reject's value.
  std::string RowText() const {
    std::string out;
    for (int c = 0; c < static_cast<int>(schema_.fields.size()) && out.size() <= 200; ++c) {
      if (c > 0) out += ',';
      if (!stmt_.ColumnIsNull(c)) out.append(stmt_.ColumnText(c));
    }
    if (out.size() > 200) {
      size_t cut = 200;
      while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
      out.resize(cut);
    }
    return out;
  }

  SourceSpec spec_;
  std::unique_ptr<SqliteDb> db_;
  std::optional<std::vector<std::string>> keys_;  // residents: only these keys
  Statement stmt_;
  Schema schema_;
  int key_index_ = -1;
  uint64_t rank_ = 0;  // rank of the next row to read
  bool done_ = false;
};

Result<std::unique_ptr<Source>> Open(const SourceSpec& spec,
                                     std::optional<std::vector<std::string>> keys) {
  const std::string& at = spec.yaml_path;
  if (std::string problem = TableOrQueryProblem(spec.options); !problem.empty()) {
    return Status::InvalidArgument(at + ": " + problem);
  }
  if (spec.Option("key").empty()) {
    return Status::InvalidArgument(at + ".key: required (the key column of the sqlite source)");
  }
  auto db = SqliteDb::Open(spec.path, /*readonly=*/true);
  if (!db.ok()) return db.status().WithContext(at + ".path");
  auto source = std::make_unique<SqliteSource>(spec, std::move(db).value(), std::move(keys));
  SLUICE_RETURN_IF_ERROR(source->Init());
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace

Result<std::unique_ptr<Source>> OpenSqliteSource(const SourceSpec& spec) {
  return Open(spec, std::nullopt);
}

Result<std::unique_ptr<Source>> OpenSqliteSourceByKeys(const SourceSpec& spec,
                                                       std::vector<std::string> keys) {
  return Open(spec, std::move(keys));
}

}  // namespace sluice
