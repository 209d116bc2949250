#include "coordinator/poison_batch.h"

#include <gtest/gtest.h>

namespace sluice::coordination {
namespace {

v1::Lease StreamLease(uint64_t seq, uint64_t offset) {
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_EXTRACT_SOURCE);
  lease.mutable_batch()->set_run_id("r");
  lease.mutable_batch()->set_entity("hcp");
  lease.mutable_batch()->set_source("crm");
  lease.mutable_batch()->set_sequence(0);  // as LeaseBook::LeaseStream leases it
  lease.set_next_sequence(seq);
  lease.mutable_range()->set_begin_offset(offset);
  return lease;
}

v1::Commit Extracted(uint64_t seq, uint64_t end) {
  v1::Commit c;
  c.set_stage("extract");
  *c.mutable_batch() = StreamLease(0, 0).batch();
  c.mutable_batch()->set_sequence(seq);
  c.mutable_range()->set_end_offset(end);
  return c;
}

constexpr char kSegv[] = "killed by signal 11 after 0.01s user, 0.00s system cpu";

TEST(PoisonBatchWatch, TheSecondCrashOnTheSameBatchHaltsNamingIt) {
  PoisonBatchWatch watch;
  watch.Leased("extractor-0", StreamLease(0, 0));
  watch.Committed("extractor-0", Extracted(0, 400));
  watch.Committed("extractor-0", Extracted(1, 900));
  EXPECT_FALSE(watch.Died("extractor-0", "extractor", kSegv));
  // Restarted, re-leased from the batch it died on.
  watch.Leased("extractor-0", StreamLease(2, 900));
  const auto reason = watch.Died("extractor-0", "extractor", kSegv);
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("worker extractor-0 crashed twice on batch"), std::string::npos)
      << *reason;
  EXPECT_NE(reason->find("source crm, entity hcp, from offset 900"), std::string::npos) << *reason;
  EXPECT_NE(reason->find("signal 11 (SIGSEGV)"), std::string::npos) << *reason;
}

TEST(PoisonBatchWatch, ProgressOrAKillIsNoPoison) {
  PoisonBatchWatch watch;
  watch.Leased("extractor-0", StreamLease(0, 0));
  EXPECT_FALSE(watch.Died("extractor-0", "extractor", kSegv));
  watch.Leased("extractor-0", StreamLease(0, 0));
  watch.Committed("extractor-0", Extracted(0, 400));  // it got further this time
  EXPECT_FALSE(watch.Died("extractor-0", "extractor", kSegv));
  // kill -9 (an operator, a test, the OOM killer) is not the batch's doing.
  watch.Leased("extractor-0", StreamLease(1, 400));
  EXPECT_FALSE(watch.Died("extractor-0", "extractor", "killed by signal 9"));
  watch.Leased("extractor-0", StreamLease(1, 400));
  EXPECT_FALSE(watch.Died("extractor-0", "extractor", "killed by signal 9"));
  // Nor an exit.
  watch.Leased("extractor-0", StreamLease(1, 400));
  EXPECT_FALSE(watch.Died("extractor-0", "extractor", "exited with code 1"));
  EXPECT_EQ(PoisonBatchWatch::SignalOf("killed by signal 6 after 1s"), 6);
}

v1::Commit Started(const std::string& source, uint64_t seq, uint64_t begin, uint64_t end) {
  v1::Commit s;
  s.set_stage("start");
  *s.mutable_batch() = StreamLease(0, 0).batch();
  s.mutable_batch()->set_source(source);
  s.mutable_batch()->set_sequence(seq);
  s.mutable_range()->set_begin_offset(begin);
  s.mutable_range()->set_end_offset(end);
  s.mutable_range()->set_first_line(begin == 0 ? 0 : 3);
  s.mutable_counts()->set_in(2);
  s.add_in_keys(source + "\x1fk3");
  s.add_in_keys(source + "\x1fk4");
  return s;
}

// A streaming worker holds no lease: it says which batch it starts.
TEST(PoisonBatchWatch, AStreamingWorkerCrashingTwiceOnItsInputBatchHalts) {
  PoisonBatchWatch watch;
  watch.Started("transformer-0", Started("crm", 0, 0, 31));
  v1::Commit done = Extracted(0, 31);
  done.set_stage("transform");
  watch.Committed("transformer-0", done);
  watch.Started("transformer-0", Started("crm", 1, 31, 60));
  EXPECT_FALSE(watch.Died("transformer-0", "transformer", kSegv));
  // The replacement finishes batch 0 again, then crashes on batch 1 again.
  watch.Started("transformer-0", Started("crm", 0, 0, 31));
  watch.Committed("transformer-0", done);
  watch.Started("transformer-0", Started("crm", 1, 31, 60));
  const auto reason = watch.Died("transformer-0", "transformer", kSegv);
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("worker transformer-0 crashed twice on batch r/0/hcp/crm/1 (source crm, "
                         "entity hcp, from offset 31 (line 3); 2 records, crm/k3 to crm/k4)"),
            std::string::npos)
      << *reason;
  EXPECT_NE(reason->find("crashes the transformer"), std::string::npos) << *reason;
}

// A dedup output batch has no place in a source: its keys say what it holds.
TEST(PoisonBatchWatch, ABatchAfterTheDeduperIsNamedByItsKeys) {
  PoisonBatchWatch watch;
  for (int crash = 0; crash < 2; ++crash) {
    watch.Started("loader-0", Started("dedup/0", 2, 0, 0));
    const auto reason = watch.Died("loader-0", "loader", kSegv);
    ASSERT_EQ(reason.has_value(), crash == 1);
    if (reason) {
      EXPECT_NE(reason->find("batch r/0/hcp/dedup/0/2 (entity hcp; 2 records, dedup/0/k3 to "
                             "dedup/0/k4): killed by signal 11 (SIGSEGV)"),
                std::string::npos)
          << *reason;
    }
  }
  // A batch finished is no longer the one a crash is blamed on.
  watch.Started("validator-0", Started("dedup/0", 3, 0, 0));
  v1::Commit done = Extracted(0, 0);
  *done.mutable_batch() = Started("dedup/0", 3, 0, 0).batch();
  watch.Committed("validator-0", done);
  EXPECT_FALSE(watch.Died("validator-0", "validator", kSegv));
  watch.Started("validator-0", Started("dedup/0", 3, 0, 0));
  EXPECT_FALSE(watch.Died("validator-0", "validator", kSegv)) << "counted once: it committed";
}

}  // namespace
}  // namespace sluice::coordination
