// The reconciler's streaming path (issue 20 item 3): fates arriving in
// chunks in any order, spilled to sorted runs, merged with the target in
// key order. Every record lost, added or duplicated must still fail the
// entity, as it did when every fate was held.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "common/audit/loaded_pack.h"
#include "common/core/hash.h"
#include "reconciler/reconcile_input.h"
#include "reconciler/tampered_target_testing.h"

namespace sluice {
namespace {

using testing_tampered::Hcp;
using testing_tampered::TamperedTarget;
using testing_tampered::Values;

// A target whose table holds `table_rows` rows, whatever its entries say.
class CountingTarget : public TamperedTarget {
 public:
  Result<uint64_t> CountRows(const Entity& e) override {
    return table_rows ? *table_rows : TamperedTarget::CountRows(e);
  }
  std::optional<uint64_t> table_rows;
};

struct Outcome {
  EntityReconciliation r;
  SurvivorCheck survivors;
  size_t runs = 0;  // sorted runs the fates were spilled to
};

// A wave of 3,000 records of crm and erp: most loaded, every 50th rejected,
// every 40th (not rejected) merged into the record before it.
class ReconcileStreamTest : public testing::Test {
 protected:
  static constexpr int kRecords = 3000;

  void SetUp() override {
    // One folder per test: ctest runs the tests of this file side by side.
    dir_ = testing::TempDir() + "/reconcile_stream_" +
           testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
           std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    const Schema schema = Hcp().ToSchema();
    for (int i = 0; i < kRecords; ++i) {
      const std::string source = i % 3 ? "crm" : "erp";
      const std::string key = "k" + std::to_string(100000 + i);
      KeyChecksum& sum = extracted_checksum_[source];
      sum.Add(source, key);
      ++extracted_[source];
      v1::FateDigest f;
      f.set_source(source);
      f.set_key(key);
      if (i % 50 == 7) {
        f.set_kind(v1::FATE_REJECTED);
        f.set_rule("name_required");
      } else if (i % 40 == 1 && i > 1) {
        const int s = i - 3;  // the same source's record before it
        f.set_kind(v1::FATE_MERGED);
        f.set_survivor_source(source);
        f.set_survivor_key("k" + std::to_string(100000 + s));
        TargetRow merged{source, key, 1 + s, 0, {}, true};
        merged.values = Values("N" + std::to_string(s), "FR", s);
        target_.rows.push_back(merged);
      } else {
        const std::vector<Value> values = Values("N" + std::to_string(i), "FR", i);
        std::string image;
        EncodeCanonical(schema, values, &image);
        f.set_kind(v1::FATE_LOADED);
        f.set_target_id(1 + i);
        f.set_content_hash(ContentHash(schema, values));
        f.set_loaded_values(image);
        target_.rows.push_back({source, key, 1 + i, f.content_hash(), values, false});
        revenue_ += i;
        ++loaded_;
      }
      fates_.push_back(f);
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Sends the fates in `seed`'s order, 256 a chunk, to a builder that
  // spills every 64 KiB, and reconciles. `packed`: each chunk's LOADED fates
  // go in one loaded pack, as the coordinator sends what the audit store
  // keeps by the pack (issue 20); `damage` cuts the last pack short.
  Outcome Reconcile(unsigned seed = 1, bool packed = false, bool damage = false) {
    std::vector<v1::FateDigest> fates = fates_;
    std::mt19937 rng(seed);
    std::shuffle(fates.begin(), fates.end(), rng);
    ReconcileInputBuilder builder("run-1", 0, "hcp", {dir_, size_t{64} << 10});
    v1::ReconcileInput chunk;
    for (const auto& [source, n] : extracted_) {
      v1::ReconcileLedgerRow* row = chunk.add_ledger();
      row->set_source(source);
      row->set_extracted(n);
      row->set_extracted_checksum(extracted_checksum_[source].value());
    }
    (*chunk.mutable_decimal_sums())["revenue"] = revenue_;
    LoadedPackWriter pack;
    size_t in_chunk = 0;
    for (size_t i = 0; i < fates.size(); ++i) {
      const v1::FateDigest& f = fates[i];
      if (packed && f.kind() == v1::FATE_LOADED) {
        pack.Add({f.source(), f.key(), f.target_id(), f.content_hash(), f.loaded_values()});
      } else {
        *chunk.add_fates() = f;
      }
      if (++in_chunk == 256 || i + 1 == fates.size()) {
        if (pack.fates() > 0) {
          std::string bytes = pack.bytes();
          if (damage && i + 1 == fates.size()) bytes.pop_back();
          chunk.add_loaded_packs(bytes);
        }
        Status added = builder.Add(chunk);
        if (damage && i + 1 == fates.size()) {
          EXPECT_EQ(added.code(), StatusCode::kCorruption) << added.ToString();
          return {};
        }
        EXPECT_TRUE(added.ok()) << added.ToString();
        chunk.Clear();
        pack = LoadedPackWriter();
        in_chunk = 0;
      }
    }
    auto finished = builder.Finish();
    EXPECT_TRUE(finished.ok()) << finished.status().ToString();
    Outcome out;
    if (!finished.ok()) return out;
    out.runs = finished->fates->runs_written();
    auto r = ReconcileSorted(Hcp(), finished->input, finished->fates.get(), &target_, nullptr,
                             &out.survivors);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) out.r = std::move(r).value();
    return out;
  }

  // The index in fates_ of the i-th fate of `kind`.
  size_t Nth(v1::FateKind kind, int n) {
    for (size_t i = 0; i < fates_.size(); ++i) {
      if (fates_[i].kind() == kind && n-- == 0) return i;
    }
    ADD_FAILURE() << "no such fate";
    return 0;
  }
  // The target row of fates_[i].
  std::vector<TargetRow>::iterator RowOf(size_t i) {
    return std::find_if(target_.rows.begin(), target_.rows.end(), [&](const TargetRow& r) {
      return r.source == fates_[i].source() && r.key == fates_[i].key();
    });
  }

  std::string dir_;
  std::vector<v1::FateDigest> fates_;
  std::map<std::string, uint64_t> extracted_;
  std::map<std::string, KeyChecksum> extracted_checksum_;
  int64_t revenue_ = 0;
  uint64_t loaded_ = 0;
  CountingTarget target_;
};

TEST_F(ReconcileStreamTest, AConsistentWavePassesThroughSpilledRuns) {
  for (unsigned seed : {1u, 2u, 3u}) {
    const Outcome o = Reconcile(seed);
    EXPECT_GT(o.runs, 5u);
    EXPECT_TRUE(o.r.passed) << (o.r.differences.empty() ? "" : o.r.differences[0].failure);
    EXPECT_EQ(o.r.expected_rows, loaded_);
    EXPECT_EQ(o.r.matched_rows, loaded_);
    EXPECT_EQ(o.r.difference_count, 0u);
    EXPECT_TRUE(o.survivors.checked);
    EXPECT_TRUE(o.survivors.passed());
    EXPECT_EQ(o.survivors.merged, 74u);
    for (const auto& [source, ok] : o.r.conservation) EXPECT_TRUE(ok) << source;
  }
  EXPECT_TRUE(!std::filesystem::exists(dir_) || std::filesystem::is_empty(dir_));
}

TEST_F(ReconcileStreamTest, LoadedFatesSentByThePackReconcileAsDigestsDo) {
  const Outcome digests = Reconcile(4);
  const Outcome packs = Reconcile(4, /*packed=*/true);
  EXPECT_TRUE(packs.r.passed);
  EXPECT_EQ(packs.r.expected_rows, loaded_);
  EXPECT_EQ(packs.r.matched_rows, digests.r.matched_rows);
  EXPECT_EQ(packs.r.decimal_sums, digests.r.decimal_sums);
  EXPECT_EQ(packs.survivors.merged, digests.survivors.merged);
  ASSERT_EQ(packs.r.balances.size(), 2u);
  for (const auto& [source, ok] : packs.r.conservation) EXPECT_TRUE(ok) << source;
  // A row lost is found through packs as through digests.
  target_.rows.erase(RowOf(Nth(v1::FATE_LOADED, 77)));
  const Outcome lost = Reconcile(4, /*packed=*/true);
  EXPECT_FALSE(lost.r.passed);
  EXPECT_EQ(lost.r.difference_counts.at(kMissingTarget), 1u);
}

TEST_F(ReconcileStreamTest, ADamagedPackIsCorruption) { Reconcile(1, true, /*damage=*/true); }

TEST_F(ReconcileStreamTest, ALostRowFails) {
  target_.rows.erase(RowOf(Nth(v1::FATE_LOADED, 1234)));
  const Outcome o = Reconcile();
  EXPECT_FALSE(o.r.passed);
  EXPECT_EQ(o.r.matched_rows, loaded_ - 1);
  EXPECT_EQ(o.r.difference_counts.at(kMissingTarget), 1u);
}

TEST_F(ReconcileStreamTest, TheFirstAndLastKeysLostFail) {
  std::sort(target_.rows.begin(), target_.rows.end(), [](const auto& a, const auto& b) {
    return a.source != b.source ? a.source < b.source : a.key < b.key;
  });
  target_.rows.erase(target_.rows.end() - 1);
  target_.rows.erase(target_.rows.begin());
  const Outcome o = Reconcile();
  EXPECT_FALSE(o.r.passed);
  EXPECT_EQ(o.r.difference_counts.at(kMissingTarget), 2u);
}

TEST_F(ReconcileStreamTest, ALostFateFailsConservation) {
  fates_.erase(fates_.begin() + static_cast<long>(Nth(v1::FATE_REJECTED, 3)));
  const Outcome o = Reconcile();
  EXPECT_FALSE(o.r.passed);
  EXPECT_FALSE(o.r.conservation.at("crm") && o.r.conservation.at("erp"));
}

TEST_F(ReconcileStreamTest, ARowOfARejectedRecordFails) {
  const size_t i = Nth(v1::FATE_REJECTED, 10);
  target_.rows.push_back({fates_[i].source(), fates_[i].key(), 99999, 0, Values("X", "FR", 0)});
  const Outcome o = Reconcile();
  EXPECT_FALSE(o.r.passed);
  ASSERT_EQ(o.r.difference_counts.count(kUnexpectedTarget), 1u);
  EXPECT_EQ(o.r.difference_counts.at(kUnexpectedTarget), 1u);
}

TEST_F(ReconcileStreamTest, ARowWithoutAnEntryFails) {
  target_.strays.push_back({"", "", 99999, 0, Values("X", "FR", 0), false});
  const Outcome o = Reconcile();
  EXPECT_FALSE(o.r.passed);
  EXPECT_EQ(o.r.difference_counts.at(kUnexpectedTarget), 1u);
}

// Two entries on one row while another row has none: as many entries as
// rows, yet a row without an entry. Counting distinct rows catches it.
TEST_F(ReconcileStreamTest, TwoEntriesOnOneRowDoNotHideARowWithoutAnEntry) {
  TargetRow other = *RowOf(Nth(v1::FATE_LOADED, 5));
  other.source = "old";  // another run's entry, on the same row
  other.key = "k1";
  target_.rows.push_back(other);
  target_.strays.push_back({"", "", 99999, 0, Values("X", "FR", 0), false});
  target_.table_rows = loaded_ + 1;  // the loaded rows and the stray
  const Outcome o = Reconcile();
  EXPECT_FALSE(o.r.passed);
  EXPECT_EQ(o.r.difference_counts.at(kUnexpectedTarget), 1u);
}

TEST_F(ReconcileStreamTest, ADuplicatedFateFails) {
  fates_.push_back(fates_[Nth(v1::FATE_LOADED, 17)]);  // recorded twice, alike
  Outcome o = Reconcile();
  EXPECT_FALSE(o.r.passed);  // one fate more than the records extracted
  EXPECT_EQ(o.r.expected_rows, loaded_);
  fates_.back().set_target_id(424242);  // and now disagreeing
  o = Reconcile(5);
  EXPECT_FALSE(o.r.passed);
  EXPECT_EQ(o.r.difference_counts.at(kRecordDiff), 1u);
  ASSERT_FALSE(o.r.differences.empty());
  EXPECT_EQ(o.r.differences[0].field, "(loaded fate)");
}

TEST_F(ReconcileStreamTest, ADuplicatedRowFails) {
  target_.rows.push_back(*RowOf(Nth(v1::FATE_LOADED, 99)));
  const Outcome o = Reconcile();
  EXPECT_FALSE(o.r.passed);
  EXPECT_EQ(o.r.difference_counts.at(kUnexpectedTarget), 1u);
}

TEST_F(ReconcileStreamTest, AChangedRowIsReportedFieldByField) {
  RowOf(Nth(v1::FATE_LOADED, 500))->values[1] = Value::Str("DE");
  const Outcome o = Reconcile();
  EXPECT_FALSE(o.r.passed);
  ASSERT_EQ(o.r.differences.size(), 1u);
  EXPECT_EQ(o.r.differences[0].field, "country");
  EXPECT_EQ(o.r.differences[0].expected, "FR");
  EXPECT_EQ(o.r.differences[0].actual, "DE");
}

TEST_F(ReconcileStreamTest, AMergedRecordWhoseSurvivorWasRejectedFails) {
  const size_t merged = Nth(v1::FATE_MERGED, 0);
  const size_t rejected = Nth(v1::FATE_REJECTED, 0);
  fates_[merged].set_survivor_source(fates_[rejected].source());
  fates_[merged].set_survivor_key(fates_[rejected].key());
  const Outcome o = Reconcile();
  EXPECT_FALSE(o.survivors.passed());
  EXPECT_EQ(o.survivors.unresolved, 1u);
  ASSERT_FALSE(o.survivors.examples.empty());
  EXPECT_NE(o.survivors.examples[0].find("rejected by name_required"), std::string::npos)
      << o.survivors.examples[0];
}

}  // namespace
}  // namespace sluice
