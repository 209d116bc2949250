// The reconciliation of a run that decided few of the target's records (a
// delta run, issue 18): a target that reads by key is read only at the run's
// keys, and every check gives what the scan of the whole table gives.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/connectors/keyed_rows.h"
#include "common/core/value.h"
#include "reconciler/tampered_target_testing.h"

namespace sluice {
namespace {

using testing_tampered::Hcp;
using testing_tampered::TamperedTarget;
using testing_tampered::Values;

// TamperedTarget that also reads by key, counting how it was read.
class KeyedTarget : public TamperedTarget, public KeyedRowReader {
 public:
  Status ScanRows(const Entity& e, const std::function<void(const TargetRow&)>& fn) override {
    ++scans;
    return TamperedTarget::ScanRows(e, fn);
  }
  Status ScanRowsOfKeys(const Entity& e, const std::vector<SourceKey>& keys,
                        const std::function<void(const TargetRow&)>& fn) override {
    ++reads_by_key;
    keys_read += keys.size();
    for (const SourceKey& k : keys) {
      Status st = TamperedTarget::ScanRows(e, [&](const TargetRow& row) {
        if (row.source == k.source && row.key == k.key) fn(row);
      });
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }
  Result<uint64_t> RowsAtMost(const Entity& e) override { return *CountRows(e); }
  Status ScanRowsWithoutEntry(const Entity& e,
                              const std::function<void(const TargetRow&)>& fn) override {
    if (cannot_list) return Status::FailedPrecondition("cannot tell");
    return TamperedTarget::ScanRowsWithoutEntry(e, fn);
  }
  int scans = 0, reads_by_key = 0;
  size_t keys_read = 0;
  bool cannot_list = false;
};

// A target of 2,000 rows loaded by earlier runs (keys "old..."), and a run
// that loaded 15 records (5 of them rows of earlier runs it updated),
// rejected 3 (one whose earlier row it retired) and merged 2 into its loads.
class ReconcileByKeyTest : public testing::Test {
 protected:
  void SetUp() override {
    const Schema schema = Hcp().ToSchema();
    for (int i = 0; i < 2000; ++i) {
      const std::vector<Value> v = Values("Old" + std::to_string(i), "FR", i);
      rows_.push_back(
          {"crm", "old" + std::to_string(10000 + i), 1 + i, ContentHash(schema, v), v, false});
    }
    int64_t revenue = 0;
    for (int i = 0; i < 15; ++i) {
      // The first 5 update rows of earlier runs: their keys and ids.
      const std::string key = i < 5 ? "old" + std::to_string(10100 + i) : "new" + std::to_string(i);
      const int64_t id = i < 5 ? 101 + i : 3000 + i;
      const std::vector<Value> v = Values("New" + std::to_string(i), "DE", 1000 + i);
      const uint64_t hash = ContentHash(schema, v);
      auto it = std::find_if(rows_.begin(), rows_.end(),
                             [&](const TargetRow& r) { return r.key == key; });
      if (it != rows_.end()) {
        it->values = v;
        it->recorded_hash = hash;
      } else {
        rows_.push_back({"crm", key, id, hash, v, false});
      }
      std::string image;
      EncodeCanonical(schema, v, &image);
      input_.loaded.push_back({"crm", key, hash, id, image});
      revenue += 1000 + i;
    }
    input_.decimal_sums["revenue"] = revenue;
    for (const std::string key : {"rej1", "rej2", "old10500"}) {  // old10500's row retired
      input_.unloaded[FateKey("crm", key)] = RecordFate{"rejected", "name_required"};
    }
    rows_.erase(std::find_if(rows_.begin(), rows_.end(),
                             [](const TargetRow& r) { return r.key == "old10500"; }));
    for (int i = 0; i < 2; ++i) {
      const std::string key = "dup" + std::to_string(i);
      input_.merged.push_back({"crm", key, "crm", "new" + std::to_string(5 + i)});
      TargetRow merged = *std::find_if(rows_.begin(), rows_.end(), [&](const TargetRow& r) {
        return r.key == "new" + std::to_string(5 + i);
      });
      merged.key = key;
      merged.recorded_hash = 0;
      merged.merged = true;
      rows_.push_back(merged);
    }
    input_.extracted["crm"] = 20;
    input_.fate_counts["crm"] = {{"loaded", 15}, {"rejected", 3}, {"merged", 2}};
  }

  // The reconciliation through `target` holding rows_ and strays_.
  EntityReconciliation Reconcile(TamperedTarget* target) {
    target->rows = rows_;
    target->strays = strays_;
    auto r = ReconcileEntity(Hcp(), input_, target);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : EntityReconciliation{};
  }

  TargetRow& Row(const std::string& key) {
    return *std::find_if(rows_.begin(), rows_.end(),
                         [&](const TargetRow& r) { return r.key == key; });
  }

  std::vector<TargetRow> rows_, strays_;
  ReconcileInput input_;
};

TEST_F(ReconcileByKeyTest, AConsistentDeltaIsReadByKeyAndPasses) {
  KeyedTarget target;
  const EntityReconciliation r = Reconcile(&target);
  EXPECT_EQ(target.scans, 0);
  EXPECT_EQ(target.reads_by_key, 1);
  EXPECT_EQ(target.keys_read, 18u);  // the loaded and the rejected, not the merged
  EXPECT_TRUE(r.passed) << (r.differences.empty() ? "" : r.differences[0].failure);
  EXPECT_EQ(r.expected_rows, 15u);
  EXPECT_EQ(r.matched_rows, 15u);
  EXPECT_EQ(r.decimal_sums.at("revenue").second, r.decimal_sums.at("revenue").first);
}

// Each tampering found alike whether the table is scanned or read by key.
TEST_F(ReconcileByKeyTest, EveryTamperingIsFoundAsTheScanFindsIt) {
  const std::vector<std::pair<std::string, std::function<void()>>> tamperings = {
      {"a loaded row lost", [&] { rows_.erase(rows_.begin() + 2003); }},
      {"a field changed", [&] { Row("new9").values[1] = Value::Str("IT"); }},
      {"a decimal changed", [&] { Row("old10102").values[2] = Value::Int(7); }},
      {"a row of a rejected record",
       [&] {
         rows_.push_back({"crm", "rej1", 9000, 0, Values("X", "FR", 0), false});
       }},
      {"an earlier row not retired",
       [&] {
         rows_.push_back({"crm", "old10500", 501, 0, Values("Y", "FR", 1), false});
       }},
      {"a row without an entry",
       [&] {
         strays_.push_back({"", "", 9999, 0, Values("Z", "FR", 0)});
       }},
      {"an entry whose row is gone", [&] { Row("new12").values.clear(); }},
      {"another target id", [&] { Row("new13").target_id = 4242; }},
      {"a cross-reference hash", [&] { Row("old10104").recorded_hash = 1; }},
      {"an entry of the run twice", [&] { rows_.push_back(Row("new14")); }},
      {"a row of an earlier run changed: not this run's to judge",
       [&] { Row("old11000").values[0] = Value::Str("Edited"); }},
  };
  const auto rows = rows_;
  for (const auto& [what, tamper] : tamperings) {
    rows_ = rows;
    strays_.clear();
    tamper();
    TamperedTarget scanned;
    KeyedTarget by_key;
    const EntityReconciliation want = Reconcile(&scanned);
    const EntityReconciliation got = Reconcile(&by_key);
    EXPECT_EQ(by_key.scans, 0) << what;
    EXPECT_EQ(got.passed, want.passed) << what;
    EXPECT_EQ(got.expected_rows, want.expected_rows) << what;
    EXPECT_EQ(got.matched_rows, want.matched_rows) << what;
    EXPECT_EQ(got.difference_count, want.difference_count) << what;
    EXPECT_EQ(got.difference_counts, want.difference_counts) << what;
    EXPECT_EQ(got.decimal_sums, want.decimal_sums) << what;
    ASSERT_EQ(got.differences.size(), want.differences.size()) << what;
    for (size_t i = 0; i < got.differences.size(); ++i) {
      EXPECT_EQ(got.differences[i].key, want.differences[i].key) << what;
      EXPECT_EQ(got.differences[i].failure, want.differences[i].failure) << what;
      EXPECT_EQ(got.differences[i].field, want.differences[i].field) << what;
    }
    const bool harmless = what.find("not this run's") != std::string::npos;
    EXPECT_EQ(got.passed, harmless) << what;
  }
}

TEST_F(ReconcileByKeyTest, ARunThatDecidedManyOfTheRowsScansThem) {
  rows_.resize(100);  // 18 keys read by key would cost more than 100 rows scanned
  KeyedTarget target;
  Reconcile(&target);
  EXPECT_EQ(target.scans, 1);
  EXPECT_EQ(target.reads_by_key, 0);
}

// Without the list of rows that have no entry, a read by key could not tell
// that none is left: an error, never a verdict.
TEST_F(ReconcileByKeyTest, ATargetReadByKeyThatCannotListStraysIsAnError) {
  KeyedTarget target;
  target.cannot_list = true;
  target.rows = rows_;
  auto r = ReconcileEntity(Hcp(), input_, &target);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace sluice
