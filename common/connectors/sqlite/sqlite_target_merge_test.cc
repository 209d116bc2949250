// The SQLite target with merged, re-loaded and retired keys.
#include <gtest/gtest.h>

#include "common/connectors/keyed_rows.h"
#include "common/connectors/sqlite/sqlite_target.h"
#include "common/connectors/sqlite/sqlite_target_testing.h"

namespace sluice {
namespace {

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

// The survivor check's lookup (issue 20): the same entries as a filtered
// scan, a missing key left out, a dangling entry without its row.
TEST_F(SqliteTargetTest, LookupEntriesAnswersAsTheScanDoes) {
  auto target = OpenSqliteTarget(spec_);
  ASSERT_TRUE(target.ok());
  Entity hcp = Hcp();
  Record survivor = Rec("1", "ann", 1);
  survivor.merged = {{"erp", "A-9"}};
  auto out = (*target)->Load("run", hcp, Batch(0, {survivor, Rec("2", "bob", 2)}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const std::vector<SourceKey> keys = {{"crm", "1"}, {"erp", "A-9"}, {"crm", "404"}, {"crm", "2"}};
  auto by_key = [](std::vector<TargetEntry> entries) {
    std::map<std::string, TargetEntry> m;
    for (TargetEntry& e : entries) m[e.source + "/" + e.key] = std::move(e);
    return m;
  };
  auto looked = (*target)->LookupEntries(hcp, keys);
  ASSERT_TRUE(looked.ok()) << looked.status().ToString();
  auto found = by_key(*looked);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_FALSE(found["crm/1"].merged);
  EXPECT_TRUE(found["crm/1"].row);
  EXPECT_EQ(found["crm/1"].target_id, out->target_ids[0]);
  EXPECT_TRUE(found["erp/A-9"].merged);
  EXPECT_TRUE(found["erp/A-9"].row);
  EXPECT_EQ(found["erp/A-9"].target_id, out->target_ids[0]);
  EXPECT_EQ(found.count("crm/404"), 0u);

  // A row gone from under its entry.
  {
    auto db = SqliteDb::Open(spec_.path, /*readonly=*/false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(
        (*db)
            ->Exec("DELETE FROM hcp WHERE sluice_id = " + std::to_string(out->target_ids[1]))
            .ok());
  }
  looked = (*target)->LookupEntries(hcp, keys);
  ASSERT_TRUE(looked.ok());
  found = by_key(*looked);
  EXPECT_FALSE(found["crm/2"].row);
  EXPECT_TRUE(found["crm/1"].row);

  auto scanned = (*target)->Target::LookupEntries(hcp, keys);
  ASSERT_TRUE(scanned.ok());
  auto want = by_key(*scanned);
  ASSERT_EQ(want.size(), found.size());
  for (const auto& [k, e] : want) {
    EXPECT_EQ(found[k].target_id, e.target_id) << k;
    EXPECT_EQ(found[k].merged, e.merged) << k;
    EXPECT_EQ(found[k].row, e.row) << k;
  }
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

// Issue 23: a record that an earlier run loaded and a later run merges
// (a steward's decision) leaves no row behind: its row is retired in the
// load's transaction, its entry points at the survivor, and a rollback of
// the later run brings the row back.
TEST_F(SqliteTargetTest, ALoadedRecordMergedLaterLeavesNoStaleRow) {
  auto target = OpenSqliteTarget(spec_);
  ASSERT_TRUE(target.ok());
  Entity hcp = Hcp();
  auto first = (*target)->Load("run1", hcp, Batch(0, {Rec("1", "ann", 1), Rec("5", "anne", 2)}));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string before = Checksum(spec_.path);
  Record survivor = Rec("1", "ann", 1);
  survivor.merged = {{"crm", "5"}};
  auto second = (*target)->Load("run2", hcp, Batch(0, {survivor}));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->target_ids[0], first->target_ids[0]);
  std::map<std::string, TargetRow> rows;
  ASSERT_TRUE((*target)->ScanRows(hcp, [&](const TargetRow& r) { rows[r.key] = r; }).ok());
  EXPECT_TRUE(rows["5"].merged);
  EXPECT_EQ(rows["5"].target_id, first->target_ids[0]);
  auto db = SqliteDb::Open(spec_.path, /*readonly=*/true);
  ASSERT_TRUE(db.ok());
  auto count = (*db)->Prepare("SELECT count(*) FROM hcp");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->ColumnInt64(0), 1) << "the row of crm/5 outlived its fate";
  // Replaying the batch changes nothing more.
  ASSERT_TRUE((*target)->Load("run2", hcp, Batch(0, {survivor})).ok());
  ASSERT_TRUE((*target)->Rollback("run2", hcp).ok());
  EXPECT_EQ(Checksum(spec_.path), before);
}

// Issue 23: a record an earlier run loaded and a later run rejects (or
// holds) has its row retired, its entry dropped; rollback brings both back.
TEST_F(SqliteTargetTest, ALoadedRecordRejectedLaterIsRetired) {
  auto target = OpenSqliteTarget(spec_);
  ASSERT_TRUE(target.ok());
  Entity hcp = Hcp();
  auto first = (*target)->Load("run1", hcp, Batch(0, {Rec("1", "ann", 1), Rec("5", "anne", 2)}));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string before = Checksum(spec_.path);
  // crm/5 rejected in run2; crm/9 was never loaded; crm/1 loads again.
  ASSERT_TRUE((*target)->Load("run2", hcp, Batch(0, {Rec("1", "ann", 1)})).ok());
  auto retired = (*target)->RetireRows("run2", hcp, {{"crm", "5"}, {"crm", "9"}});
  ASSERT_TRUE(retired.ok()) << retired.status().ToString();
  ASSERT_EQ(retired->size(), 1u);
  EXPECT_EQ((*retired)[0].key, "5");
  EXPECT_EQ((*retired)[0].target_id, first->target_ids[1]);
  EXPECT_EQ(*(*target)->CountRows(hcp), 1u);
  std::map<std::string, TargetRow> rows;
  ASSERT_TRUE((*target)->ScanRows(hcp, [&](const TargetRow& r) { rows[r.key] = r; }).ok());
  EXPECT_EQ(rows.count("5"), 0u);
  // Idempotent: nothing left to retire.
  auto again = (*target)->RetireRows("run2", hcp, {{"crm", "5"}});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  // A later run that loads it again gives it a row of its own.
  ASSERT_TRUE((*target)->Rollback("run2", hcp).ok());
  EXPECT_EQ(Checksum(spec_.path), before);
  ASSERT_TRUE((*target)->RetireRows("run3", hcp, {{"crm", "5"}}).ok());
  auto back = (*target)->Load("run4", hcp, Batch(0, {Rec("5", "anne", 2)}));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->inserted, 1u);
  EXPECT_EQ(*(*target)->CountRows(hcp), 2u);
}

// Many records with distinct values of every type, some NULL: written with
// multi-row statements and read back exactly.

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// crm/1 with erp/A-9 merged into it.
Record Survivor() {
  Record survivor = Rec("1", "ann", 1);
  survivor.merged = {{"erp", "A-9"}};
  return survivor;
}

// The reads of the reconciler (issue 18): three rows loaded to read back.
class SqliteTargetReadTest : public SqliteTargetTest {
 protected:
  // Loads `survivor`, crm/2 and crm/3 in run "run".
  Result<LoadOutcome> LoadThree(Target* target, const Record& survivor) {
    return target->Load("run", Hcp(), Batch(0, {survivor, Rec("2", "bob", 2), Rec("3", "cy", 3)}));
  }
  // Edits the target by hand.
  void ByHand(const std::string& sql) {
    auto db = SqliteDb::Open(spec_.path, /*readonly=*/false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec(sql).ok()) << sql;
  }
};

// The reconciler's read by key (issue 18): for the keys asked, the same
// rows as the scan in the same order (a merged entry with its survivor's
// row, an entry whose row is gone without values); a key without an entry
// skipped.
TEST_F(SqliteTargetReadTest, ScanRowsOfKeysAnswersAsTheScanDoes) {
  auto target = OpenSqliteTarget(spec_);
  ASSERT_TRUE(target.ok());
  auto* reader = dynamic_cast<KeyedRowReader*>(target->get());
  ASSERT_NE(reader, nullptr);
  Entity hcp = Hcp();
  const Record survivor = Survivor();
  auto out = LoadThree(target->get(), survivor);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ByHand("DELETE FROM hcp WHERE sluice_id = " + std::to_string(out->target_ids[1]));
  std::vector<TargetRow> scanned;
  ASSERT_TRUE((*target)
                  ->ScanRows(hcp,
                             [&](const TargetRow& r) {
                               if (r.key != "3") scanned.push_back(r);
                             })
                  .ok());
  const std::vector<SourceKey> keys = {{"crm", "1"}, {"crm", "2"}, {"crm", "404"}, {"erp", "A-9"}};
  std::vector<TargetRow> read;
  ASSERT_TRUE(
      reader->ScanRowsOfKeys(hcp, keys, [&](const TargetRow& r) { read.push_back(r); }).ok());
  ASSERT_EQ(read.size(), 3u);
  ASSERT_EQ(scanned.size(), 3u);
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read[i].source, scanned[i].source) << i;
    EXPECT_EQ(read[i].key, scanned[i].key) << i;
    EXPECT_EQ(read[i].target_id, scanned[i].target_id) << i;
    EXPECT_EQ(read[i].recorded_hash, scanned[i].recorded_hash) << i;
    EXPECT_EQ(read[i].merged, scanned[i].merged) << i;
    EXPECT_EQ(read[i].values, scanned[i].values) << i;
  }
  EXPECT_TRUE(read[1].values.empty());  // crm/2: its row is gone
  EXPECT_TRUE(read[2].merged);          // erp/A-9 on crm/1's row
  EXPECT_EQ(read[2].values, survivor.values);

  auto at_most = reader->RowsAtMost(hcp);
  ASSERT_TRUE(at_most.ok());
  EXPECT_GE(*at_most, *(*target)->CountRows(hcp));
}

// The rows no entry of their own points at (issue 17), listed by id: one
// written by hand, one whose only entry is a merged key's; a row with its
// own entry (merged keys pointing at it too) is not listed.
TEST_F(SqliteTargetReadTest, ScanRowsWithoutEntryListsTheRowsNoEntryOwns) {
  auto target = OpenSqliteTarget(spec_);
  ASSERT_TRUE(target.ok());
  Entity hcp = Hcp();
  const Record survivor = Survivor();
  auto out = LoadThree(target->get(), survivor);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<int64_t> listed;
  ASSERT_TRUE(
      (*target)
          ->ScanRowsWithoutEntry(hcp, [&](const TargetRow& r) { listed.push_back(r.target_id); })
          .ok());
  EXPECT_TRUE(listed.empty());
  ByHand(
      "INSERT INTO hcp(sluice_id, name, active, visits) VALUES(500, 'hand', 1, 7);"
      "UPDATE sluice_xref SET kind = 'merged' WHERE key = '3';");
  std::vector<TargetRow> rows;
  ASSERT_TRUE(
      (*target)->ScanRowsWithoutEntry(hcp, [&](const TargetRow& r) { rows.push_back(r); }).ok());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].target_id, out->target_ids[2]);
  EXPECT_EQ(rows[0].values[0], Value::Str("cy"));
  EXPECT_EQ(rows[1].target_id, 500);
  EXPECT_EQ(rows[1].values[0], Value::Str("hand"));
  EXPECT_TRUE(rows[1].values[1].is_null);
  EXPECT_EQ(rows[1].values[4], Value::Int(7));
}

}  // namespace
}  // namespace sluice
