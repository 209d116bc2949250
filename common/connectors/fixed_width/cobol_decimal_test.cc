#include "common/connectors/fixed_width/cobol_decimal.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

using namespace std::literals;

std::string Packed(std::string_view bytes, int scale) {
  std::string out;
  std::string reason = DecodePacked(bytes, scale, &out);
  return reason.empty() ? out : reason;
}

std::string Zoned(std::string_view text, int scale) {
  std::string out;
  std::string reason = DecodeZoned(text, scale, &out);
  return reason.empty() ? out : reason;
}

TEST(CobolDecimalTest, PackedDigitsSignAndScale) {
  EXPECT_EQ(Packed("\x12\x34\x5C", 2), "123.45");
  EXPECT_EQ(Packed("\x12\x34\x5D", 2), "-123.45");
  EXPECT_EQ(Packed("\x00\x12\x3F"sv, 0), "123");  // F: unsigned
  EXPECT_EQ(Packed("\x00\x00\x5B"sv, 3), "-0.005");
  EXPECT_EQ(Packed("\x00\x0D"sv, 0), "0");  // -0 is 0
  EXPECT_EQ(Packed("\x00\x0C"sv, 2), "0.00");
  EXPECT_EQ(Packed("\x9C", 1), "0.9");
  EXPECT_EQ(Packed("\x99\x99\x99\x99\x9C", 2), "9999999.99");
}

TEST(CobolDecimalTest, PackedRejectsWhatIsNotPacked) {
  EXPECT_EQ(Packed("\x12\x3A\x4C", 0), "not packed decimal: bytes 12 3A 4C");  // digit A
  EXPECT_EQ(Packed("\x12\x34", 0), "not packed decimal: bytes 12 34");         // no sign
  EXPECT_EQ(Packed("\x40\x40\x40", 0), "not packed decimal: bytes 40 40 40");
  EXPECT_EQ(Packed("", 0), "not packed decimal: bytes ");
}

TEST(CobolDecimalTest, ZonedOverpunchedSign) {
  EXPECT_EQ(Zoned("12345", 2), "123.45");
  EXPECT_EQ(Zoned("1234E", 2), "123.45");   // +5
  EXPECT_EQ(Zoned("1234N", 2), "-123.45");  // -5
  EXPECT_EQ(Zoned("0000{", 0), "0");
  EXPECT_EQ(Zoned("0001}", 1), "-1.0");
  EXPECT_EQ(Zoned("0012u", 0), "-125");  // ASCII COBOL: 'u' is -5
  EXPECT_EQ(Zoned("", 0), "");
  EXPECT_EQ(Zoned("12 45", 0), "not zoned decimal: '12 45'");
  EXPECT_EQ(Zoned("A2345", 0), "not zoned decimal: 'A2345'");
}

}  // namespace
}  // namespace sluice
