// Rollback of the PostgreSQL target, and its load rate against COPY.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "common/connectors/postgres/postgres_load.h"
#include "common/connectors/postgres/postgres_target.h"
#include "common/connectors/postgres/postgres_target_test_util.h"

namespace sluice {
namespace {

using pgtest::Field;
using pgtest::Hcp;
using pgtest::PgTargetTest;
using pgtest::Rec;

TEST_F(PgTargetTest, RollbackRestoresTheExactPreRunState) {
  Open();
  Entity hcp = Hcp();
  ASSERT_TRUE(target_->Prepare(hcp).ok());
  const std::string empty = Checksum();

  Record one = Rec("1", "ann", 100);
  one.merged = {{"erp", "E1"}};
  std::vector<Record> first = {one, Rec("2", "bob", 200), Rec("3", "cy", 300), Rec("4", "dee", 400),
                               Rec("5", "eve", 500)};
  ASSERT_TRUE(target_->Load("run-1", hcp, Batch(0, first)).ok());
  const std::string after_run1 = Checksum();

  // run-2 updates, inserts, repoints a merged key, adds one, loads a key
  // that was merged on its own, and touches some rows twice.
  Record two = Rec("2", "bob", 201);
  two.merged = {{"erp", "E1"}, {"erp", "E9"}};
  auto b0 = target_->Load(
      "run-2", hcp,
      Batch(0, {Rec("1", "ann", 101), two, Rec("3", "cy", 301), Rec("6", "fay", 600)}));
  ASSERT_TRUE(b0.ok()) << b0.status().ToString();
  EXPECT_EQ(b0->actions, "uuui");
  auto b1 = target_->Load(
      "run-2", hcp,
      Batch(1, {Rec("E1", "eli", 7, "erp"), Rec("3", "cy", 302), Rec("7", "gus", 700)}));
  ASSERT_TRUE(b1.ok()) << b1.status().ToString();
  EXPECT_EQ(b1->actions, "iui");
  ASSERT_NE(Checksum(), after_run1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM sluice.batches WHERE run_id = 'run-2'"), "2");

  // Rolled back from a target opened afresh, as `sluice rollback` does.
  auto fresh = OpenPostgresTarget(spec_);
  ASSERT_TRUE(fresh.ok());
  Status st = (*fresh)->Rollback("run-2", hcp);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Checksum(), after_run1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM sluice.batches WHERE run_id = 'run-2'"), "0");
  EXPECT_EQ(Scalar("SELECT count(*) FROM sluice.rollback WHERE run_id = 'run-2'"), "0");
  ASSERT_TRUE((*fresh)->Rollback("run-2", hcp).ok());  // idempotent
  EXPECT_EQ(Checksum(), after_run1);

  // The run can be loaded again (it is not a replay any more).
  auto again = target_->Load("run-2", hcp, Batch(0, {Rec("1", "ann", 101)}));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->replayed);
  EXPECT_EQ(again->actions, "u");

  ASSERT_TRUE(target_->Rollback("run-2", hcp).ok());
  ASSERT_TRUE(target_->Rollback("run-1", hcp).ok());
  EXPECT_EQ(Checksum(), empty);
  EXPECT_EQ(Scalar("SELECT count(*) FROM sluice.rollback"), "0");
}

// Issue 23, parity with the SQLite target: a record loaded earlier and
// merged later has its own row retired in the load's transaction; one
// rejected later has its row and entry retired by RetireRows; CountRows
// then agrees with the loaded records, and rollback brings both back.
TEST_F(PgTargetTest, RowsOfRecordsMergedOrRejectedLaterAreRetired) {
  Open();
  Entity hcp = Hcp();
  ASSERT_TRUE(target_->Prepare(hcp).ok());
  auto first = target_->Load(
      "run-1", hcp, Batch(0, {Rec("1", "ann", 1), Rec("5", "anne", 2), Rec("7", "gus", 3)}));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string after_run1 = Checksum();
  Record survivor = Rec("1", "ann", 1);
  survivor.merged = {{"crm", "5"}};
  auto second = target_->Load("run-2", hcp, Batch(0, {survivor}));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto retired = target_->RetireRows("run-2", hcp, {{"crm", "7"}, {"crm", "9"}});
  ASSERT_TRUE(retired.ok()) << retired.status().ToString();
  ASSERT_EQ(retired->size(), 1u);
  EXPECT_EQ((*retired)[0].key, "7");
  EXPECT_EQ((*retired)[0].target_id, first->target_ids[2]);
  auto rows = target_->CountRows(hcp);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, 1u) << "only crm/1 is loaded";
  EXPECT_EQ(Scalar("SELECT kind FROM sluice.xref WHERE key = '5'"), "merged");
  EXPECT_EQ(Scalar("SELECT count(*) FROM sluice.xref WHERE key = '7'"), "0");
  auto again = target_->RetireRows("run-2", hcp, {{"crm", "7"}});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  ASSERT_TRUE(target_->Rollback("run-2", hcp).ok());
  EXPECT_EQ(Checksum(), after_run1);
}

// Issue 23: a row retired because its record is merged into a survivor
// takes the references to it along: the visit that named crm/5's row names
// the survivor's in the same transaction; rollback puts it back.
TEST_F(PgTargetTest, ReferencesToARowRetiredForASurvivorMoveToTheSurvivor) {
  Open();
  Entity hcp = Hcp();
  Entity visit;
  visit.name = "visit";
  visit.fields = {Field("doctor", FieldType::kReference)};
  visit.fields[0].references = "hcp";
  ASSERT_TRUE(target_->Prepare(hcp).ok());
  ASSERT_TRUE(target_->Prepare(visit).ok());  // the target learns who refers to hcp
  auto first = target_->Load("run-1", hcp, Batch(0, {Rec("1", "ann", 1), Rec("5", "anne", 2)}));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Record v;
  v.source = "crm";
  v.key = "v1";
  v.values = {Value::Str(std::to_string(first->target_ids[1]))};
  ASSERT_TRUE(target_->Load("run-1", visit, Batch(0, {v}, visit)).ok());
  const std::string visits_before = Checksum("visit");

  Record survivor = Rec("1", "ann", 1);
  survivor.merged = {{"crm", "5"}};
  auto second = target_->Load("run-2", hcp, Batch(1, {survivor}));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(Scalar("SELECT count(*) FROM public.hcp"), "1");
  EXPECT_EQ(Scalar("SELECT doctor FROM public.visit"), std::to_string(first->target_ids[0]));

  ASSERT_TRUE(target_->Rollback("run-2", visit).ok());
  ASSERT_TRUE(target_->Rollback("run-2", hcp).ok());
  EXPECT_EQ(Checksum("visit"), visits_before);
  EXPECT_EQ(Scalar("SELECT count(*) FROM public.hcp"), "2");
}

TEST_F(PgTargetTest, RollbackOfARunWithRejectsAndOfAnotherEntityLeavesTheRestAlone) {
  Open();
  Entity hcp = Hcp();
  Entity account;
  account.name = "account";
  account.fields = {Field("title", FieldType::kString)};
  ASSERT_TRUE(target_->Prepare(hcp).ok());
  ASSERT_TRUE(
      conn_->Exec("ALTER TABLE public.hcp ADD CONSTRAINT short_name CHECK (length(name) < 5)")
          .ok());
  ASSERT_TRUE(target_->Load("run-1", hcp, Batch(0, {Rec("1", "ann", 1)})).ok());
  const std::string before = Checksum();

  auto out = target_->Load(
      "run-2", hcp, Batch(1, {Rec("1", "anne", 2), Rec("2", "too long", 3), Rec("3", "cy", 4)}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->actions, "u-i");
  ASSERT_EQ(out->rejects.size(), 1u);
  EXPECT_NE(out->rejects[0].reason().find("short_name"), std::string::npos);
  Record acc;
  acc.source = "crm";
  acc.key = "A1";
  acc.values = {Value::Str("acme")};
  ASSERT_TRUE(target_->Prepare(account).ok());
  const std::string accounts_before = Checksum("account");
  ASSERT_TRUE(target_->Load("run-2", account, Batch(0, {acc}, account)).ok());

  ASSERT_TRUE(target_->Rollback("run-2", hcp).ok());
  EXPECT_EQ(Checksum(), before);
  EXPECT_EQ(Scalar("SELECT title FROM public.account"), "acme");  // not this entity
  EXPECT_EQ(Scalar("SELECT count(*) FROM sluice.xref WHERE entity = 'account'"), "1");
  ASSERT_TRUE(target_->Rollback("run-2", account).ok());
  EXPECT_EQ(Checksum("account"), accounts_before);
  EXPECT_EQ(Scalar("SELECT count(*) FROM public.account"), "0");
}

// Not run by default (minutes, and the numbers are for a report, not a
// verdict): the load rate of the target against a raw COPY of the same rows.
//   SLUICE_PG_DSN=... [SLUICE_PG_BENCH_ROWS=1000000] postgres_test
//       --gtest_also_run_disabled_tests --gtest_filter='*LoadRate*'
TEST_F(PgTargetTest, DISABLED_LoadRateAgainstCopy) {
  const char* env = std::getenv("SLUICE_PG_BENCH_ROWS");
  const size_t rows = env ? std::strtoull(env, nullptr, 10) : 1000000;
  constexpr size_t kBatch = 4096;
  Entity e;
  e.name = "hcp14";
  e.fields = {
      Field("first_name", FieldType::kString),    Field("last_name", FieldType::kString),
      Field("email", FieldType::kString),         Field("phone", FieldType::kString),
      Field("specialty", FieldType::kEnum),       Field("city", FieldType::kString),
      Field("postcode", FieldType::kString),      Field("country", FieldType::kString),
      Field("npi", FieldType::kString),           Field("dob", FieldType::kDate),
      Field("registered", FieldType::kTimestamp), Field("balance", FieldType::kDecimal, 12, 2),
      Field("visits", FieldType::kInt),           Field("active", FieldType::kBool)};
  const Schema schema = e.ToSchema();
  auto make = [&](size_t first, size_t n) {
    RecordBatch b = Batch(first / kBatch, {}, e);
    for (size_t i = first; i < first + n; ++i) {
      Record r;
      r.source = "crm";
      r.key = "CRM" + std::to_string(10000000 + i);
      const std::string s = std::to_string(i);
      r.values = {Value::Str("First" + s),
                  Value::Str("Last" + std::to_string(i % 9973)),
                  Value::Str("user" + s + "@example.org"),
                  Value::Str("+4420" + s),
                  Value::Str(i % 3 ? "cardiology" : "oncology"),
                  Value::Str("London"),
                  Value::Str("SW1A " + std::to_string(i % 100)),
                  Value::Str("GB"),
                  Value::Str(std::to_string(1000000000 + i)),
                  Value::Int(static_cast<int64_t>(i % 20000)),
                  Value::Int(static_cast<int64_t>(1600000000000000 + i * 1000003)),
                  Value::Int(static_cast<int64_t>(i * 7 % 10000000)),
                  Value::Int(static_cast<int64_t>(i % 50)),
                  Value::Int(i % 2)};
      b.records.push_back(std::move(r));
    }
    b.RehashAll();
    return b;
  };

  // COPY of the same rows, as text, into a bare table of the same types.
  std::string ddl = "CREATE TABLE copy_peer(";
  for (size_t i = 0; i < e.fields.size(); ++i) {
    ddl += (i ? ", " : "") + PgQuoteIdent(e.fields[i].name) + " " + PgColumnType(e.fields[i]);
  }
  ASSERT_TRUE(conn_->Exec(ddl + ")").ok());
  std::string text;  // formatted before the clock starts: COPY's time only
  for (size_t first = 0; first < rows; first += kBatch) {
    RecordBatch b = make(first, std::min(kBatch, rows - first));
    for (const Record& r : b.records) {
      for (size_t i = 0; i < r.values.size(); ++i) {
        auto v = FormatValue(schema.fields[i], r.values[i]);
        if (v)
          AppendCopyText(*v, &text);
        else
          text += "\\N";
        text += i + 1 < r.values.size() ? '\t' : '\n';
      }
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  PgResult start(PQexec(conn_->raw(), "COPY copy_peer FROM STDIN"));
  ASSERT_EQ(PQresultStatus(start.raw()), PGRES_COPY_IN);
  for (size_t pos = 0; pos < text.size(); pos += 1 << 20) {
    int n = static_cast<int>(std::min<size_t>(1 << 20, text.size() - pos));
    ASSERT_EQ(PQputCopyData(conn_->raw(), text.data() + pos, n), 1);
  }
  ASSERT_EQ(PQputCopyEnd(conn_->raw(), nullptr), 1);
  PgResult done(PQgetResult(conn_->raw()));
  ASSERT_EQ(PQresultStatus(done.raw()), PGRES_COMMAND_OK) << PQerrorMessage(conn_->raw());
  while (PGresult* r = PQgetResult(conn_->raw())) PQclear(r);
  double copy_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  Open();
  ASSERT_TRUE(target_->Prepare(e).ok());
  double load_s = 0;
  for (size_t first = 0; first < rows; first += kBatch) {
    RecordBatch b = make(first, std::min(kBatch, rows - first));
    auto t = std::chrono::steady_clock::now();
    auto out = target_->Load("bench", e, b);
    load_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    ASSERT_TRUE(out.ok()) << out.status().ToString();
  }
  // The same rows again in a new run: all unchanged.
  double rerun_s = 0;
  for (size_t first = 0; first < rows; first += kBatch) {
    RecordBatch b = make(first, std::min(kBatch, rows - first));
    auto t = std::chrono::steady_clock::now();
    auto out = target_->Load("bench-2", e, b);
    rerun_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_EQ(out->unchanged, b.records.size());
  }
  auto t = std::chrono::steady_clock::now();
  size_t scanned = 0;
  ASSERT_TRUE(target_->ScanRows(e, [&](const TargetRow&) { ++scanned; }).ok());
  double scan_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  EXPECT_EQ(scanned, rows);
  t = std::chrono::steady_clock::now();
  Status undone = target_->Rollback("bench", e);
  double rollback_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  ASSERT_TRUE(undone.ok()) << undone.ToString();
  EXPECT_EQ(Scalar("SELECT count(*) FROM public.hcp14"), "0");
  std::cout << "rows " << rows << ": COPY " << copy_s << " s (" << rows / copy_s
            << " rows/s); target load " << load_s << " s (" << rows / load_s << " rows/s, "
            << load_s / copy_s << "x COPY); unchanged re-run " << rerun_s << " s ("
            << rows / rerun_s << " rows/s); ScanRows " << scan_s << " s; Rollback " << rollback_s
            << " s\n";
}

}  // namespace
}  // namespace sluice
