#include "common/connectors/sqlite/sqlite_target.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/connectors/sqlite/sqlite_target_testing.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

TEST_F(SqliteTargetTest, InsertReloadUpdateAndReplay) {
  auto target = OpenSqliteTarget(spec_);
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  Entity hcp = Hcp();
  ASSERT_TRUE((*target)->Prepare(hcp).ok());
  ASSERT_TRUE((*target)->Prepare(hcp).ok());  // idempotent

  RecordBatch b = Batch(0, {Rec("1", "ann", 12345), Rec("2", "bob", -5)});
  auto first = (*target)->Load("run-a", hcp, b);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->inserted, 2u);
  EXPECT_FALSE(first->replayed);
  ASSERT_EQ(first->target_ids.size(), 2u);
  EXPECT_NE(first->target_ids[0], first->target_ids[1]);

  // Same (run, batch): replayed, same answer, nothing changed.
  auto replay = (*target)->Load("run-a", hcp, b);
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->inserted, 2u);
  EXPECT_EQ(replay->target_ids, first->target_ids);

  // A new run with the same content: nothing inserted or updated.
  auto rerun = (*target)->Load("run-b", hcp, b);
  ASSERT_TRUE(rerun.ok());
  EXPECT_FALSE(rerun->replayed);
  EXPECT_EQ(rerun->inserted, 0u);
  EXPECT_EQ(rerun->updated, 0u);
  EXPECT_EQ(rerun->unchanged, 2u);
  EXPECT_EQ(rerun->target_ids, first->target_ids);

  // Changed content: updated in place.
  RecordBatch changed = Batch(0, {Rec("1", "ann", 99), Rec("2", "bob", -5)});
  auto upd = (*target)->Load("run-c", hcp, changed);
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(upd->updated, 1u);
  EXPECT_EQ(upd->unchanged, 1u);
  EXPECT_EQ(upd->target_ids, first->target_ids);

  std::map<std::string, TargetRow> rows;
  ASSERT_TRUE((*target)->ScanRows(hcp, [&](const TargetRow& r) { rows[r.key] = r; }).ok());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows["1"].values, changed.records[0].values);
  EXPECT_EQ(rows["1"].recorded_hash, changed.records[0].content_hash);
  EXPECT_EQ(rows["2"].target_id, first->target_ids[1]);
}

// Issue 23: a target that cannot be written says so (the run's halt reason
// carries it). Opened read-only through a URI, since chmod does not stop root.
TEST_F(SqliteTargetTest, AReadOnlyTargetSaysItIsNotWritable) {
  {
    auto target = OpenSqliteTarget(spec_);
    ASSERT_TRUE(target.ok()) << target.status().ToString();
    ASSERT_TRUE((*target)->Prepare(Hcp()).ok());
  }
  TargetSpec ro = spec_;
  ro.path = "file:" + spec_.path + "?mode=ro";
  Status st;
  auto target = OpenSqliteTarget(ro);
  if (!target.ok()) {
    st = target.status();
  } else if (st = (*target)->Prepare(Hcp()); st.ok()) {
    st = (*target)->Load("run-a", Hcp(), Batch(0, {Rec("1", "ann", 1)})).status();
  }
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_EQ(st.message().rfind("target not writable: file:", 0), 0u) << st.message();
  EXPECT_NE(st.message().find("readonly database"), std::string::npos) << st.message();
}

TEST_F(SqliteTargetTest, ValuesRoundTripAsCanonicalText) {
  auto target = OpenSqliteTarget(spec_);
  ASSERT_TRUE(target.ok());
  Entity hcp = Hcp();
  Record r = Rec("7", "zoë", -1234567);
  r.values[3] = Value::Int(0);
  r.values[4] = Value::Int(42);
  Record nulls;
  nulls.source = "crm";
  nulls.key = "8";
  nulls.values = {Value::Str(""), Value::Null(), Value::Null(), Value::Null(), Value::Null()};
  ASSERT_TRUE((*target)->Load("run", hcp, Batch(0, {r, nulls})).ok());

  std::vector<TargetRow> rows;
  ASSERT_TRUE((*target)->ScanRows(hcp, [&](const TargetRow& t) { rows.push_back(t); }).ok());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].values, r.values);
  EXPECT_EQ(rows[1].values, nulls.values);
  EXPECT_FALSE(rows[1].values[0].is_null);

  // The stored text is the canonical form: exact decimals, ISO dates.
  auto db = SqliteDb::Open(spec_.path, true);
  ASSERT_TRUE(db.ok());
  auto s =
      (*db)->Prepare("SELECT dob, balance, typeof(balance), active FROM hcp WHERE name = 'zoë'");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(*s->Step());
  EXPECT_EQ(s->ColumnText(0), "1980-02-29");
  EXPECT_EQ(s->ColumnText(1), "-12345.67");
  EXPECT_EQ(s->ColumnText(2), "text");
  EXPECT_EQ(s->ColumnInt64(3), 0);
}

TEST_F(SqliteTargetTest, ManyRecordsRoundTrip) {
  auto target = OpenSqliteTarget(spec_);
  ASSERT_TRUE(target.ok());
  Entity hcp = Hcp();
  std::vector<Record> records;
  for (int i = 0; i < 1000; ++i) {
    Record r = Rec("k" + std::to_string(i), "name " + std::to_string(i) + std::string(i % 40, 'x'),
                   i * 1001 - 500000);
    r.values[1] = i % 7 == 0 ? Value::Null() : Value::Int(i * 3 - 1000);  // dates around 1970
    r.values[3] = Value::Int(i % 2);
    r.values[4] = i % 5 == 0 ? Value::Null() : Value::Int(i);
    records.push_back(std::move(r));
  }
  RecordBatch b = Batch(0, records);
  auto out = (*target)->Load("run", hcp, b);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->inserted, 1000u);
  ASSERT_EQ(out->target_ids.size(), 1000u);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < records.size(); ++i) {
    index[records[i].key] = i;
    if (i > 0) {
      EXPECT_EQ(out->target_ids[i], out->target_ids[i - 1] + 1);
    }
  }
  size_t n = 0;
  ASSERT_TRUE((*target)
                  ->ScanRows(hcp,
                             [&](const TargetRow& row) {
                               ++n;
                               const size_t i = index.at(row.key);
                               EXPECT_EQ(row.values, b.records[i].values) << row.key;
                               EXPECT_EQ(row.recorded_hash, b.records[i].content_hash);
                               EXPECT_EQ(row.target_id, out->target_ids[i]);
                             })
                  .ok());
  EXPECT_EQ(n, 1000u);
}

// Loading a batch gives the same target and outcome as loading its records
// one batch each, whatever mix of new, unchanged, updated, repeated and
// merged keys it holds.
TEST_F(SqliteTargetTest, ABatchLoadsAsItsRecordsOneByOne) {
  Entity hcp = Hcp();
  auto make_run = [](int run) {
    std::vector<Record> records;
    for (int i = 0; i < 300; ++i) {
      // Run 1 loads keys 0..299; run 2 keys 150..449, with new values for
      // every third one, some keys twice and some merged into others.
      const int k = run == 1 ? i : 150 + i;
      Record r = Rec(std::to_string(k), "n" + std::to_string(k), k);
      if (run == 2 && k % 3 == 0) r.values[0] = Value::Str("changed " + std::to_string(k));
      if (k % 37 == 0) r.merged.push_back({"erp", "m" + std::to_string(k)});
      if (run == 2 && k % 50 == 0) r.merged.push_back({"crm", std::to_string(k + 7)});
      records.push_back(std::move(r));
      if (k % 41 == 0) {
        Record again = Rec(std::to_string(k), "again " + std::to_string(k), -k);
        records.push_back(std::move(again));
      }
    }
    return records;
  };
  auto scan = [&](Target* t) {
    std::map<std::string, TargetRow> rows;
    EXPECT_TRUE(
        t->ScanRows(hcp, [&](const TargetRow& r) { rows[r.source + "/" + r.key] = r; }).ok());
    return rows;
  };

  const fs::path batched_path = dir_ / "batched.db";
  const fs::path single_path = dir_ / "single.db";
  fs::create_directories(dir_);
  TargetSpec batched_spec = spec_, single_spec = spec_;
  batched_spec.path = batched_path.string();
  single_spec.path = single_path.string();
  auto batched = OpenSqliteTarget(batched_spec);
  auto single = OpenSqliteTarget(single_spec);
  ASSERT_TRUE(batched.ok() && single.ok());
  std::string batched_after_run1, single_after_run1;
  for (int run = 1; run <= 2; ++run) {
    const std::string run_id = "run" + std::to_string(run);
    RecordBatch b = Batch(0, make_run(run));
    auto whole = (*batched)->Load(run_id, hcp, b);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    LoadOutcome one_by_one;
    for (size_t i = 0; i < b.records.size(); ++i) {
      auto one = (*single)->Load(run_id, hcp, Batch(i, {b.records[i]}));
      ASSERT_TRUE(one.ok()) << one.status().ToString();
      one_by_one.inserted += one->inserted;
      one_by_one.updated += one->updated;
      one_by_one.unchanged += one->unchanged;
      one_by_one.actions += one->actions;
      one_by_one.target_ids.push_back(one->target_ids.at(0));
    }
    EXPECT_EQ(whole->inserted, one_by_one.inserted);
    EXPECT_EQ(whole->updated, one_by_one.updated);
    EXPECT_EQ(whole->unchanged, one_by_one.unchanged);
    EXPECT_EQ(whole->actions, one_by_one.actions);
    EXPECT_EQ(whole->target_ids, one_by_one.target_ids);
    if (run == 2) {
      EXPECT_GT(whole->inserted, 0u);
      EXPECT_GT(whole->updated, 0u);
      EXPECT_GT(whole->unchanged, 0u);
    }

    const auto got = scan(batched->get());
    const auto want = scan(single->get());
    ASSERT_EQ(got.size(), want.size());
    for (const auto& [name, row] : want) {
      auto it = got.find(name);
      ASSERT_NE(it, got.end()) << name;
      EXPECT_EQ(it->second.target_id, row.target_id) << name;
      EXPECT_EQ(it->second.recorded_hash, row.recorded_hash) << name;
      EXPECT_EQ(it->second.merged, row.merged) << name;
      EXPECT_EQ(it->second.values, row.values) << name;
    }

    // Replaying the batch reports the same and changes nothing.
    auto replay = (*batched)->Load(run_id, hcp, b);
    ASSERT_TRUE(replay.ok());
    EXPECT_TRUE(replay->replayed);
    EXPECT_EQ(replay->actions, whole->actions);
    const auto after = scan(batched->get());
    ASSERT_EQ(after.size(), got.size());
    for (const auto& [name, row] : got) {
      EXPECT_EQ(after.at(name).target_id, row.target_id) << name;
      EXPECT_EQ(after.at(name).values, row.values) << name;
    }
    if (run == 1) {
      batched_after_run1 = Checksum(batched_spec.path);
      single_after_run1 = Checksum(single_spec.path);
    }
  }
  // Rolling back run 2 (repeated keys, merges, updates) restores run 1's state.
  ASSERT_TRUE((*batched)->Rollback("run2", hcp).ok());
  ASSERT_TRUE((*single)->Rollback("run2", hcp).ok());
  EXPECT_EQ(Checksum(batched_spec.path), batched_after_run1);
  EXPECT_EQ(Checksum(single_spec.path), single_after_run1);
}

TEST_F(SqliteTargetTest, PrepareRefusesAMismatchedTable) {
  fs::create_directories(dir_ / "sub");
  {
    auto db = SqliteDb::Open(spec_.path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->Exec("CREATE TABLE hcp(sluice_id INTEGER PRIMARY KEY, name TEXT, dob TEXT,"
                           " balance REAL, active INTEGER, extra TEXT)")
                    .ok());
  }
  auto target = OpenSqliteTarget(spec_);
  ASSERT_TRUE(target.ok());
  Status st = (*target)->Prepare(Hcp());
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("missing column 'visits'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("column 'balance' is REAL, expected TEXT"), std::string::npos);
  EXPECT_NE(st.message().find("unexpected column 'extra'"), std::string::npos);
}

TEST_F(SqliteTargetTest, RefusedRowFailsTheWholeBatch) {
  auto target = OpenSqliteTarget(spec_);
  ASSERT_TRUE(target.ok());
  Entity hcp = Hcp();
  ASSERT_TRUE((*target)->Prepare(hcp).ok());
  {
    auto db = SqliteDb::Open(spec_.path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE UNIQUE INDEX hcp_name ON hcp(name)").ok());
  }
  auto out = (*target)->Load("run", hcp, Batch(0, {Rec("1", "same", 1), Rec("2", "same", 2)}));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("UNIQUE constraint failed"), std::string::npos);
  size_t n = 0;
  ASSERT_TRUE((*target)->ScanRows(hcp, [&](const TargetRow&) { ++n; }).ok());
  EXPECT_EQ(n, 0u);  // rolled back
  // The target stays usable.
  auto ok = (*target)->Load("run", hcp, Batch(0, {Rec("1", "one", 1), Rec("2", "two", 2)}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->inserted, 2u);
}

TEST_F(SqliteTargetTest, RollbackRestoresTheStateBeforeTheRun) {
  auto target = OpenSqliteTarget(spec_);
  ASSERT_TRUE(target.ok());
  Entity hcp = Hcp();
  // Run A inserts five rows, key 5 merged into 1.
  Record a1 = Rec("1", "ann", 1);
  a1.merged = {{"crm", "5"}};
  auto a = (*target)->Load(
      "run-a", hcp, Batch(0, {a1, Rec("2", "bob", 2), Rec("3", "cy", 3), Rec("4", "dee", 4)}));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->inserted, 4u);
  const std::string after_a = Checksum(spec_.path);

  // Rolling back a run that loaded nothing changes nothing.
  ASSERT_TRUE((*target)->Rollback("run-none", hcp).ok());
  EXPECT_EQ(Checksum(spec_.path), after_a);

  // Run B, in two batches: inserts, updates (a NULL becomes a value, text
  // changes), merges key 4 into survivor 2 and a new erp key into 1, and
  // gives the formerly merged key 5 its own row.
  Record b2 = Rec("2", "bob2", 20);
  b2.values[4] = Value::Int(7);
  b2.merged = {{"crm", "4"}};
  Record b1 = Rec("1", "ann", 1);
  b1.merged = {{"erp", "X-1"}};
  auto b = (*target)->Load("run-b", hcp, Batch(1, {b1, b2, Rec("6", "fay", 6)}));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->inserted, 1u);
  EXPECT_EQ(b->updated, 1u);
  Record b3 = Rec("3", "cy3", 30);
  b3.values[4] = Value::Int(9);
  auto b_second = (*target)->Load(
      "run-b", hcp, Batch(2, {b3, Rec("5", "eve", 5), Rec("6", "fay6", 60), Rec("7", "gus", 7)}));
  ASSERT_TRUE(b_second.ok()) << b_second.status().ToString();
  EXPECT_EQ(b_second->inserted, 2u);
  EXPECT_EQ(b_second->updated, 2u);
  ASSERT_NE(Checksum(spec_.path), after_a);

  Status st = (*target)->Rollback("run-b", hcp);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Checksum(spec_.path), after_a);
  {
    auto db = SqliteDb::Open(spec_.path, /*readonly=*/true);
    ASSERT_TRUE(db.ok());
    auto left = (*db)->Prepare("SELECT count(*) FROM sluice_rollback WHERE run_id = 'run-b'");
    ASSERT_TRUE(left.ok());
    ASSERT_TRUE(*left->Step());
    EXPECT_EQ(left->ColumnInt64(0), 0);
  }
  // Idempotent.
  ASSERT_TRUE((*target)->Rollback("run-b", hcp).ok());
  EXPECT_EQ(Checksum(spec_.path), after_a);

  // The run can be loaded again: its batches are no longer applied.
  auto again = (*target)->Load("run-b", hcp, Batch(1, {b1, b2, Rec("6", "fay", 6)}));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->replayed);
  EXPECT_EQ(again->inserted, 1u);
  EXPECT_EQ(again->updated, 1u);
  ASSERT_TRUE((*target)->Rollback("run-b", hcp).ok());
  EXPECT_EQ(Checksum(spec_.path), after_a);

  // Rolling back run A empties the target.
  ASSERT_TRUE((*target)->Rollback("run-a", hcp).ok());
  EXPECT_EQ(Checksum(spec_.path), "--\n--\n--\n");
}

}  // namespace
}  // namespace sluice
