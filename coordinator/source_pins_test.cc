#include "coordinator/source_pins.h"

#include <gtest/gtest.h>

namespace sluice::coordination {
namespace {

v1::Commit Extracted(uint64_t sequence, uint64_t size, uint64_t in, uint64_t keys,
                     uint64_t content) {
  v1::Commit c;
  c.set_stage("extract");
  c.mutable_batch()->set_run_id("r");
  c.mutable_batch()->set_entity("hcp");
  c.mutable_batch()->set_source("crm");
  c.mutable_batch()->set_sequence(sequence);
  c.mutable_source_pin()->set_path("crm.csv");
  c.mutable_source_pin()->set_size(size);
  c.mutable_counts()->set_in(in);
  c.mutable_counts()->set_in_checksum(keys);
  c.set_content_checksum(content);
  return c;
}

TEST(SourcePinsTest, TheFirstExtractionPinsTheSourceAndItsBatches) {
  SourcePins pins;
  ASSERT_TRUE(pins.Check(Extracted(0, 1000, 2, 11, 12)).ok());
  ASSERT_TRUE(pins.Check(Extracted(1, 1000, 2, 21, 22)).ok());
  // The same batch again, as it was: fine.
  EXPECT_TRUE(pins.Check(Extracted(1, 1000, 2, 21, 22)).ok());
  v1::Lease lease;
  lease.set_kind(v1::Lease::KIND_EXTRACT_BATCH);
  *lease.mutable_batch() = Extracted(1, 0, 0, 0, 0).batch();
  pins.Fill(&lease);
  EXPECT_EQ(lease.source_pin().size(), 1000u);
  v1::Lease resolve;
  resolve.set_kind(v1::Lease::KIND_RESOLVE);
  *resolve.mutable_batch() = lease.batch();
  pins.Fill(&resolve);
  EXPECT_FALSE(resolve.has_source_pin());
}

TEST(SourcePinsTest, AChangedFileOrABatchThatReadsOtherwiseIsCorruption) {
  SourcePins pins;
  ASSERT_TRUE(pins.Check(Extracted(0, 1000, 2, 11, 12)).ok());
  Status grew = pins.Check(Extracted(1, 1500, 2, 21, 22));
  EXPECT_EQ(grew.code(), StatusCode::kCorruption);
  EXPECT_NE(grew.message().find("source crm changed during the run: it grew from 1000 to 1500"),
            std::string::npos)
      << grew.message();
  Status values = pins.Check(Extracted(0, 1000, 2, 11, 99));
  EXPECT_NE(values.message().find("the same keys with other values"), std::string::npos)
      << values.message();
  Status keys = pins.Check(Extracted(0, 1000, 2, 10, 12));
  EXPECT_NE(keys.message().find("other keys"), std::string::npos) << keys.message();
  Status rows = pins.Check(Extracted(0, 1000, 1, 11, 12));
  EXPECT_NE(rows.message().find("1 row(s) instead of 2"), std::string::npos) << rows.message();
}

}  // namespace
}  // namespace sluice::coordination
