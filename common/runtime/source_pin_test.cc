#include "common/runtime/source_pin.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

v1::SourcePin Pin(uint64_t size, int64_t mtime, uint64_t inode = 7) {
  v1::SourcePin p;
  p.set_path("crm.csv");
  p.set_size(size);
  p.set_mtime_ns(mtime);
  p.set_device(1);
  p.set_inode(inode);
  return p;
}

TEST(SourcePinTest, SaysWhatChanged) {
  EXPECT_EQ(PinChange(Pin(100, 5), Pin(100, 5)), "");
  EXPECT_EQ(PinChange(Pin(100, 5), Pin(40, 6)), "it shrank from 100 to 40 bytes");
  EXPECT_EQ(PinChange(Pin(100, 5), Pin(140, 6)), "it grew from 100 to 140 bytes");
  EXPECT_EQ(PinChange(Pin(100, 5), Pin(100, 6)),
            "it was rewritten (same size, 100 bytes, modification time changed)");
  EXPECT_EQ(PinChange(Pin(100, 5), Pin(100, 5, 8)),
            "another file was put in its place (100 bytes, now 100)");
}

TEST(SourcePinTest, AServerSourceHasNoPinAndAMissingFileIsAnError) {
  SourceSpec server;
  server.name = "pg";
  auto none = PinSource(server);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  SourceSpec gone;
  gone.name = "crm";
  gone.path = "/nonexistent/crm.csv";
  auto missing = PinSource(gone);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("source crm: cannot examine"), std::string::npos);
}

}  // namespace
}  // namespace sluice
