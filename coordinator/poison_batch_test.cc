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

}  // namespace
}  // namespace sluice::coordination
