#include "reconciler/reconcile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "common/core/hash.h"
#include "reconciler/survivor_check.h"

namespace sluice {
namespace {

// A target held in memory: ScanRows hands over `rows` in (source, key)
// order, as the SQLite and PostgreSQL targets do (or as they are, to test
// a target that breaks that contract).
class FakeTarget : public Target {
 public:
  Status Prepare(const Entity&) override { return Status::Ok(); }
  Result<LoadOutcome> Load(const std::string&, const Entity&, const RecordBatch&) override {
    return Status::Unavailable("the fake target is read-only");
  }
  Status ScanRows(const Entity&, const std::function<void(const TargetRow&)>& fn) override {
    if (!scan_status.ok()) return scan_status;
    std::vector<TargetRow> ordered = rows;
    if (!as_given) {
      std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
        return a.source != b.source ? a.source < b.source : a.key < b.key;
      });
    }
    for (const TargetRow& row : ordered) fn(row);
    return Status::Ok();
  }

  Result<uint64_t> CountRows(const Entity&) override {
    if (!row_count) return Status::FailedPrecondition("this target does not count its rows");
    return *row_count;
  }
  std::vector<TargetRow> rows;
  bool as_given = false;  // hand `rows` over unsorted
  Status scan_status;
  std::optional<uint64_t> row_count;  // CountRows; unset: a target that cannot count
};

Entity Hcp() {
  Entity e;
  e.name = "hcp";
  e.fields.resize(4);
  e.fields[0].name = "national_id";
  e.fields[1].name = "name";
  e.fields[2].name = "revenue";
  e.fields[2].type = FieldType::kDecimal;
  e.fields[2].precision = 12;
  e.fields[2].scale = 2;
  e.fields[3].name = "visits";
  e.fields[3].type = FieldType::kInt;
  return e;
}

std::vector<Value> Values(const std::string& nid, const std::string& name,
                          std::optional<int64_t> revenue) {
  return {Value::Str(nid), Value::Str(name), revenue ? Value::Int(*revenue) : Value::Null(),
          Value::Int(3)};
}

// A consistent wave: crm extracted 4 records (2 loaded, 1 merged into the
// first, 1 rejected), sheet 1 (loaded). The target also holds a row of an
// earlier run and the cross-reference of the merged key.
class ReconcileTest : public testing::Test {
 protected:
  void SetUp() override {
    const Schema schema = Hcp().ToSchema();
    AddLoaded("crm", "c1", Values("N1", "Ann", 125050), 101);
    AddLoaded("crm", "c2", Values("N2", "Bob", std::nullopt), 102);
    AddLoaded("sheet", "s1", Values("N3", "Cy", 1000), 103);
    input_.run_id = "run-1";
    input_.wave = 0;
    input_.entity = "hcp";
    Account("crm", {{"loaded", 2}, {"merged", 1}, {"rejected", 1}}, {"c1", "c2", "c3", "c4"});
    Account("sheet", {{"FATE_LOADED", 1}, {"FATE_WARNING", 4}}, {"s1"});
    input_.decimal_sums["revenue"] = 126050;

    TargetRow merged = target_.rows[0];  // c3's cross-reference points at c1's row
    merged.key = "c3";
    merged.merged = true;
    target_.rows.push_back(merged);
    TargetRow earlier;
    earlier.source = "crm";
    earlier.key = "old";
    earlier.target_id = 7;
    earlier.values = Values("N0", "Old", 999999);
    earlier.recorded_hash = ContentHash(schema, earlier.values);
    target_.rows.push_back(earlier);
  }

  void AddLoaded(const std::string& source, const std::string& key, std::vector<Value> values,
                 int64_t target_id) {
    TargetRow row;
    row.source = source;
    row.key = key;
    row.target_id = target_id;
    row.values = std::move(values);
    row.recorded_hash = ContentHash(Hcp().ToSchema(), row.values);
    target_.rows.push_back(row);
    input_.loaded.push_back({source, key, row.recorded_hash, target_id});
  }

  void Account(const std::string& source, const std::map<std::string, uint64_t>& kinds,
               const std::vector<std::string>& keys) {
    KeyChecksum sum;
    for (const auto& k : keys) sum.Add(source, k);
    input_.extracted[source] = keys.size();
    input_.extracted_checksum[source] = sum.value();
    input_.fate_counts[source] = kinds;
    input_.fate_checksum[source] = sum.value();
  }

  EntityReconciliation Reconcile() {
    auto r = ReconcileEntity(Hcp(), input_, &target_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : EntityReconciliation{};
  }

  ReconcileInput input_;
  FakeTarget target_;
};

TEST_F(ReconcileTest, ConsistentWavePasses) {
  const EntityReconciliation r = Reconcile();
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.entity, "hcp");
  EXPECT_EQ(r.conservation, (std::map<std::string, bool>{{"crm", true}, {"sheet", true}}));
  EXPECT_EQ(r.expected_rows, 3u);
  EXPECT_EQ(r.matched_rows, 3u);
  EXPECT_EQ(r.difference_count, 0u);
  EXPECT_TRUE(r.differences.empty());
  EXPECT_EQ(r.decimal_sums.at("revenue"), (std::pair<int64_t, int64_t>{126050, 126050}));
  EXPECT_EQ(r.balances.at("sheet").accounted, 1u);  // the warnings are not fates
  EXPECT_EQ(r.balances.at("crm").fates.at("merged"), 1u);
}

TEST_F(ReconcileTest, MissingRowFails) {
  target_.rows.erase(target_.rows.begin() + 1);  // crm/c2 (no revenue)
  const EntityReconciliation r = Reconcile();
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.matched_rows, 2u);
  ASSERT_EQ(r.difference_count, 1u);
  ASSERT_EQ(r.differences.size(), 1u);
  EXPECT_EQ(r.differences[0].source, "crm");
  EXPECT_EQ(r.differences[0].key, "c2");
  EXPECT_EQ(r.differences[0].failure, kMissingTarget);
  EXPECT_EQ(r.differences[0].actual, "absent");
  EXPECT_TRUE(r.conservation.at("crm"));
}

// Issue 23: a stale row cannot outlive its fate. crm/c4 is rejected in this
// run; a row an earlier run loaded for it is still there.
TEST_F(ReconcileTest, ARowOfARecordThisRunRejectedIsStale) {
  TargetRow stale = target_.rows.back();  // as "old", an earlier run's row
  stale.key = "c4";
  stale.target_id = 8;
  target_.rows.push_back(stale);
  input_.unloaded[FateKey("crm", "c4")] = RecordFate{"rejected", "name_required"};
  const EntityReconciliation r = Reconcile();
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(r.differences.size(), 1u);
  EXPECT_EQ(r.differences[0].key, "c4");
  EXPECT_EQ(r.differences[0].failure, kUnexpectedTarget);
  EXPECT_EQ(r.differences[0].expected, "no row (rejected by name_required)");
  EXPECT_EQ(r.differences[0].actual, "row 8");
}

// A row that no cross-reference entry calls its own (a record merged later
// whose row was left behind) fails the wave; a target that cannot count
// its rows is not judged on it.
TEST_F(ReconcileTest, ARowWithoutItsOwnEntryFailsWhenTheTargetCounts) {
  target_.row_count = 4;  // c1, c2, s1 and the earlier run's row
  EXPECT_TRUE(Reconcile().passed);
  target_.row_count = 5;
  const EntityReconciliation r = Reconcile();
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(r.differences.size(), 1u);
  EXPECT_EQ(r.differences[0].failure, kUnexpectedTarget);
  EXPECT_EQ(r.differences[0].expected, "4 rows");
  EXPECT_EQ(r.differences[0].actual, "5 rows");
}

TEST_F(ReconcileTest, ChangedValueIsAHashMismatch) {
  target_.rows[0].values[1] = Value::Str("Anne");  // recorded hash left as loaded
  const uint64_t actual = ContentHash(Hcp().ToSchema(), target_.rows[0].values);
  const EntityReconciliation r = Reconcile();
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.matched_rows, 2u);
  ASSERT_EQ(r.differences.size(), 1u);
  const FieldDifference& d = r.differences[0];
  EXPECT_EQ(d.key, "c1");
  EXPECT_EQ(d.failure, kRecordDiff);
  EXPECT_EQ(d.field, "(content hash)");  // no loaded values to compare with
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(actual));
  EXPECT_EQ(d.actual, hex);
  EXPECT_EQ(d.expected.size(), 16u);
  EXPECT_NE(d.expected, d.actual);
}

TEST_F(ReconcileTest, CrossReferenceHashAndTargetIdAreChecked) {
  target_.rows[0].recorded_hash ^= 1;
  target_.rows[2].target_id = 999;
  const EntityReconciliation r = Reconcile();
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.matched_rows, 1u);
  ASSERT_EQ(r.differences.size(), 2u);
  EXPECT_EQ(r.differences[0].field, "(cross-reference hash)");
  EXPECT_EQ(r.differences[1].field, "(target id)");
  EXPECT_EQ(r.differences[1].expected, "103");
  EXPECT_EQ(r.differences[1].actual, "999");
}

TEST_F(ReconcileTest, ExpectedTargetIdZeroIsNotChecked) {
  for (auto& load : input_.loaded) load.target_id = 0;
  EXPECT_TRUE(Reconcile().passed);
}

TEST_F(ReconcileTest, DecimalSumMismatchFails) {
  input_.decimal_sums["revenue"] = 126049;
  const EntityReconciliation r = Reconcile();
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(r.difference_count, 1u);
  EXPECT_EQ(r.differences[0].failure, kSumMismatch);
  EXPECT_EQ(r.differences[0].field, "revenue");
  EXPECT_EQ(r.differences[0].expected, "1260.49");
  EXPECT_EQ(r.differences[0].actual, "1260.50");
  EXPECT_EQ(r.decimal_sums.at("revenue"), (std::pair<int64_t, int64_t>{126049, 126050}));
}

TEST_F(ReconcileTest, MissingDecimalSumExpectsZero) {
  input_.decimal_sums.clear();
  EntityReconciliation r = Reconcile();
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.decimal_sums.at("revenue").first, 0);

  for (auto& row : target_.rows) row.values[2] = Value::Null();
  for (auto& load : input_.loaded) {
    auto it = std::find_if(target_.rows.begin(), target_.rows.end(),
                           [&](const TargetRow& t) { return t.key == load.key; });
    it->recorded_hash = load.content_hash = ContentHash(Hcp().ToSchema(), it->values);
  }
  EXPECT_TRUE(Reconcile().passed);
}

TEST_F(ReconcileTest, ConservationFailsOnCountsOrChecksums) {
  input_.extracted["crm"] = 5;  // one record extracted but never accounted for
  EntityReconciliation r = Reconcile();
  EXPECT_FALSE(r.passed);
  EXPECT_FALSE(r.conservation.at("crm"));
  EXPECT_TRUE(r.conservation.at("sheet"));
  EXPECT_EQ(r.balances.at("crm").extracted, 5u);
  EXPECT_EQ(r.balances.at("crm").accounted, 4u);

  input_ = {};
  target_.rows.clear();
  SetUp();  // counts right, but another key took a lost record's place
  input_.fate_checksum["sheet"] = KeyHash("sheet", "s9");
  r = Reconcile();
  EXPECT_FALSE(r.passed);
  EXPECT_FALSE(r.conservation.at("sheet"));
}

TEST_F(ReconcileTest, SourceWithFatesButNoLedgerEntryFails) {
  input_.fate_counts["ghost"] = {{"loaded", 1}};
  const EntityReconciliation r = Reconcile();
  EXPECT_FALSE(r.passed);
  EXPECT_FALSE(r.conservation.at("ghost"));
}

TEST_F(ReconcileTest, DifferencesAreCappedSortedAndCountedInFull) {
  for (int i = 0; i < 1500; ++i) {
    char key[8];
    std::snprintf(key, sizeof key, "k%04d", 1499 - i);
    input_.loaded.push_back({"erp", key, 42, 0});
  }
  const EntityReconciliation r = Reconcile();
  EXPECT_EQ(r.difference_count, 1500u);
  ASSERT_EQ(r.differences.size(), kMaxReportedDifferences);
  EXPECT_EQ(r.differences.front().key, "k0000");
  EXPECT_EQ(r.differences.back().key, "k0999");
  EXPECT_EQ(r.expected_rows, 1503u);
}

TEST_F(ReconcileTest, RepeatedLoadedFateThatDisagreesIsADifference) {
  input_.loaded.push_back(input_.loaded[0]);  // the same fate twice: fine
  EXPECT_TRUE(Reconcile().passed);
  input_.loaded.push_back(input_.loaded[1]);
  input_.loaded.back().target_id = 555;
  const EntityReconciliation r = Reconcile();
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.expected_rows, 3u);
  EXPECT_EQ(r.matched_rows, 3u);  // checked against the first recorded
  ASSERT_EQ(r.differences.size(), 1u);
  EXPECT_EQ(r.differences[0].key, "c2");
  EXPECT_EQ(r.differences[0].field, "(loaded fate)");
  EXPECT_EQ(r.differences[0].actual.substr(17), "id 555");
}

// The target may hand its rows over in any order, and the audit store its
// fates: the verdict and the report are the same.
TEST_F(ReconcileTest, AnyOrderOfRowsAndFatesGivesTheSameReport) {
  input_ = {};
  target_.rows.clear();
  const Schema schema = Hcp().ToSchema();
  for (int i = 0; i < 500; ++i) {
    const std::string key = "k" + std::to_string(i * 7919 % 1000);
    AddLoaded(i % 3 ? "crm" : "erp", key, Values("N" + key, "name", i), 1000 + i);
  }
  input_.decimal_sums["revenue"] = 500 * 499 / 2;
  // Differences of every kind: a missing row, a changed row, rows of other
  // runs before, between and after ours.
  target_.rows.erase(target_.rows.begin() + 10);
  target_.rows[20].values[1] = Value::Str("changed");
  for (const char* key : {"a", "k5000", "zz"}) {
    TargetRow other;
    other.source = "crm";
    other.key = key;
    other.values = Values("N", "other", 1);
    other.recorded_hash = ContentHash(schema, other.values);
    target_.rows.push_back(other);
  }
  const EntityReconciliation want = Reconcile();
  EXPECT_FALSE(want.passed);
  EXPECT_EQ(want.expected_rows, 500u);
  EXPECT_EQ(want.matched_rows, 498u);
  EXPECT_EQ(want.difference_count, 3u);  // the missing row's revenue: a SUM_MISMATCH too

  auto same = [&](const EntityReconciliation& got) {
    EXPECT_EQ(got.matched_rows, want.matched_rows);
    EXPECT_EQ(got.difference_count, want.difference_count);
    ASSERT_EQ(got.differences.size(), want.differences.size());
    for (size_t i = 0; i < got.differences.size(); ++i) {
      EXPECT_EQ(got.differences[i].key, want.differences[i].key);
      EXPECT_EQ(got.differences[i].failure, want.differences[i].failure);
    }
    EXPECT_EQ(got.decimal_sums, want.decimal_sums);
  };
  auto by_key = [](const auto& a, const auto& b) {
    return a.source != b.source ? a.source < b.source : a.key < b.key;
  };
  same(Reconcile());
  std::sort(input_.loaded.begin(), input_.loaded.end(), by_key);
  same(Reconcile());
  std::reverse(input_.loaded.begin(), input_.loaded.end());
  same(Reconcile());
  std::mt19937 rng(7);
  for (int round = 0; round < 3; ++round) {
    std::shuffle(target_.rows.begin(), target_.rows.end(), rng);  // the target sorts them
    std::shuffle(input_.loaded.begin(), input_.loaded.end(), rng);
    same(Reconcile());
  }
}

// The merge reads the target's rows once, in key order: a target that
// hands them over in another order fails the reconciliation (an error,
// never a verdict) rather than reporting rows it passed as missing.
TEST_F(ReconcileTest, TargetRowsOutOfKeyOrderAreAnErrorNotAVerdict) {
  std::reverse(target_.rows.begin(), target_.rows.end());
  target_.as_given = true;
  auto r = ReconcileEntity(Hcp(), input_, &target_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("not in key order"), std::string::npos)
      << r.status().ToString();
}

TEST_F(ReconcileTest, TargetRowSeenTwiceIsADifference) {
  target_.rows.push_back(target_.rows[1]);
  const EntityReconciliation r = Reconcile();
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(r.differences.size(), 1u);
  EXPECT_EQ(r.differences[0].failure, kUnexpectedTarget);
}

TEST_F(ReconcileTest, UnreadableTargetIsAnError) {
  target_.scan_status = Status::IoError("disk gone");
  auto r = ReconcileEntity(Hcp(), input_, &target_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("reconcile hcp"), std::string::npos);
}

TEST_F(ReconcileTest, JsonReportShape) {
  const EntityReconciliation good = Reconcile();
  target_.rows.erase(target_.rows.begin() + 1);
  input_.decimal_sums["revenue"] = 1;
  const EntityReconciliation bad = Reconcile();

  auto doc = nlohmann::json::parse(ReconciliationJson("run-1", 2, {good, bad}));
  EXPECT_EQ(doc["run_id"], "run-1");
  EXPECT_EQ(doc["wave"], 2);
  EXPECT_EQ(doc["verdict"], "FAIL");
  ASSERT_EQ(doc["entities"].size(), 2u);
  const auto& e = doc["entities"][1];
  EXPECT_EQ(e["entity"], "hcp");
  EXPECT_EQ(e["passed"], false);
  EXPECT_EQ(e["conservation"]["crm"], true);
  EXPECT_EQ(e["balances"]["crm"]["extracted"], 4);
  EXPECT_EQ(e["balances"]["crm"]["fates"]["loaded"], 2);
  EXPECT_EQ(e["expected_rows"], 3);
  EXPECT_EQ(e["matched_rows"], 2);
  EXPECT_EQ(e["difference_count"], 2);  // the row and the sum
  EXPECT_EQ(e["differences_by_failure"]["MISSING_TARGET"], 1);
  EXPECT_EQ(e["differences_by_failure"]["SUM_MISMATCH"], 1);
  ASSERT_EQ(e["differences"].size(), 2u);
  EXPECT_EQ(e["differences"][0]["failure"], "SUM_MISMATCH");  // source "*" sorts first
  EXPECT_EQ(e["differences"][1], (nlohmann::json{{"source", "crm"},
                                                 {"key", "c2"},
                                                 {"failure", "MISSING_TARGET"},
                                                 {"field", ""},
                                                 {"expected", bad.differences[1].expected},
                                                 {"actual", "absent"}}));
  const auto& sum = e["decimal_sums"]["revenue"];
  EXPECT_EQ(sum["expected"], 1);
  EXPECT_EQ(sum["actual"], 126050);
  EXPECT_EQ(sum["equal"], false);
  EXPECT_EQ(sum["actual_text"], "1260.50");
  EXPECT_EQ(doc["entities"][0]["decimal_sums"]["revenue"]["equal"], true);

  EXPECT_EQ(nlohmann::json::parse(ReconciliationJson("run-1", 2, {good}))["verdict"], "PASS");
  EXPECT_EQ(nlohmann::json::parse(ReconciliationJson("run-1", 2, {}))["verdict"], "PASS");
}

}  // namespace
}  // namespace sluice
