// The PostgreSQL target against a real server (see postgres_target_test_util.h).
#include "common/connectors/postgres/postgres_target.h"

#include <gtest/gtest.h>

#include <map>

#include "common/connectors/postgres/postgres_target_test_util.h"
#include "common/connectors/token_bucket.h"

namespace sluice {
namespace {

using pgtest::Field;
using pgtest::Hcp;
using pgtest::PgTargetTest;
using pgtest::Rec;

std::map<std::string, TargetRow> ScanAll(Target* target, const Entity& entity) {
  std::map<std::string, TargetRow> rows;
  Status st =
      target->ScanRows(entity, [&](const TargetRow& r) { rows[r.source + "/" + r.key] = r; });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return rows;
}

TEST_F(PgTargetTest, UpsertIsIdempotentUpdatesChangesAndReplaysBatches) {
  Open();
  Entity hcp = Hcp();
  ASSERT_TRUE(target_->Prepare(hcp).ok());
  ASSERT_TRUE(target_->Prepare(hcp).ok());  // idempotent

  RecordBatch b = Batch(0, {Rec("1", "ann", 12345), Rec("2", "bob", -5), Rec("3", "cy", 0)});
  auto first = target_->Load("run-a", hcp, b);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->inserted, 3u);
  EXPECT_EQ(first->actions, "iii");
  EXPECT_FALSE(first->replayed);
  ASSERT_EQ(first->target_ids.size(), 3u);
  EXPECT_LT(first->target_ids[0], first->target_ids[1]);  // drawn in input order
  EXPECT_LT(first->target_ids[1], first->target_ids[2]);

  // The same (run, batch): replayed, the same answer, nothing written.
  const std::string before = Checksum();
  auto replay = target_->Load("run-a", hcp, b);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->inserted, 3u);
  EXPECT_EQ(replay->actions, "iii");
  EXPECT_EQ(replay->target_ids, first->target_ids);
  EXPECT_EQ(Checksum(), before);

  // The same batch in a new run: nothing inserted or updated.
  auto rerun = target_->Load("run-b", hcp, b);
  ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
  EXPECT_FALSE(rerun->replayed);
  EXPECT_EQ(rerun->inserted, 0u);
  EXPECT_EQ(rerun->updated, 0u);
  EXPECT_EQ(rerun->unchanged, 3u);
  EXPECT_EQ(rerun->actions, "===");
  EXPECT_EQ(rerun->target_ids, first->target_ids);
  EXPECT_EQ(Checksum(), before);

  // Changed content: updated in place, a new key inserted.
  RecordBatch changed = Batch(1, {Rec("1", "ann", 99), Rec("2", "bob", -5), Rec("4", "dee", 7)});
  auto upd = target_->Load("run-c", hcp, changed);
  ASSERT_TRUE(upd.ok()) << upd.status().ToString();
  EXPECT_EQ(upd->actions, "u=i");
  EXPECT_EQ(upd->updated, 1u);
  EXPECT_EQ(upd->unchanged, 1u);
  EXPECT_EQ(upd->inserted, 1u);
  EXPECT_EQ(upd->target_ids[0], first->target_ids[0]);
  EXPECT_EQ(Scalar("SELECT balance FROM public.hcp WHERE sluice_id = " +
                   std::to_string(first->target_ids[0])),
            "0.99");
  EXPECT_EQ(Scalar("SELECT count(*) FROM public.hcp"), "4");

  auto rows = ScanAll(target_.get(), hcp);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows["crm/1"].values, changed.records[0].values);
  EXPECT_EQ(rows["crm/1"].recorded_hash, changed.records[0].content_hash);
  EXPECT_EQ(rows["crm/2"].target_id, first->target_ids[1]);

  // A second target on the same database sees the same state.
  auto other = OpenPostgresTarget(spec_);
  ASSERT_TRUE(other.ok());
  auto again = (*other)->Load("run-d", hcp, changed);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->actions, "===");
}

TEST_F(PgTargetTest, MergedKeysPointAtTheirSurvivor) {
  Open();
  Entity hcp = Hcp();
  Record survivor = Rec("1", "ann", 100);
  survivor.merged = {{"erp", "E1"}, {"erp", "E2"}};
  auto out = target_->Load("run-a", hcp, Batch(0, {survivor, Rec("2", "bob", 1)}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->inserted, 2u);
  auto rows = ScanAll(target_.get(), hcp);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_TRUE(rows["erp/E1"].merged);
  EXPECT_EQ(rows["erp/E1"].target_id, out->target_ids[0]);
  EXPECT_EQ(rows["erp/E2"].target_id, out->target_ids[0]);
  EXPECT_EQ(rows["erp/E2"].values, survivor.values);  // the survivor's row
  EXPECT_FALSE(rows["crm/1"].merged);

  // Loading the same again changes nothing; a merged key that later arrives
  // on its own gets its own row and never overwrites the survivor.
  const std::string before = Checksum();
  ASSERT_TRUE(target_->Load("run-b", hcp, Batch(0, {survivor, Rec("2", "bob", 1)})).ok());
  EXPECT_EQ(Checksum(), before);
  auto alone = target_->Load("run-c", hcp, Batch(1, {Rec("E1", "eve", 5, "erp")}));
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  EXPECT_EQ(alone->actions, "i");
  EXPECT_NE(alone->target_ids[0], out->target_ids[0]);
  rows = ScanAll(target_.get(), hcp);
  EXPECT_FALSE(rows["erp/E1"].merged);
  EXPECT_EQ(rows["erp/E1"].target_id, alone->target_ids[0]);
  EXPECT_EQ(rows["crm/1"].values, survivor.values);
}

// The survivor check's lookup (issue 20): the entries a filtered scan
// gives, a missing key left out, a dangling entry without its row, a key
// with a quote and a backslash.
TEST_F(PgTargetTest, LookupEntriesAnswersAsTheScanDoes) {
  Open();
  Entity hcp = Hcp();
  Record survivor = Rec("1", "ann", 100);
  survivor.merged = {{"erp", "E\"1\\"}};
  auto out = target_->Load("run-a", hcp, Batch(0, {survivor, Rec("2", "bob", 1)}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE(
      conn_->Exec("DELETE FROM hcp WHERE sluice_id = " + std::to_string(out->target_ids[1])).ok());
  const std::vector<SourceKey> keys = {
      {"crm", "1"}, {"erp", "E\"1\\"}, {"crm", "404"}, {"crm", "2"}};
  auto looked = target_->LookupEntries(hcp, keys);
  ASSERT_TRUE(looked.ok()) << looked.status().ToString();
  auto scanned = target_->Target::LookupEntries(hcp, keys);
  ASSERT_TRUE(scanned.ok()) << scanned.status().ToString();
  auto by_key = [](const std::vector<TargetEntry>& entries) {
    std::map<std::string, std::string> m;
    for (const TargetEntry& e : entries) {
      m[e.source + "/" + e.key] =
          std::to_string(e.target_id) + (e.merged ? " merged" : "") + (e.row ? " row" : "");
    }
    return m;
  };
  const std::string id = std::to_string(out->target_ids[0]);
  EXPECT_EQ(by_key(*looked),
            (std::map<std::string, std::string>{{"crm/1", id + " row"},
                                                {"erp/E\"1\\", id + " merged row"},
                                                {"crm/2", std::to_string(out->target_ids[1])}}));
  EXPECT_EQ(by_key(*looked), by_key(*scanned));
}

// A row written by something other than a load (no cross-reference entry
// owns it) is listed with its values; loaded rows and the survivor of
// merged keys are not (issue 17: each is an UNEXPECTED_TARGET).
TEST_F(PgTargetTest, RowsWithoutAnEntryAreListedWithTheirValues) {
  Open();
  Entity hcp = Hcp();
  Record survivor = Rec("1", "ann", 100);
  survivor.merged = {{"erp", "E1"}};
  ASSERT_TRUE(target_->Load("run-a", hcp, Batch(0, {survivor, Rec("2", "bob", 1)})).ok());
  ASSERT_TRUE(conn_
                  ->Exec("INSERT INTO hcp(sluice_id, name, dob, balance, active, visits)"
                         " VALUES (9000, 'stray', DATE '1990-01-02', 12.34, true, 7)")
                  .ok());
  std::vector<TargetRow> stray;
  Status st = target_->ScanRowsWithoutEntry(hcp, [&](const TargetRow& r) { stray.push_back(r); });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(stray.size(), 1u);
  EXPECT_EQ(stray[0].target_id, 9000);
  EXPECT_TRUE(stray[0].key.empty());
  EXPECT_EQ(stray[0].values,
            (std::vector<Value>{Value::Str("stray"), Value::Int(*CivilDays(1990, 1, 2)),
                                Value::Int(1234), Value::Int(1), Value::Int(7)}));
}

TEST_F(PgTargetTest, KeysSpreadOverManyEntriesAreProbedOneByOne) {
  Open();
  Entity hcp = Hcp();
  std::vector<Record> many;
  for (int i = 100; i < 200; ++i) many.push_back(Rec("k" + std::to_string(i), "n", i));
  auto first = target_->Load("run-a", hcp, Batch(0, many));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // Three keys whose span holds 100 entries: looked up key by key.
  auto out = target_->Load(
      "run-b", hcp, Batch(1, {Rec("k199", "n", 199), Rec("k150x", "x", 1), Rec("k100", "m", 100)}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->actions, "=iu");
  EXPECT_EQ(out->target_ids[0], first->target_ids[99]);
  EXPECT_EQ(out->target_ids[2], first->target_ids[0]);
}

TEST_F(PgTargetTest, BadRowIsRejectedWithTheServersMessageAndTheRestLoads) {
  Open();
  Entity hcp = Hcp();
  ASSERT_TRUE(target_->Prepare(hcp).ok());
  ASSERT_TRUE(
      conn_->Exec("ALTER TABLE public.hcp ADD CONSTRAINT balance_not_negative CHECK (balance >= 0)")
          .ok());
  std::vector<Record> records;
  for (int i = 0; i < 37; ++i) records.push_back(Rec(std::to_string(i), "n", i));
  records[23].values[2] = Value::Int(-1);
  records[30].values[2] = Value::Int(1000000000000);  // overflows numeric(12,2)
  RecordBatch b = Batch(0, records);
  auto out = target_->Load("run-a", hcp, b);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->inserted, 35u);
  ASSERT_EQ(out->rejects.size(), 2u);
  const v1::Fate& check = out->rejects[0];
  EXPECT_EQ(check.kind(), v1::FATE_REJECTED);
  EXPECT_EQ(check.key(), "23");
  EXPECT_EQ(check.source(), "crm");
  EXPECT_EQ(check.stage(), "load");
  EXPECT_EQ(check.rule(), "target_rejected");
  EXPECT_EQ(check.line(), b.records[23].line);
  EXPECT_NE(check.reason().find("violates check constraint \"balance_not_negative\""),
            std::string::npos)
      << check.reason();
  EXPECT_EQ(out->rejects[1].key(), "30");
  EXPECT_NE(out->rejects[1].reason().find("numeric field overflow"), std::string::npos)
      << out->rejects[1].reason();
  ASSERT_EQ(out->actions.size(), 37u);
  EXPECT_EQ(out->actions[23], '-');
  EXPECT_EQ(out->actions[30], '-');
  EXPECT_EQ(out->actions[22], LoadOutcome::kInserted);
  EXPECT_EQ(out->target_ids[23], 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM public.hcp"), "35");
  EXPECT_EQ(Scalar("SELECT count(*) FROM sluice.xref WHERE key IN ('23', '30')"), "0");

  // Rows refused only together: the second of two equal names.
  ASSERT_TRUE(
      conn_->Exec("CREATE UNIQUE INDEX hcp_name ON public.hcp(name) WHERE name <> 'n'").ok());
  auto pair = target_->Load("run-a", hcp, Batch(1, {Rec("a", "same", 1), Rec("b", "same", 2)}));
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  EXPECT_EQ(pair->actions, "i-");
  ASSERT_EQ(pair->rejects.size(), 1u);
  EXPECT_NE(pair->rejects[0].reason().find("duplicate key value violates unique constraint"),
            std::string::npos)
      << pair->rejects[0].reason();

  // A replay reports the same rejects.
  auto replay = target_->Load("run-a", hcp, b);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->actions, out->actions);
  EXPECT_EQ(replay->target_ids, out->target_ids);
  ASSERT_EQ(replay->rejects.size(), 2u);
  EXPECT_EQ(replay->rejects[0].reason(), check.reason());
}

TEST_F(PgTargetTest, EveryTypeRoundTripsThroughScanRows) {
  Entity e;
  e.name = "every_type";
  e.fields = {Field("s", FieldType::kString),         Field("i", FieldType::kInt),
              Field("d", FieldType::kDecimal, 18, 4), Field("day", FieldType::kDate),
              Field("ts", FieldType::kTimestamp),     Field("b", FieldType::kBool),
              Field("color", FieldType::kEnum),       Field("parent", FieldType::kReference)};
  auto full = [](const std::string& key, std::string s, int64_t i, int64_t d, int64_t day,
                 int64_t ts, int64_t b) {
    Record r;
    r.source = "src";
    r.key = key;
    r.values = {Value::Str(std::move(s)), Value::Int(i), Value::Int(d),     Value::Int(day),
                Value::Int(ts),           Value::Int(b), Value::Str("red"), Value::Str("P-1")};
    return r;
  };
  std::vector<Record> records = {
      // Every byte COPY TO escapes (\b \f \v too) read back as it was loaded.
      full("a", "tab\there\nnew line\\back\rslash 'q' \"dq\" zoë 日本 \b\f\v\x01.", INT64_MAX,
           -12345678, *CivilDays(1969, 12, 31), -1, 1),
      full("b", "", INT64_MIN, 5, *CivilDays(2020, 2, 29), 1582988700123456, 0),
      full("c", "\\N", 0, 0, *CivilDays(1, 1, 1), 0, 1),  // not NULL: the text \N
  };
  Record nulls;
  nulls.source = "src";
  nulls.key = "tab\tkey\\";
  nulls.values.assign(e.fields.size(), Value::Null());
  records.push_back(nulls);
  Open();
  RecordBatch b = Batch(0, records, e);
  auto out = target_->Load("run-a", e, b);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid ="
                   " 'public.every_type'::regclass AND attname = 'ts'"),
            "timestamp with time zone");
  EXPECT_EQ(Scalar("SELECT d FROM public.every_type WHERE s = ''"), "0.0005");
  auto rows = ScanAll(target_.get(), e);
  ASSERT_EQ(rows.size(), records.size());
  for (const Record& r : b.records) {
    const TargetRow& got = rows[r.source + "/" + r.key];
    EXPECT_EQ(got.values, r.values) << r.key;
    EXPECT_EQ(ContentHash(b.schema, got.values), r.content_hash) << r.key;
    EXPECT_EQ(got.recorded_hash, r.content_hash) << r.key;
  }
  // Scan order is bytewise (source, key), whatever the database's collation.
  std::vector<std::string> order;
  ASSERT_TRUE(target_->ScanRows(e, [&](const TargetRow& r) { order.push_back(r.key); }).ok());
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "tab\tkey\\"}));
}

TEST_F(PgTargetTest, ReconnectsAndRetriesAfterTheConnectionIsKilled) {
  Open();
  Entity hcp = Hcp();
  ASSERT_TRUE(target_->Load("run-a", hcp, Batch(0, {Rec("1", "ann", 1)})).ok());
  // Between batches, the server ends the target's session.
  EXPECT_EQ(Scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                   " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                   " AND backend_type = 'client backend'"),
            "1");
  ::testing::internal::CaptureStderr();
  auto out = target_->Load("run-a", hcp, Batch(1, {Rec("2", "bob", 2)}));
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->inserted, 1u);
  EXPECT_NE(log.find("load: attempt 1 of 5 failed, retrying in"), std::string::npos) << log;
  EXPECT_NE(log.find("\"level\":\"warn\""), std::string::npos) << log;
  EXPECT_NE(log.find("terminating connection"), std::string::npos) << log;
  EXPECT_EQ(Scalar("SELECT count(*) FROM public.hcp"), "2");
}

TEST_F(PgTargetTest, PermanentFailureReturnsTheServersMessageWithoutRetrying) {
  Open();
  Entity hcp = Hcp();
  ASSERT_TRUE(target_->Prepare(hcp).ok());
  ASSERT_TRUE(conn_->Exec("DROP TABLE public.hcp").ok());
  ::testing::internal::CaptureStderr();
  auto out = target_->Load("run-a", hcp, Batch(0, {Rec("1", "ann", 1)}));
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(out.status().message().find("relation \"public.hcp\" does not exist"),
            std::string::npos)
      << out.status().ToString();
  EXPECT_EQ(log.find("retrying"), std::string::npos) << log;
  EXPECT_EQ(Scalar("SELECT count(*) FROM sluice.batches"), "0");
}

TEST_F(PgTargetTest, PrepareRefusesATableOfAnotherShape) {
  ASSERT_TRUE(conn_
                  ->Exec("CREATE SCHEMA crm; CREATE TABLE crm.hcp(sluice_id bigint PRIMARY KEY,"
                         " name text, dob text, balance numeric(12,2), active boolean,"
                         " extra int)")
                  .ok());
  spec_.options["schema"] = "crm";
  Open();
  Status st = target_->Prepare(Hcp());
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("column 'dob' is text, expected date"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("missing column 'visits' bigint"), std::string::npos);
  EXPECT_NE(st.message().find("unexpected column 'extra' integer"), std::string::npos);
}

TEST_F(PgTargetTest, TablesGoToTheConfiguredSchemaAndIdsContinueAboveExistingRows) {
  ASSERT_TRUE(conn_
                  ->Exec("CREATE SCHEMA crm; CREATE TABLE crm.hcp(sluice_id bigint PRIMARY KEY,"
                         " name text, dob date, balance numeric(12,2), active boolean,"
                         " visits bigint); INSERT INTO crm.hcp(sluice_id) VALUES (41)")
                  .ok());
  spec_.options["schema"] = "crm";
  Open();
  auto out = target_->Load("run-a", Hcp(), Batch(0, {Rec("1", "ann", 1)}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->target_ids[0], 42);
  EXPECT_EQ(Scalar("SELECT name FROM crm.hcp WHERE sluice_id = 42"), "ann");
}

TEST_F(PgTargetTest, WorksForARoleThatMayNotCreateSchemas) {
  // The database's CREATE privilege is not PUBLIC's: the schemas are made
  // for the loader's role beforehand, and Prepare must not try to create
  // them again.
  const std::string role = Role();
  ASSERT_TRUE(conn_
                  ->Exec("CREATE SCHEMA sluice AUTHORIZATION " + role + "; CREATE SCHEMA crm" +
                         " AUTHORIZATION " + role)
                  .ok());
  spec_.options["dsn"] = pgtest::WithParam(dsn_, "user", role);
  spec_.options["schema"] = "crm";
  Open();
  Entity hcp = Hcp();
  Status prepared = target_->Prepare(hcp);
  ASSERT_TRUE(prepared.ok()) << prepared.ToString();
  Open();  // and again, with everything in place
  ASSERT_TRUE(target_->Prepare(hcp).ok());
  auto out = target_->Load("run-a", hcp, Batch(0, {Rec("1", "ann", 1)}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Scalar("SELECT tableowner FROM pg_tables WHERE schemaname = 'crm'"), role);
  ASSERT_TRUE(target_->Rollback("run-a", hcp).ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM crm.hcp"), "0");
}

TEST_F(PgTargetTest, RateLimitSpacesBatches) {
  spec_.options["max_rows_per_second"] = "400";
  Open();
  Entity hcp = Hcp();
  ASSERT_TRUE(target_->Prepare(hcp).ok());
  auto start = std::chrono::steady_clock::now();
  for (uint64_t seq = 0; seq < 4; ++seq) {  // 800 rows: 400 of burst, then 1 s of waiting
    std::vector<Record> records;
    for (int i = 0; i < 200; ++i) records.push_back(Rec(std::to_string(seq * 200 + i), "n", i));
    ASSERT_TRUE(target_->Load("run-a", hcp, Batch(seq, records)).ok());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(secs, 0.9);
}

TEST(PostgresTargetOptions, DefaultsAndMistakes) {
  TargetSpec spec;
  spec.kind = "postgres";
  auto missing = ParsePostgresTargetOptions(spec);
  EXPECT_EQ(missing.status().message().rfind("target.dsn: required", 0), 0u)
      << missing.status().message();
  spec.options["dsn"] = "host=db";
  auto defaults = ParsePostgresTargetOptions(spec);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->schema, "public");
  EXPECT_EQ(defaults->max_attempts, 5);
  EXPECT_EQ(defaults->retry_base_ms, 100);
  EXPECT_EQ(defaults->retry_max_ms, 5000);
  EXPECT_EQ(defaults->max_rows_per_second, 0);
  spec.options["max_rows_per_second"] = "2.5";
  EXPECT_EQ(ParsePostgresTargetOptions(spec)->max_rows_per_second, 2.5);
  spec.options["max_attempts"] = "0";
  EXPECT_EQ(ParsePostgresTargetOptions(spec).status().message(),
            "target.max_attempts: must be an integer >= 1, got '0'");
  spec.options["max_attempts"] = "3";
  spec.options["max_atempts"] = "3";
  EXPECT_EQ(ParsePostgresTargetOptions(spec).status().message(),
            "target.max_atempts: unknown option of a postgres target");
}

TEST(PgUtil, ClassifiesSqlStatesAndEscapesCopyText) {
  EXPECT_EQ(ClassifySqlState("", true), PgFailure::kTransient);
  EXPECT_EQ(ClassifySqlState("08006", false), PgFailure::kTransient);
  EXPECT_EQ(ClassifySqlState("40001", false), PgFailure::kTransient);
  EXPECT_EQ(ClassifySqlState("40P01", false), PgFailure::kTransient);
  EXPECT_EQ(ClassifySqlState("53300", false), PgFailure::kTransient);
  EXPECT_EQ(ClassifySqlState("57P01", false), PgFailure::kTransient);
  EXPECT_EQ(ClassifySqlState("23505", false), PgFailure::kDataRejected);
  EXPECT_EQ(ClassifySqlState("22001", false), PgFailure::kDataRejected);
  EXPECT_EQ(ClassifySqlState("42P01", false), PgFailure::kPermanent);
  EXPECT_EQ(ClassifySqlState("53100", false), PgFailure::kPermanent);
  std::string out;
  AppendCopyText("a\tb\nc\\d\re", &out);
  EXPECT_EQ(out, "a\\tb\\nc\\\\d\\re");
}

TEST(TokenBucket, WaitsForTheDebtAndRefillsUpToOneSecond) {
  using Clock = TokenBucket::Clock;
  Clock::time_point now{};
  Clock::duration slept{};
  TokenBucket bucket(
      100, [&] { return now; },
      [&](Clock::duration d) {
        slept += d;
        now += d;
      });
  EXPECT_EQ(bucket.Take(100), Clock::duration::zero());  // the first second's burst
  bucket.Take(50);
  EXPECT_NEAR(std::chrono::duration<double>(slept).count(), 0.5, 1e-6);
  now += std::chrono::seconds(10);  // idle: refills to one second's worth only
  EXPECT_EQ(bucket.Take(100), Clock::duration::zero());
  bucket.Take(300);
  EXPECT_NEAR(std::chrono::duration<double>(slept).count(), 3.5, 1e-6);
  TokenBucket unlimited(0);
  EXPECT_EQ(unlimited.Take(1000000), Clock::duration::zero());
}

}  // namespace
}  // namespace sluice
