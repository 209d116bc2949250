#include "common/connectors/postgres/postgres_load.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <map>
#include <unordered_map>

namespace sluice {

namespace {

// sluice's own tables, by the name to_regclass() knows them by.
//
// Keys and names compare bytewise (COLLATE "C"), as in the SQLite target,
// so that ScanRows orders rows the same way whatever the database locale.
// sluice.batches keeps each batch's rejects ([{"ord": i, "reason": ...}])
// so that a replay reports them again. sluice.rollback keeps, per run and
// entity, one 'insert' row per applied subset with the ids it created
// (`ids`, as ranges: usually one per batch), and one row per before-image:
// 'update' (an entity row), 'xref_update' (a cross-reference entry that was
// changed) and 'xref_insert' (a merged key that had no entry; `before`
// holds its source and key).
const std::pair<const char*, const char*> kSluiceTables[] = {
    {"sluice.xref",
     "CREATE TABLE IF NOT EXISTS sluice.xref(entity text COLLATE \"C\" NOT NULL,"
     " source text COLLATE \"C\" NOT NULL, key text COLLATE \"C\" NOT NULL,"
     " target_id bigint NOT NULL, content_hash bigint, kind text NOT NULL, run_id text,"
     " PRIMARY KEY (entity, source, key))"},
    {"sluice.batches",
     "CREATE TABLE IF NOT EXISTS sluice.batches(run_id text NOT NULL, batch text NOT NULL,"
     " entity text NOT NULL, inserted bigint NOT NULL, updated bigint NOT NULL,"
     " unchanged bigint NOT NULL, actions text NOT NULL, rejects jsonb NOT NULL DEFAULT '[]',"
     " PRIMARY KEY (run_id, batch))"},
    {"sluice.rollback",
     "CREATE TABLE IF NOT EXISTS sluice.rollback(run_id text NOT NULL, entity text NOT NULL,"
     " seq bigserial, target_id bigint, op text NOT NULL, before jsonb, ids int8multirange,"
     " PRIMARY KEY (run_id, entity, seq))"},
};

}  // namespace

Status CreateMissingTables(PgConn* conn, const PgEntity& e, const std::string& schema) {
  // Only what is missing: CREATE ... IF NOT EXISTS checks the privilege to
  // create before it looks, and a role may be given tables made for it.
  std::string sql =
      "SELECT to_regnamespace('sluice') IS NULL, to_regnamespace($1) IS NULL,"
      " to_regclass($2) IS NULL, to_regclass($3) IS NULL";
  std::vector<std::string> params = {PgQuoteIdent(schema), e.table, e.sequence};
  for (const auto& [name, ddl] : kSluiceTables) {
    params.push_back(name);
    sql += ", to_regclass($" + std::to_string(params.size()) + ") IS NULL";
  }
  SLUICE_ASSIGN_OR_RETURN(PgResult missing, conn->Query(sql, params));
  auto is_missing = [&](int col) { return missing.Text(0, col) == "t"; };
  std::string ddl;
  if (is_missing(0)) ddl += "CREATE SCHEMA IF NOT EXISTS sluice;";
  for (size_t i = 0; i < std::size(kSluiceTables); ++i) {
    if (is_missing(4 + static_cast<int>(i))) ddl += std::string(kSluiceTables[i].second) + ";";
  }
  if (is_missing(1)) ddl += "CREATE SCHEMA IF NOT EXISTS " + PgQuoteIdent(schema) + ";";
  if (is_missing(2)) ddl += e.create_table + ";";
  // Each session draws ids 4096 at a time (a batch's worth in one step
  // rather than one locked, logged step per 32 ids); a session's unused ids
  // are lost when it ends, which ids allow (they are unique, not dense).
  if (is_missing(3)) ddl += "CREATE SEQUENCE IF NOT EXISTS " + e.sequence + " CACHE 4096;";
  return ddl.empty() ? Status::Ok() : conn->Exec(ddl);
}

const char kSharedStagingDdl[] =
    "CREATE TEMP TABLE IF NOT EXISTS sluice_keys(ord int NOT NULL,"
    " source text COLLATE \"C\" NOT NULL, key text COLLATE \"C\" NOT NULL)"
    " ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS sluice_merged(source text COLLATE \"C\" NOT NULL,"
    " key text COLLATE \"C\" NOT NULL, target_id bigint NOT NULL) ON COMMIT DELETE ROWS;";

// While a table is being filled its statistics lag far behind (autovacuum
// analyzes it later), and the planner, believing sluice.xref tiny, hashes or
// materializes all of it to look up one batch's keys: measured here at 50 ms
// a batch at 100k rows and growing, and at 1 s once only nested loops were
// allowed. Every statement of a load transaction reads a few thousand staged
// rows (scanned whole: temporary tables have no index) against big tables
// by their primary key, so index scans in nested loops are always right;
// the other strategies are switched off for the transaction (a staged table
// is still scanned, having no other path).
//
// A switched-off strategy that is still taken (the staged table's scan) adds
// 1e10 to the plan's cost, far above jit_above_cost, so every statement would
// be JIT-compiled: 50-170 ms of compiling per statement to read a few
// thousand rows, measured as most of a pipeline's load time. JIT is off for
// the transaction.
const char kBeginLoad[] =
    "BEGIN; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off;"
    " SET LOCAL enable_material = off; SET LOCAL enable_bitmapscan = off;"
    " SET LOCAL enable_seqscan = off; SET LOCAL jit = off";

namespace {

constexpr char kKeys[] = "pg_temp.sluice_keys";
constexpr char kMerged[] = "pg_temp.sluice_merged";

std::string StageColumn(size_t i) { return "f_" + std::to_string(i); }

// What the load does with one record.
struct Step {
  size_t ord = 0;
  int64_t target_id = 0;
  char action = '=';  // 'i', 'u' or '='
  bool had_xref = false;
};

// Appends the record's values as COPY text fields (\N for NULL), each
// preceded by a tab, then the end of the line; all NULL when `r` is null.
void AppendValues(const Schema& schema, const Record* r, std::string* out) {
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    *out += '\t';
    const Value* v = r ? &r->values[i] : nullptr;
    if (v == nullptr || v->is_null) {
      *out += "\\N";
    } else if (!IsIntegral(schema.fields[i].type)) {
      AppendCopyText(v->s, out);  // FormatValue's text, without copying it
    } else if (schema.fields[i].type == FieldType::kInt) {
      char buf[24];
      out->append(buf, std::to_chars(buf, buf + sizeof buf, v->i).ptr);
    } else {
      AppendCopyText(*FormatValue(schema.fields[i], *v), out);
    }
  }
  *out += '\n';
}

void AppendKey(const std::string& source, const std::string& key, std::string* out) {
  AppendCopyText(source, out);
  *out += '\t';
  AppendCopyText(key, out);
}

std::string ColumnList(const PgEntity& e) {
  std::string out;
  for (const auto& f : e.schema.fields) out += ", " + PgQuoteIdent(f.name);
  return out;
}

// Stages the keys of the records at `indices` (ord, source, key).
Status StageKeys(PgConn* conn, const RecordBatch& batch, const std::vector<size_t>& indices) {
  std::string rows;
  rows.reserve(indices.size() * 40);
  for (size_t idx : indices) {
    const Record& r = batch.records[idx];
    rows += std::to_string(idx);
    rows += '\t';
    AppendKey(r.source, r.key, &rows);
    rows += '\n';
  }
  return conn->CopyIn(std::string("COPY ") + kKeys + "(ord, source, key) FROM STDIN", rows);
}

// Turns what the cross-reference holds for a key into the step: a key
// with no entry, or one merged into a survivor in an earlier run that now
// arrives on its own, gets a new row; a known key whose content hash
// differs is updated.
void Decide(std::string_view kind, int64_t target_id, int64_t recorded_hash, const Record& r,
            Step* s) {
  s->had_xref = true;
  if (kind != "loaded") return;  // stays 'i'
  s->target_id = target_id;
  s->action = recorded_hash == std::bit_cast<int64_t>(r.content_hash) ? '=' : 'u';
}

// Looks the batch's keys up in the cross-reference. Batches from the
// deduper come in (source, key) order and cut the key space into ranges, so
// an index range scan per source over the batch's key span usually reads
// just the batch's own entries (or none, for new keys): at 1M entries about
// 1 ms a batch, against 20 ms for a probe per key. (Each source gets its own
// `source = s AND key BETWEEN` range: PostgreSQL 15 cannot stop a scan at a
// row-comparison bound, and read to the end of the index.) When the spans
// hold many more entries than the batch (unsorted input) or the batch mixes
// many sources, the keys are staged and probed one by one instead.
Result<std::vector<Step>> PlanSteps(PgConn* conn, const PgEntity& e, const RecordBatch& batch,
                                    const std::vector<size_t>& indices) {
  constexpr size_t kMaxRanges = 16;
  std::vector<Step> steps(indices.size());
  if (indices.empty()) return steps;
  std::unordered_map<std::string, size_t> pos;  // "<source size>:<source><key>" -> step
  pos.reserve(indices.size());
  auto id = [](std::string_view source, std::string_view key) {
    std::string out = std::to_string(source.size()) + ':';
    out.append(source);
    out.append(key);
    return out;
  };
  // std::string compares bytewise, as COLLATE "C" does.
  std::map<std::string, std::pair<std::string, std::string>> spans;  // source -> [lo, hi]
  for (size_t i = 0; i < indices.size(); ++i) {
    const Record& r = batch.records[indices[i]];
    steps[i].ord = indices[i];
    steps[i].action = 'i';
    pos.emplace(id(r.source, r.key), i);
    auto [it, added] = spans.try_emplace(r.source, r.key, r.key);
    if (!added) {
      if (r.key < it->second.first) it->second.first = r.key;
      if (it->second.second < r.key) it->second.second = r.key;
    }
  }
  const size_t limit = 4 * indices.size() + 16;
  if (spans.size() <= kMaxRanges) {
    std::string sql;
    std::vector<std::string> params = {e.entity.name};
    for (const auto& [source, span] : spans) {
      const std::string n = std::to_string(params.size() + 1);
      if (!sql.empty()) sql += " UNION ALL ";
      sql +=
          "SELECT source, key, target_id, kind, content_hash FROM sluice.xref WHERE entity = $1"
          " AND source = $" +
          n + " AND key >= $" + std::to_string(params.size() + 2) + " AND key <= $" +
          std::to_string(params.size() + 3);
      params.insert(params.end(), {source, span.first, span.second});
    }
    SLUICE_ASSIGN_OR_RETURN(PgResult range,
                            conn->Query(sql + " LIMIT " + std::to_string(limit), params));
    if (static_cast<size_t>(range.rows()) < limit) {
      for (int row = 0; row < range.rows(); ++row) {
        auto it = pos.find(id(range.Text(row, 0), range.Text(row, 1)));
        if (it == pos.end()) continue;  // another batch's key
        Step& s = steps[it->second];
        Decide(range.Text(row, 3), range.Int(row, 2), range.Int(row, 4), batch.records[s.ord], &s);
      }
      return steps;
    }
  }
  SLUICE_RETURN_IF_ERROR(StageKeys(conn, batch, indices));
  SLUICE_ASSIGN_OR_RETURN(
      PgResult r,
      conn->Query(std::string("SELECT s.ord, x.target_id, x.kind, x.content_hash FROM ") + kKeys +
                      " s JOIN sluice.xref x ON x.entity = $1 AND x.source = s.source"
                      " AND x.key = s.key",
                  {e.entity.name}));
  for (int row = 0; row < r.rows(); ++row) {
    size_t ord = static_cast<size_t>(r.Int(row, 0));
    Step& s = steps[std::lower_bound(indices.begin(), indices.end(), ord) - indices.begin()];
    Decide(r.Text(row, 2), r.Int(row, 1), r.Int(row, 3), batch.records[s.ord], &s);
  }
  return steps;
}

}  // namespace

std::string PgColumnType(const ModelField& f) {
  switch (f.type) {
    case FieldType::kInt:
      return "bigint";
    case FieldType::kDecimal:
      if (f.precision <= 0) return "numeric";
      return "numeric(" + std::to_string(f.precision) + "," + std::to_string(f.scale) + ")";
    case FieldType::kDate:
      return "date";
    case FieldType::kTimestamp:
      return "timestamp with time zone";
    case FieldType::kBool:
      return "boolean";
    default:
      return "text";
  }
}

PgEntity PgEntity::Build(const Entity& entity, const std::string& schema, int ordinal) {
  PgEntity e;
  e.entity = entity;
  e.schema = entity.ToSchema();
  e.db_schema = PgQuoteIdent(schema);
  e.table = e.db_schema + "." + PgQuoteIdent(entity.name);
  e.sequence = "sluice." + PgQuoteIdent(entity.name + "_id_seq");
  const std::string changes = "sluice_changes_" + std::to_string(ordinal);
  e.changes = "pg_temp." + changes;
  e.create_table = "CREATE TABLE IF NOT EXISTS " + e.table + "(sluice_id bigint PRIMARY KEY";
  e.create_changes = "CREATE TEMP TABLE IF NOT EXISTS " + changes +
                     "(target_id bigint NOT NULL, action text NOT NULL,"
                     " source text COLLATE \"C\" NOT NULL, key text COLLATE \"C\" NOT NULL,"
                     " hash bigint";
  e.scan = "SELECT x.source, x.key, x.target_id, x.content_hash, x.kind, t.sluice_id";
  std::string columns;  // the values, in sluice's units, for both scans
  for (size_t i = 0; i < entity.fields.size(); ++i) {
    const ModelField& f = entity.fields[i];
    const std::string col = PgQuoteIdent(f.name);
    e.create_table += ", " + col + " " + PgColumnType(f);
    e.create_changes += ", " + StageColumn(i) + " " + PgColumnType(f);
    // Integral values come back as integers in sluice's units; decimals as
    // their text (numeric(p,s) prints exactly s digits).
    switch (f.type) {
      case FieldType::kDate:
        columns += ", t." + col + " - DATE '1970-01-01'";
        break;
      case FieldType::kTimestamp:
        columns += ", (extract(epoch FROM t." + col + ") * 1000000)::bigint";
        break;
      case FieldType::kBool:
        columns += ", t." + col + "::int";
        break;
      default:
        columns += ", t." + col;
    }
  }
  e.create_table += ")";
  e.create_changes += ") ON COMMIT DELETE ROWS";
  e.scan += columns;
  e.stray_scan = "SELECT '', '', t.sluice_id, 0, 'loaded', t.sluice_id" + columns + " FROM " +
                 e.table + " t WHERE NOT EXISTS (SELECT 1 FROM sluice.xref x WHERE x.entity = " +
                 PgQuoteLiteral(entity.name) +
                 " AND x.target_id = t.sluice_id AND x.kind <> 'merged') ORDER BY t.sluice_id";
  e.scan += " FROM sluice.xref x LEFT JOIN " + e.table +
            " t ON t.sluice_id = x.target_id WHERE x.entity = " + PgQuoteLiteral(entity.name) +
            " ORDER BY x.source, x.key";
  return e;
}

Status ApplyRecords(PgConn* conn, const PgEntity& e, const std::string& run_id,
                    const RecordBatch& batch, const std::vector<size_t>& indices, bool fresh_stage,
                    AppliedBatch* applied) {
  if (!fresh_stage) {
    SLUICE_RETURN_IF_ERROR(
        conn->Exec(std::string("TRUNCATE ") + kKeys + ", " + kMerged + ", " + e.changes));
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<Step> steps, PlanSteps(conn, e, batch, indices));
  size_t inserts = 0, new_keys = 0, updates = 0, changes = 0;
  for (const Step& s : steps) {
    inserts += s.action == 'i';
    new_keys += s.action == 'i' && !s.had_xref;
    updates += s.action == 'u';
    changes += s.had_xref && s.action != '=';
  }
  // Ids in input order. They come as one run from the sequence unless
  // another loader draws at the same time: kept as ranges ("{[1,4097)}").
  std::string inserted_ids = "{";
  if (inserts) {
    SLUICE_ASSIGN_OR_RETURN(PgResult ids,
                            conn->Query("SELECT nextval(" + PgQuoteLiteral(e.sequence) +
                                            ") FROM generate_series(1, $1)",
                                        {std::to_string(inserts)}));
    if (static_cast<size_t>(ids.rows()) != inserts) return Status::Internal("short id block");
    int next = 0;
    int64_t run_start = 0, run_end = 0;  // [start, end)
    for (Step& s : steps) {
      if (s.action != 'i') continue;
      s.target_id = ids.Int(next++, 0);
      if (next > 1 && s.target_id == run_end) {
        ++run_end;
        continue;
      }
      if (next > 1)
        inserted_ids += "[" + std::to_string(run_start) + "," + std::to_string(run_end) + "),";
      run_start = s.target_id;
      run_end = s.target_id + 1;
    }
    inserted_ids += "[" + std::to_string(run_start) + "," + std::to_string(run_end) + ")";
  }
  inserted_ids += "}";

  // Known keys that change (updated rows; keys merged earlier that now get
  // a row of their own) are staged with what changes, for set-wise
  // statements. Merged keys are staged with their survivor's id; the latest
  // survivor in input order wins a key named twice.
  if (changes) {
    std::string rows;
    for (const Step& s : steps) {
      if (!s.had_xref || s.action == '=') continue;
      const Record& r = batch.records[s.ord];
      rows += std::to_string(s.target_id) + '\t' + s.action + '\t';
      AppendKey(r.source, r.key, &rows);
      rows += '\t' + std::to_string(std::bit_cast<int64_t>(r.content_hash));
      AppendValues(e.schema, s.action == 'u' ? &r : nullptr, &rows);
    }
    SLUICE_RETURN_IF_ERROR(conn->CopyIn("COPY " + e.changes + " FROM STDIN", rows));
  }
  std::map<SourceKey, int64_t> merged;
  for (const Step& s : steps) {
    for (const SourceKey& m : batch.records[s.ord].merged) merged[m] = s.target_id;
  }
  if (!merged.empty()) {
    std::string rows;
    for (const auto& [m, target_id] : merged) {
      AppendKey(m.source, m.key, &rows);
      rows += '\t' + std::to_string(target_id) + '\n';
    }
    SLUICE_RETURN_IF_ERROR(conn->CopyIn(std::string("COPY ") + kMerged + " FROM STDIN", rows));
  }

  // Before-images first, while every row still holds its pre-batch state.
  const std::vector<std::string> params = {e.entity.name, run_id};
  const std::string rollback =
      "INSERT INTO sluice.rollback(run_id, entity, target_id, op, before) SELECT $2, $1, ";
  const std::string changed_xref = e.changes +
                                   " c JOIN sluice.xref x ON x.entity = $1 AND"
                                   " x.source = c.source AND x.key = c.key";
  if (changes) {
    SLUICE_RETURN_IF_ERROR(
        conn->Query(rollback + "x.target_id, 'xref_update', to_jsonb(x) FROM " + changed_xref,
                    params)
            .status());
  }
  if (updates) {
    SLUICE_RETURN_IF_ERROR(conn->Query(rollback + "t.sluice_id, 'update', to_jsonb(t) FROM " +
                                           e.changes + " c JOIN " + e.table +
                                           " t ON t.sluice_id = c.target_id WHERE c.action = 'u'",
                                       params)
                               .status());
  }
  if (inserts) {
    SLUICE_RETURN_IF_ERROR(conn->Query("INSERT INTO sluice.rollback(run_id, entity, op, ids)"
                                       " VALUES($2, $1, 'insert', $3::int8multirange)",
                                       {e.entity.name, run_id, inserted_ids})
                               .status());
  }
  const std::string merged_xref = std::string(kMerged) +
                                  " m JOIN sluice.xref x ON x.entity = $1 AND"
                                  " x.source = m.source AND x.key = m.key";
  if (!merged.empty()) {
    SLUICE_RETURN_IF_ERROR(
        conn->Query(rollback + "x.target_id, 'xref_update', to_jsonb(x) FROM " + merged_xref +
                        " WHERE (x.target_id, x.content_hash, x.kind) IS DISTINCT FROM"
                        " (m.target_id, 0, 'merged')",
                    params)
            .status());
    SLUICE_RETURN_IF_ERROR(
        conn->Query(rollback +
                        "NULL, 'xref_insert', jsonb_build_object('source', m.source,"
                        " 'key', m.key) FROM " +
                        kMerged +
                        " m WHERE NOT EXISTS (SELECT 1 FROM sluice.xref x WHERE x.entity = $1"
                        " AND x.source = m.source AND x.key = m.key)",
                    params)
            .status());
  }
  // A merged key's own row of an earlier run is retired (issue 23).
  if (!merged.empty()) SLUICE_RETURN_IF_ERROR(RetireMergedRows(conn, e, run_id, kMerged));

  // Then the writes: new rows and entries straight in with COPY, changes
  // set-wise. The new keys' entries are formatted while the server is
  // still writing the rows (before the rows' COPY is ended).
  std::string xref_rows;
  auto format_entries = [&] {
    if (!new_keys) return;
    xref_rows.reserve(new_keys * 64);
    std::string tail;  // kind and run, the same on every line
    AppendCopyText(run_id, &tail);
    tail = "\tloaded\t" + tail + "\n";
    std::string entity;
    AppendCopyText(e.entity.name, &entity);
    for (const Step& s : steps) {
      if (s.action != 'i' || s.had_xref) continue;
      const Record& r = batch.records[s.ord];
      xref_rows += entity + '\t';
      AppendKey(r.source, r.key, &xref_rows);
      xref_rows += '\t' + std::to_string(s.target_id) + '\t' +
                   std::to_string(std::bit_cast<int64_t>(r.content_hash)) + tail;
    }
  };
  if (inserts) {
    // Sent in parts: the server parses one while the next is formatted.
    constexpr size_t kPart = 64 << 10;
    const std::string copy = "COPY " + e.table + "(sluice_id" + ColumnList(e) + ") FROM STDIN";
    SLUICE_RETURN_IF_ERROR(conn->CopyStart(copy));
    std::string rows;
    rows.reserve(kPart + 4096);
    Status sent;
    for (const Step& s : steps) {
      if (s.action != 'i') continue;
      rows += std::to_string(s.target_id);
      AppendValues(e.schema, &batch.records[s.ord], &rows);
      if (rows.size() >= kPart && sent.ok()) {
        sent = conn->CopyPut(rows);
        rows.clear();
      }
    }
    if (sent.ok()) sent = conn->CopyPut(rows);
    format_entries();
    SLUICE_RETURN_IF_ERROR(conn->CopyEnd(copy));
    SLUICE_RETURN_IF_ERROR(sent);
  }
  if (updates && !e.schema.fields.empty()) {
    std::string sets;
    for (size_t i = 0; i < e.schema.fields.size(); ++i) {
      sets += (i ? ", " : "") + PgQuoteIdent(e.schema.fields[i].name) + " = c." + StageColumn(i);
    }
    SLUICE_RETURN_IF_ERROR(conn->Query("UPDATE " + e.table + " t SET " + sets + " FROM " +
                                       e.changes +
                                       " c WHERE c.action = 'u' AND t.sluice_id = c.target_id")
                               .status());
  }
  if (new_keys) {
    // (A new key is always an insert: its entries were formatted above.)
    SLUICE_RETURN_IF_ERROR(
        conn->CopyIn("COPY sluice.xref(entity, source, key, target_id, content_hash, kind,"
                     " run_id) FROM STDIN",
                     xref_rows));
  }
  if (changes) {
    SLUICE_RETURN_IF_ERROR(
        conn->Query("UPDATE sluice.xref x SET target_id = c.target_id, content_hash = c.hash,"
                    " kind = 'loaded', run_id = $2 FROM " +
                        e.changes +
                        " c WHERE x.entity = $1 AND x.source = c.source AND x.key = c.key",
                    params)
            .status());
  }
  if (!merged.empty()) {
    SLUICE_RETURN_IF_ERROR(
        conn->Query("INSERT INTO sluice.xref AS x(entity, source, key, target_id, content_hash,"
                    " kind, run_id) SELECT $1, m.source, m.key, m.target_id, 0, 'merged', $2"
                    " FROM " +
                        std::string(kMerged) +
                        " m ON CONFLICT (entity, source, key) DO UPDATE SET"
                        " target_id = excluded.target_id, content_hash = excluded.content_hash,"
                        " kind = excluded.kind, run_id = excluded.run_id"
                        " WHERE (x.target_id, x.content_hash, x.kind) IS DISTINCT FROM"
                        " (excluded.target_id, excluded.content_hash, excluded.kind)",
                    params)
            .status());
  }

  for (const Step& s : steps) {
    applied->target_ids[s.ord] = s.target_id;
    applied->actions[s.ord] = s.action == 'i'   ? LoadOutcome::kInserted
                              : s.action == 'u' ? LoadOutcome::kUpdated
                                                : LoadOutcome::kUnchanged;
    applied->inserted += s.action == 'i';
    applied->updated += s.action == 'u';
    applied->unchanged += s.action == '=';
  }
  return Status::Ok();
}

Result<std::vector<int64_t>> LookupTargetIds(PgConn* conn, const PgEntity& e,
                                             const RecordBatch& batch) {
  std::vector<size_t> all(batch.records.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  SLUICE_RETURN_IF_ERROR(StageKeys(conn, batch, all));
  SLUICE_ASSIGN_OR_RETURN(
      PgResult r, conn->Query(std::string("SELECT s.ord, x.target_id FROM ") + kKeys +
                                  " s JOIN sluice.xref x ON x.entity = $1 AND x.source = s.source"
                                  " AND x.key = s.key",
                              {e.entity.name}));
  std::vector<int64_t> ids(batch.records.size(), 0);
  for (int row = 0; row < r.rows(); ++row) ids[static_cast<size_t>(r.Int(row, 0))] = r.Int(row, 1);
  return ids;
}

}  // namespace sluice
