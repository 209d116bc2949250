#include "common/connectors/sqlite_target.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/sqlite_util.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

ModelField Field(const std::string& name, FieldType type, int precision = 0, int scale = 0) {
  ModelField f;
  f.name = name;
  f.type = type;
  f.precision = precision;
  f.scale = scale;
  return f;
}

Entity Hcp() {
  Entity e;
  e.name = "hcp";
  e.fields = {Field("name", FieldType::kString), Field("dob", FieldType::kDate),
              Field("balance", FieldType::kDecimal, 12, 2), Field("active", FieldType::kBool),
              Field("visits", FieldType::kInt)};
  return e;
}

Record Rec(const std::string& key, const std::string& name, int64_t balance) {
  Record r;
  r.source = "crm";
  r.key = key;
  r.values = {Value::Str(name), Value::Int(*CivilDays(1980, 2, 29)), Value::Int(balance),
              Value::Int(1), Value::Null()};
  return r;
}

class SqliteTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_sqltgt_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    spec_.path = (dir_ / "sub" / "target.db").string();  // the folder is created
  }
  void TearDown() override { fs::remove_all(dir_); }

  RecordBatch Batch(uint64_t seq, std::vector<Record> records) {
    RecordBatch b;
    b.id.set_run_id("r1");
    b.id.set_entity("hcp");
    b.id.set_source("crm");
    b.id.set_sequence(seq);
    b.schema = Hcp().ToSchema();
    b.records = std::move(records);
    b.RehashAll();
    return b;
  }

  fs::path dir_;
  TargetSpec spec_;
};

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

TEST_F(SqliteTargetTest, MergedKeysPointAtTheSurvivor) {
  auto target = OpenSqliteTarget(spec_);
  ASSERT_TRUE(target.ok());
  Entity hcp = Hcp();
  Record survivor = Rec("1", "ann", 1);
  survivor.merged = {{"erp", "A-9"}, {"crm", "5"}};
  auto out = (*target)->Load("run", hcp, Batch(0, {survivor}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->inserted, 1u);

  std::map<std::string, TargetRow> rows;
  ASSERT_TRUE(
      (*target)->ScanRows(hcp, [&](const TargetRow& r) { rows[r.source + "/" + r.key] = r; }).ok());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_FALSE(rows["crm/1"].merged);
  EXPECT_TRUE(rows["erp/A-9"].merged);
  EXPECT_TRUE(rows["crm/5"].merged);
  EXPECT_EQ(rows["erp/A-9"].target_id, out->target_ids[0]);
  EXPECT_EQ(rows["erp/A-9"].values, survivor.values);
  EXPECT_EQ(rows["erp/A-9"].recorded_hash, 0u);

  // Reloading in a later run changes nothing, merged entries included.
  auto again = (*target)->Load("run2", hcp, Batch(0, {survivor}));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unchanged, 1u);
  EXPECT_EQ(again->target_ids, out->target_ids);
}

TEST_F(SqliteTargetTest, AFormerlyMergedKeyLoadedOnItsOwnGetsItsOwnRow) {
  auto target = OpenSqliteTarget(spec_);
  ASSERT_TRUE(target.ok());
  Entity hcp = Hcp();
  Record survivor = Rec("1", "ann", 1);
  survivor.merged = {{"crm", "5"}};
  auto first = (*target)->Load("run1", hcp, Batch(0, {survivor}));
  ASSERT_TRUE(first.ok());
  // A later run decides 5 is distinct after all.
  auto second = (*target)->Load("run2", hcp, Batch(0, {Rec("1", "ann", 1), Rec("5", "eve", 2)}));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->unchanged, 1u);
  EXPECT_EQ(second->inserted, 1u);
  EXPECT_EQ(second->target_ids[0], first->target_ids[0]);
  EXPECT_NE(second->target_ids[1], first->target_ids[0]);
  std::map<std::string, TargetRow> rows;
  ASSERT_TRUE((*target)->ScanRows(hcp, [&](const TargetRow& r) { rows[r.key] = r; }).ok());
  EXPECT_FALSE(rows["5"].merged);
  EXPECT_EQ(rows["5"].values[0].s, "eve");
  EXPECT_EQ(rows["1"].values[0].s, "ann");  // the survivor's row is untouched
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

}  // namespace
}  // namespace sluice
