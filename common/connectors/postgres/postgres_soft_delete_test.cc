// Issue 18 item 2 on the PostgreSQL target (docs/delta.md "Deletions at the
// source"): `deletions: {mode: propagate, soft_delete: FIELD}` marks the own
// rows of keys deleted at their source, keeps before-images so that
// rollback unmarks them, and clears the entries' content hash so that a
// record that comes back is written again. Parity with the SQLite target.
#include <gtest/gtest.h>

#include "common/connectors/postgres/postgres_target.h"
#include "common/connectors/postgres/postgres_target_test_util.h"

namespace sluice {
namespace {

using pgtest::Field;
using pgtest::Hcp;
using pgtest::PgTargetTest;
using pgtest::Rec;

// hcp with the soft-delete field the plan names.
Entity HcpWithDeletedAt() {
  Entity e = Hcp();
  e.fields.push_back(Field("deleted_at", FieldType::kTimestamp));
  return e;
}

Record Row(const std::string& key, const std::string& name, int64_t balance,
           const std::string& source = "crm") {
  Record r = Rec(key, name, balance, source);
  r.values.push_back(Value::Null());
  return r;
}

// 2026-02-01 10:00:00 UTC in microseconds since the epoch.
constexpr int64_t kMarkedAt = int64_t{1769940000} * 1000000;

TEST_F(PgTargetTest, SoftDeleteMarksOwnRowsOnceAndRollbackUnmarksThem) {
  Open();
  const Entity hcp = HcpWithDeletedAt();
  ASSERT_TRUE(target_->Prepare(hcp).ok());
  Record one = Row("1", "ann", 100);
  one.merged = {{"erp", "E1"}};
  auto first =
      target_->Load("run-1", hcp, Batch(0, {one, Row("2", "bob", 200), Row("3", "cy", 300)}, hcp));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string after_run1 = Checksum();

  // crm/2 has a row of its own; erp/E1 is merged (its entry points at
  // crm/1's row, which is not its to mark); crm/9 was never loaded.
  auto marked = target_->SoftDeleteRows("run-2", hcp, "deleted_at",
                                        {{"crm", "2"}, {"erp", "E1"}, {"crm", "9"}}, kMarkedAt);
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  ASSERT_EQ(marked->size(), 1u);
  EXPECT_EQ((*marked)[0].source, "crm");
  EXPECT_EQ((*marked)[0].key, "2");
  EXPECT_EQ((*marked)[0].target_id, first->target_ids[1]);
  EXPECT_EQ(Scalar("SELECT deleted_at::text FROM hcp WHERE sluice_id = " +
                   std::to_string(first->target_ids[1])),
            "2026-02-01 10:00:00+00");
  EXPECT_EQ(Scalar("SELECT count(*) FROM hcp WHERE deleted_at IS NULL"), "2") << "crm/1, crm/3";
  EXPECT_EQ(Scalar("SELECT content_hash FROM sluice.xref WHERE source = 'crm' AND key = '2'"), "0");
  EXPECT_EQ(Scalar("SELECT count(*) FROM hcp"), "3") << "the row stays";
  auto rows = target_->CountRows(hcp);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, 3u);

  // Marked once: a later run (or the same one answering again) finds it
  // marked and leaves the first time in place.
  auto again =
      target_->SoftDeleteRows("run-2", hcp, "deleted_at", {{"crm", "2"}}, kMarkedAt + 86400000000);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(Scalar("SELECT deleted_at::text FROM hcp WHERE sluice_id = " +
                   std::to_string(first->target_ids[1])),
            "2026-02-01 10:00:00+00");

  // Rolled back from a target opened afresh, as `sluice rollback` does.
  auto fresh = OpenPostgresTarget(spec_);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  Status st = (*fresh)->Rollback("run-2", hcp);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Checksum(), after_run1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM sluice.rollback WHERE run_id = 'run-2'"), "0");
}

TEST_F(PgTargetTest, ASoftDeletedRecordThatComesBackIsWrittenAgainUnmarked) {
  Open();
  const Entity hcp = HcpWithDeletedAt();
  ASSERT_TRUE(target_->Prepare(hcp).ok());
  auto first = target_->Load("run-1", hcp, Batch(0, {Row("2", "bob", 200)}, hcp));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // The same values again: unchanged, nothing written.
  auto same = target_->Load("run-1b", hcp, Batch(0, {Row("2", "bob", 200)}, hcp));
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->actions, "=");
  auto marked = target_->SoftDeleteRows("run-2", hcp, "deleted_at", {{"crm", "2"}}, kMarkedAt);
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  ASSERT_EQ(marked->size(), 1u);
  // The record is back at its source with the same values: its cleared
  // hash makes the load write it, the field back to what its mapping gives.
  auto back = target_->Load("run-3", hcp, Batch(0, {Row("2", "bob", 200)}, hcp));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->actions, "u");
  EXPECT_EQ(back->target_ids[0], first->target_ids[0]);
  EXPECT_EQ(Scalar("SELECT count(*) FROM hcp WHERE deleted_at IS NULL"), "1");
}

TEST_F(PgTargetTest, SoftDeleteRefusesAFieldThatIsNoTimestampOrDate) {
  Open();
  const Entity hcp = HcpWithDeletedAt();
  ASSERT_TRUE(target_->Prepare(hcp).ok());
  ASSERT_TRUE(target_->Load("run-1", hcp, Batch(0, {Row("2", "bob", 200)}, hcp)).ok());
  const std::string before = Checksum();
  for (const char* field : {"name", "missing"}) {
    auto marked = target_->SoftDeleteRows("run-2", hcp, field, {{"crm", "2"}}, kMarkedAt);
    ASSERT_FALSE(marked.ok()) << field;
    EXPECT_EQ(marked.status().code(), StatusCode::kInvalidArgument) << field;
  }
  EXPECT_EQ(Checksum(), before);
}

}  // namespace
}  // namespace sluice
