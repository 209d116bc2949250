#include "coordinator/entity_balance.h"

#include <gtest/gtest.h>

#include "common/core/record.h"
#include "common/runtime/worker.h"

namespace sluice::coordination {
namespace {

RecordBatch Batch(const std::string& source, const std::vector<std::string>& keys) {
  RecordBatch b;
  b.id.set_run_id("r");
  b.id.set_entity("hcp");
  b.id.set_source(source);
  b.epoch = 1;
  for (const auto& k : keys) b.records.push_back(Record{"crm", k, 0, 0, {}, {}});
  return b;
}

v1::Fate Fate(v1::FateKind kind, const std::string& key, const std::string& rule = "") {
  v1::Fate f;
  f.set_kind(kind);
  f.set_source("crm");
  f.set_key(key);
  f.set_rule(rule);
  return f;
}

TEST(EntityBalanceTest, EveryExtractedRecordLoadedOrMergedBalances) {
  Ledger ledger;
  RecordBatch raw = Batch("crm", {"a", "b", "c"});
  ASSERT_TRUE(ledger.Apply(MakeCommit("extract", raw, raw.records, {})).ok());
  v1::Commit resolve;
  resolve.set_stage("dedup_resolve");
  *resolve.mutable_batch() = Batch("dedup/0/resolve", {}).id;
  *resolve.add_fates() = Fate(v1::FATE_MERGED, "c");
  resolve.mutable_counts()->set_in(1);
  resolve.mutable_counts()->set_merged(1);
  resolve.mutable_counts()->set_in_checksum(Batch("crm", {"c"}).KeyChecksumValue());
  ASSERT_TRUE(ledger.Apply(resolve).ok());
  RecordBatch out = Batch("dedup/0", {"a", "b"});
  ASSERT_TRUE(ledger
                  .Apply(MakeCommit("load", out, {},
                                    {Fate(v1::FATE_LOADED, "a", "inserted"),
                                     Fate(v1::FATE_LOADED, "b", "updated")}))
                  .ok());
  EntityBalance b = BalanceEntity(ledger, "r", 2, "hcp", {BatchName(raw.id), BatchName(out.id)},
                                  BatchName(resolve.batch()));
  EXPECT_EQ(b.unbalanced, "");
  ASSERT_EQ(b.rows.size(), 1u);
  EXPECT_EQ(b.rows[0].wave, 2);
  EXPECT_EQ(b.rows[0].extracted, 3u);
  EXPECT_EQ(b.rows[0].merged, 1u);
  EXPECT_EQ(b.rows[0].loaded, 2u);
  EXPECT_EQ(b.rows[0].inserted, 1u);
  EXPECT_EQ(b.rows[0].updated, 1u);
  EXPECT_EQ(b.rows[0].extracted_checksum, b.rows[0].fate_checksum);
  ASSERT_EQ(b.summary.size(), 1u);
  EXPECT_EQ(b.summary[0].source, "crm");
  EXPECT_EQ(b.summary[0].loaded, 2u);
}

TEST(EntityBalanceTest, ASourceWithRecordsUnaccountedForIsNamed) {
  Ledger ledger;
  RecordBatch raw = Batch("crm", {"a", "b"});
  ASSERT_TRUE(ledger.Apply(MakeCommit("extract", raw, raw.records, {})).ok());
  EntityBalance b = BalanceEntity(ledger, "r", 0, "hcp", {BatchName(raw.id)}, "none");
  EXPECT_EQ(b.unbalanced, "crm: extracted 2 but accounted for 0; ");
}

}  // namespace
}  // namespace sluice::coordination
