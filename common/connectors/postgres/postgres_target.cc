// The PostgreSQL target. The SQL lives in postgres_load.cc and
// postgres_rollback.cc; this file owns the connection, the retries, bad-row
// isolation and the Target contract.
#include "common/connectors/postgres/postgres_target.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>
#include <unordered_set>
#include <utility>

#include "common/connectors/postgres/pg_util.h"
#include "common/connectors/postgres/postgres_load.h"
#include "common/connectors/postgres/postgres_xref.h"
#include "common/connectors/token_bucket.h"
#include "common/core/log.h"

namespace sluice {
namespace {

const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

class PostgresTarget : public Target {
 public:
  explicit PostgresTarget(TargetSpec spec, PostgresTargetOptions options)
      : spec_(std::move(spec)),
        options_(std::move(options)),
        bucket_(options_.max_rows_per_second),
        rng_(std::random_device{}()) {}

  Status Connect() {
    LogContext ctx;
    ctx.stage = "load";
    return Retrying(ctx, "connect", [] { return Status::Ok(); });
  }

  Status Prepare(const Entity& entity) override {
    LogContext ctx;
    ctx.entity = entity.name;
    ctx.stage = "load";
    Status st = Retrying(ctx, "prepare", [&] { return PrepareOnce(entity); });
    return st.WithContext(spec_.yaml_path + ": entity '" + entity.name + "'");
  }

  Result<LoadOutcome> Load(const std::string& run_id, const Entity& entity,
                           const RecordBatch& batch) override {
    auto out = LoadBatch(run_id, entity, batch);
    if (!out.ok()) {
      return out.status().WithContext(spec_.yaml_path + ": load " + BatchName(batch.id));
    }
    return out;
  }

  // Each connection is a transaction of its own; batches of one run touch
  // disjoint keys. Not under a rate limit, which is per connection.
  bool ConcurrentLoads() const override { return options_.max_rows_per_second <= 0; }

  // Issue 3's hook: reference lookups live in postgres_xref.cc.
  Result<std::vector<int64_t>> ResolveKeys(const std::string& entity, const std::string& source,
                                           const std::vector<std::string>& keys) override {
    LogContext ctx;
    ctx.entity = entity;
    ctx.stage = "load";
    return Retrying(ctx, "resolve references",
                    [&] { return ResolvePgXrefKeys(conn_.get(), entity, source, keys); });
  }

  Result<uint64_t> CountAppliedBatches(const std::string& run_id,
                                       const std::string& prefix) override {
    LogContext ctx;
    ctx.stage = "load";
    return Retrying(ctx, "count applied batches",
                    [&] { return CountPgAppliedBatches(conn_.get(), run_id, prefix); });
  }

  Status ScanRows(const Entity& entity, const std::function<void(const TargetRow&)>& fn) override {
    Status st = Scan(entity, /*strays=*/false, fn);
    return st.WithContext(spec_.yaml_path + ": scan entity '" + entity.name + "'");
  }

  // Issue 18 (`sluice compare`): rows no cross-reference entry owns.
  Status ScanRowsWithoutEntry(const Entity& entity,
                              const std::function<void(const TargetRow&)>& fn) override {
    Status st = Scan(entity, /*strays=*/true, fn);
    return st.WithContext(spec_.yaml_path + ": rows of entity '" + entity.name +
                          "' without an entry");
  }

  Result<std::vector<RetiredRow>> RetireRows(const std::string& run_id, const Entity& entity,
                                             const std::vector<SourceKey>& keys) override {
    return RowsInTransaction(run_id, entity, "retiring rows", [&](const PgEntity& e) {
      return RetirePgRows(conn_.get(), e, run_id, keys);
    });
  }

  Result<std::vector<RetiredRow>> SoftDeleteRows(const std::string& run_id, const Entity& entity,
                                                 const std::string& field,
                                                 const std::vector<SourceKey>& keys,
                                                 int64_t at_micros) override {
    const ModelField* f = entity.Find(field);
    if (f == nullptr || (f->type != FieldType::kTimestamp && f->type != FieldType::kDate)) {
      return Status::InvalidArgument(spec_.yaml_path + ": entity '" + entity.name +
                                     "' has no timestamp or date field '" + field + "'");
    }
    // The timestamp's text; PostgreSQL casts it to the column's type (a
    // date keeps the day).
    const std::string at =
        *FormatValue(FieldSpec{field, FieldType::kTimestamp}, Value::Int(at_micros));
    return RowsInTransaction(run_id, entity, "marking rows deleted", [&](const PgEntity& e) {
      return SoftDeletePgRows(conn_.get(), e, run_id, field, keys, at);
    });
  }

  Result<std::vector<TargetEntry>> LookupEntries(const Entity& entity,
                                                 const std::vector<SourceKey>& keys) override {
    return ReconcileQuery(entity, "look up entries", [&](const PgEntity& e) {
      return LookupPgXrefEntries(conn_.get(), e.table, entity.name, keys);
    });
  }

  Result<uint64_t> CountRows(const Entity& entity) override {
    return ReconcileQuery(entity, "count rows",
                          [&](const PgEntity& e) { return CountPgRows(conn_.get(), e); });
  }

  Status Rollback(const std::string& run_id, const Entity& entity) override {
    Status st = RollbackEntity(run_id, entity);
    return st.WithContext(spec_.yaml_path + ": rollback of run " + run_id + ", entity '" +
                          entity.name + "'");
  }

 private:
  // One read-only query of the reconciler's about the entity (prepared
  // first when this connection has not met it), retried as Retrying does.
  template <typename Fn>
  auto ReconcileQuery(const Entity& entity, const std::string& what, Fn&& fn)
      -> decltype(fn(std::declval<const PgEntity&>())) {
    LogContext ctx;
    ctx.entity = entity.name;
    ctx.stage = "reconcile";
    if (!entities_.count(entity.name)) {
      SLUICE_RETURN_IF_ERROR(Retrying(ctx, "prepare", [&] { return PrepareOnce(entity); }));
    }
    const PgEntity& e = entities_.at(entity.name);
    return Retrying(ctx, what, [&] { return fn(e); });
  }

  // Runs `fn` (one whole transaction) until it succeeds, fails for good or
  // runs out of attempts; reconnects first when the connection is gone.
  // Transient failures are logged and retried after a backoff with full
  // jitter: a uniform delay in [0, min(retry_max_ms, retry_base_ms * 2^k)).
  template <typename Fn>
  auto Retrying(const LogContext& ctx, const std::string& what, Fn&& fn) -> decltype(fn()) {
    for (int attempt = 1;; ++attempt) {
      Status st = EnsureConnected();
      if (st.ok()) {
        auto r = fn();
        if (r.ok()) return r;
        st = StatusOf(r);
        conn_->RollbackQuietly();
      }
      if (!IsTransient(st)) return st;
      if (attempt >= options_.max_attempts) {
        return st.WithContext(what + ": gave up after " + std::to_string(attempt) + " attempt(s)");
      }
      int64_t cap = options_.retry_base_ms;
      for (int k = 1; k < attempt && cap < options_.retry_max_ms; ++k) cap *= 2;
      cap = std::min(cap, options_.retry_max_ms);
      int64_t delay = std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(cap, 0))(rng_);
      LogWarn(ctx, what + ": attempt " + std::to_string(attempt) + " of " +
                       std::to_string(options_.max_attempts) + " failed, retrying in " +
                       std::to_string(delay) + " ms: " + st.message());
      if (conn_ && !conn_->healthy()) DropConnection();
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
  }

  Status EnsureConnected() {
    if (conn_ && conn_->healthy()) return Status::Ok();
    DropConnection();
    SLUICE_ASSIGN_OR_RETURN(conn_, PgConn::Connect(options_.dsn));
    return Status::Ok();
  }

  void DropConnection() {
    conn_.reset();
    staged_.clear();  // temporary tables die with the session
  }

  // Runs `body` on the entity's statements inside one transaction, retried
  // as a whole (the row retirements of issues 18 and 23); `what` names it
  // in errors ("retiring rows").
  Result<std::vector<RetiredRow>> RowsInTransaction(
      const std::string& run_id, const Entity& entity, const std::string& what,
      const std::function<Result<std::vector<RetiredRow>>(const PgEntity&)>& body) {
    LogContext ctx;
    ctx.run = run_id;
    ctx.entity = entity.name;
    ctx.stage = "load";
    if (!entities_.count(entity.name)) {
      SLUICE_RETURN_IF_ERROR(Retrying(ctx, "prepare", [&] { return PrepareOnce(entity); }));
    }
    const PgEntity& e = entities_.at(entity.name);
    auto out = Retrying(ctx, what, [&]() -> Result<std::vector<RetiredRow>> {
      // The keys are staged in pg_temp.sluice_keys: on a connection that has
      // loaded nothing yet (the loader's main one, when its batches went
      // through the pipelined loads' connections) it is created here.
      SLUICE_RETURN_IF_ERROR(EnsureStaging(e));
      SLUICE_RETURN_IF_ERROR(conn_->Exec("BEGIN"));
      SLUICE_ASSIGN_OR_RETURN(std::vector<RetiredRow> rows, body(e));
      SLUICE_RETURN_IF_ERROR(conn_->Exec("COMMIT"));
      return rows;
    });
    if (!out.ok()) {
      return out.status().WithContext(spec_.yaml_path + ": " + what + " of entity '" + entity.name +
                                      "'");
    }
    return out;
  }

  // Creates the temporary staging tables of `e` on this connection, outside
  // any transaction (a rolled-back CREATE would leave `staged_` wrong).
  Status EnsureStaging(const PgEntity& e) {
    if (staged_.empty()) {
      SLUICE_RETURN_IF_ERROR(conn_->Exec(kSharedStagingDdl));
      staged_.insert("");
    }
    if (staged_.count(e.changes)) return Status::Ok();
    SLUICE_RETURN_IF_ERROR(conn_->Exec(e.create_changes));
    staged_.insert(e.changes);
    return Status::Ok();
  }

  Status PrepareOnce(const Entity& entity) {
    if (entities_.count(entity.name)) return Status::Ok();
    for (const auto& f : entity.fields) {
      if (f.name == "sluice_id") {
        return Status::InvalidArgument("field name 'sluice_id' is reserved by the postgres target");
      }
    }
    PgEntity e = PgEntity::Build(entity, options_.schema, static_cast<int>(entities_.size()));
    SLUICE_RETURN_IF_ERROR(conn_->Exec("BEGIN"));
    // Concurrent loaders creating the same tables would collide in the
    // catalog; one at a time.
    SLUICE_RETURN_IF_ERROR(
        conn_->Query("SELECT pg_advisory_xact_lock(hashtextextended('sluice.prepare', 0))")
            .status());
    SLUICE_RETURN_IF_ERROR(CreateMissingTables(conn_.get(), e, options_.schema));
    SLUICE_ASSIGN_OR_RETURN(
        PgResult cols,
        conn_->Query("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
                     " WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped"
                     " ORDER BY attnum",
                     {e.table}));
    std::vector<std::pair<std::string, std::string>> want = {{"sluice_id", "bigint"}}, have;
    for (const auto& f : entity.fields) want.emplace_back(f.name, PgColumnType(f));
    for (int r = 0; r < cols.rows(); ++r) {
      have.emplace_back(std::string(cols.Text(r, 0)), std::string(cols.Text(r, 1)));
    }
    if (have != want) {
      return Status::FailedPrecondition(
          "table " + e.table + " exists with different columns: " + Difference(want, have));
    }
    // A table that already held rows: new ids start above them.
    SLUICE_RETURN_IF_ERROR(conn_
                               ->Query("SELECT setval(" + PgQuoteLiteral(e.sequence) +
                                       ", m) FROM (SELECT max(sluice_id)"
                                       " m FROM " +
                                       e.table +
                                       ") t WHERE m >= (SELECT CASE WHEN is_called THEN"
                                       " last_value + 1 ELSE last_value END FROM " +
                                       e.sequence + ")")
                               .status());
    SLUICE_RETURN_IF_ERROR(conn_->Exec("COMMIT"));
    PgEntity& added = entities_.emplace(entity.name, std::move(e)).first->second;
    // Which prepared entities refer to which: a row retired for a survivor
    // takes the references to it along (RetireMergedRows).
    for (auto& [name, other] : entities_) {
      for (const auto& f : entity.fields) {
        if (f.type == FieldType::kReference && f.references == name) {
          other.referrers.emplace_back(entity.name, f.name);
        }
      }
      if (name == entity.name) continue;
      for (const auto& f : other.entity.fields) {
        if (f.type == FieldType::kReference && f.references == entity.name) {
          added.referrers.emplace_back(name, f.name);
        }
      }
    }
    return Status::Ok();
  }

  static std::string Difference(const std::vector<std::pair<std::string, std::string>>& want,
                                const std::vector<std::pair<std::string, std::string>>& have) {
    std::map<std::string, std::string> w(want.begin(), want.end());
    std::map<std::string, std::string> h(have.begin(), have.end());
    std::string out;
    auto add = [&out](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
    for (const auto& [name, type] : want) {
      auto it = h.find(name);
      if (it == h.end()) {
        add("missing column '" + name + "' " + type);
      } else if (it->second != type) {
        add("column '" + name + "' is " + it->second + ", expected " + type);
      }
    }
    for (const auto& [name, type] : have) {
      if (!w.count(name)) add("unexpected column '" + name + "' " + type);
    }
    return out.empty() ? "columns in a different order" : out;
  }

  Status CheckBatch(const PgEntity& e, const RecordBatch& batch) {
    if (!batch.records.empty() && !(batch.schema == e.schema)) {
      return Status::InvalidArgument("batch schema does not match the model of entity '" +
                                     e.entity.name + "'");
    }
    std::unordered_set<std::string> keys;
    for (const Record& r : batch.records) {
      if (r.values.size() != e.schema.fields.size()) {
        return Status::InvalidArgument("record " + r.source + "/" + r.key + " has " +
                                       std::to_string(r.values.size()) + " values, expected " +
                                       std::to_string(e.schema.fields.size()));
      }
      // The set-based upsert decides per key once; a key twice in one batch
      // would be ambiguous (the deduper never emits that).
      if (!keys.insert(r.source + '\x1f' + r.key).second) {
        return Status::InvalidArgument("key " + r.source + "/" + r.key +
                                       " appears twice in the batch");
      }
    }
    return Status::Ok();
  }

  Result<LoadOutcome> LoadBatch(const std::string& run_id, const Entity& entity,
                                const RecordBatch& batch) {
    LogContext ctx{run_id, static_cast<int>(batch.id.wave()), entity.name, BatchName(batch.id),
                   "load"};
    if (!entities_.count(entity.name)) {
      SLUICE_RETURN_IF_ERROR(Retrying(ctx, "prepare", [&] { return PrepareOnce(entity); }));
    }
    const PgEntity& e = entities_.at(entity.name);
    SLUICE_RETURN_IF_ERROR(CheckBatch(e, batch));
    bucket_.Take(batch.records.size());
    bool bisect = false;
    return Retrying(ctx, "load", [&]() -> Result<LoadOutcome> {
      auto r = Attempt(run_id, e, batch, bisect);
      if (r.ok() || bisect || !IsDataRejection(r.status())) return r;
      // The server refused some row: find which, keep the rest.
      conn_->RollbackQuietly();
      bisect = true;
      return Attempt(run_id, e, batch, bisect);
    });
  }

  // One transaction applying the whole batch; with `bisect`, rows the
  // server refuses are isolated by halving under savepoints and rejected.
  Result<LoadOutcome> Attempt(const std::string& run_id, const PgEntity& e,
                              const RecordBatch& batch, bool bisect) {
    const std::string name = BatchName(batch.id);
    SLUICE_RETURN_IF_ERROR(EnsureStaging(e));
    SLUICE_RETURN_IF_ERROR(conn_->Exec(kBeginLoad));
    // Two loaders given the same batch (a re-lease) apply it one after the
    // other; the second finds it applied.
    SLUICE_RETURN_IF_ERROR(conn_
                               ->Query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                       {run_id + '\x1f' + name})
                               .status());
    SLUICE_ASSIGN_OR_RETURN(
        PgResult applied_before,
        conn_->Query("SELECT inserted, updated, unchanged, actions, rejects FROM sluice.batches"
                     " WHERE run_id = $1 AND batch = $2",
                     {run_id, name}));
    if (applied_before.rows() > 0) return Replay(e, batch, applied_before);

    AppliedBatch applied(batch.records.size());
    std::vector<std::pair<size_t, std::string>> rejected;
    std::vector<size_t> all(batch.records.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    if (bisect) {
      SLUICE_RETURN_IF_ERROR(
          Bisect(run_id, e, batch, all, /*known_bad=*/true, &applied, &rejected));
    } else if (!all.empty()) {
      SLUICE_RETURN_IF_ERROR(ApplyRecords(conn_.get(), e, run_id, batch, all, true, &applied));
    }
    nlohmann::json rejects = nlohmann::json::array();
    for (const auto& [ord, reason] : rejected) {
      rejects.push_back({{"ord", ord}, {"reason", reason}});
    }
    SLUICE_RETURN_IF_ERROR(
        conn_
            ->Query("INSERT INTO sluice.batches(run_id, batch, entity, inserted, updated,"
                    " unchanged, actions, rejects) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
                    {run_id, name, e.entity.name, std::to_string(applied.inserted),
                     std::to_string(applied.updated), std::to_string(applied.unchanged),
                     applied.actions,
                     rejects.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)})
            .status());
    SLUICE_RETURN_IF_ERROR(conn_->Exec("COMMIT"));
    LoadOutcome out;
    out.inserted = applied.inserted;
    out.updated = applied.updated;
    out.unchanged = applied.unchanged;
    out.target_ids = std::move(applied.target_ids);
    out.actions = std::move(applied.actions);
    for (const auto& [ord, reason] : rejected) {
      out.rejects.push_back(Reject(batch.records[ord], reason));
    }
    return out;
  }

  // Applies `indices` under a savepoint; on a data rejection, halves them
  // until the refused rows stand alone. `known_bad`: the set is known to
  // fail as a whole, so go straight to its halves.
  Status Bisect(const std::string& run_id, const PgEntity& e, const RecordBatch& batch,
                const std::vector<size_t>& indices, bool known_bad, AppliedBatch* applied,
                std::vector<std::pair<size_t, std::string>>* rejected) {
    if (indices.empty()) return Status::Ok();
    if (!known_bad || indices.size() == 1) {
      SLUICE_RETURN_IF_ERROR(conn_->Exec("SAVEPOINT sluice_part"));
      Status st = ApplyRecords(conn_.get(), e, run_id, batch, indices, false, applied);
      if (st.ok()) return conn_->Exec("RELEASE SAVEPOINT sluice_part");
      if (!IsDataRejection(st)) return st;
      SLUICE_RETURN_IF_ERROR(
          conn_->Exec("ROLLBACK TO SAVEPOINT sluice_part; RELEASE SAVEPOINT sluice_part"));
      if (indices.size() == 1) {
        rejected->emplace_back(indices[0], st.message());
        return Status::Ok();
      }
    }
    auto mid = indices.begin() + static_cast<std::ptrdiff_t>(indices.size() / 2);
    SLUICE_RETURN_IF_ERROR(
        Bisect(run_id, e, batch, {indices.begin(), mid}, false, applied, rejected));
    return Bisect(run_id, e, batch, {mid, indices.end()}, false, applied, rejected);
  }

  static v1::Fate Reject(const Record& r, const std::string& reason) {
    v1::Fate f;
    f.set_kind(v1::FATE_REJECTED);
    f.set_source(r.source);
    f.set_key(r.key);
    f.set_stage("load");
    f.set_rule("target_rejected");
    f.set_reason(reason);
    f.set_line(r.line);
    return f;
  }

  // The stored outcome of a batch already applied in this run.
  Result<LoadOutcome> Replay(const PgEntity& e, const RecordBatch& batch, const PgResult& stored) {
    LoadOutcome out;
    out.replayed = true;
    out.inserted = static_cast<uint64_t>(stored.Int(0, 0));
    out.updated = static_cast<uint64_t>(stored.Int(0, 1));
    out.unchanged = static_cast<uint64_t>(stored.Int(0, 2));
    out.actions = std::string(stored.Text(0, 3));
    if (out.actions.size() != batch.records.size()) {
      return Status::Corruption("batch was applied with " + std::to_string(out.actions.size()) +
                                " record(s), now has " + std::to_string(batch.records.size()));
    }
    SLUICE_ASSIGN_OR_RETURN(out.target_ids, LookupTargetIds(conn_.get(), e, batch));
    auto rejects = nlohmann::json::parse(stored.Text(0, 4), nullptr, false);
    if (!rejects.is_array()) return Status::Corruption("unreadable rejects of an applied batch");
    for (const auto& j : rejects) {
      size_t ord = j.value("ord", batch.records.size());
      if (ord >= batch.records.size()) return Status::Corruption("reject out of the batch");
      out.rejects.push_back(Reject(batch.records[ord], j.value("reason", "")));
    }
    for (size_t i = 0; i < out.actions.size(); ++i) {
      if (out.actions[i] == kRejectedAction) out.target_ids[i] = 0;
    }
    SLUICE_RETURN_IF_ERROR(conn_->Exec("COMMIT"));
    return out;
  }

  Status RollbackEntity(const std::string& run_id, const Entity& entity) {
    LogContext ctx;
    ctx.run = run_id;
    ctx.entity = entity.name;
    ctx.stage = "rollback";
    if (!entities_.count(entity.name)) {
      SLUICE_RETURN_IF_ERROR(Retrying(ctx, "prepare", [&] { return PrepareOnce(entity); }));
    }
    const PgEntity& e = entities_.at(entity.name);
    return Retrying(ctx, "rollback", [&] {
      SLUICE_RETURN_IF_ERROR(conn_->Exec("BEGIN"));
      SLUICE_RETURN_IF_ERROR(RollbackRun(conn_.get(), e, run_id));
      return conn_->Exec("COMMIT");
    });
  }

  // `strays`: the rows without an entry (stray_scan) rather than the entries.
  Status Scan(const Entity& entity, bool strays, const std::function<void(const TargetRow&)>& fn);

  TargetSpec spec_;
  PostgresTargetOptions options_;
  TokenBucket bucket_;
  std::mt19937_64 rng_;
  std::unique_ptr<PgConn> conn_;
  std::map<std::string, PgEntity> entities_;
  std::set<std::string> staged_;  // staging tables on this connection ("" = shared ones)
};

// Reads the entity back (postgres_scan.cc), streamed, so memory stays flat.
// Only connecting is retried: rows already handed to `fn` cannot be taken
// back.
Status PostgresTarget::Scan(const Entity& entity, bool strays,
                            const std::function<void(const TargetRow&)>& fn) {
  LogContext ctx;
  ctx.entity = entity.name;
  ctx.stage = "scan";
  if (!entities_.count(entity.name)) {
    SLUICE_RETURN_IF_ERROR(Retrying(ctx, "prepare", [&] { return PrepareOnce(entity); }));
  }
  SLUICE_RETURN_IF_ERROR(Retrying(ctx, "connect", [] { return Status::Ok(); }));
  return ScanPgRows(conn_.get(), entities_.at(entity.name), strays, fn);
}

}  // namespace

Result<std::unique_ptr<Target>> OpenPostgresTarget(const TargetSpec& spec) {
  SLUICE_ASSIGN_OR_RETURN(PostgresTargetOptions options, ParsePostgresTargetOptions(spec));
  auto target = std::make_unique<PostgresTarget>(spec, std::move(options));
  // The DSN may hold a password: never repeat it in a message.
  Status st = target->Connect();
  if (!st.ok()) return st.WithContext(spec.yaml_path + ".dsn");
  return std::unique_ptr<Target>(std::move(target));
}

}  // namespace sluice
