#include "common/connectors/text/text_decoder.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

std::string Decoded(std::string_view encoding, std::string_view bytes) {
  auto decoder = TextDecoder::Create(encoding);
  EXPECT_TRUE(decoder.ok()) << decoder.status().ToString();
  std::string out;
  decoder->Decode(bytes, &out);
  return out;
}

TEST(TextDecoderTest, Utf8IsTheIdentity) {
  auto decoder = TextDecoder::Create("UTF8");
  ASSERT_TRUE(decoder.ok());
  EXPECT_TRUE(decoder->is_utf8());
  EXPECT_EQ(Decoded("", "caf\xC3\xA9\xFF"), "caf\xC3\xA9\xFF");
}

TEST(TextDecoderTest, LegacyEncodingsBecomeUtf8) {
  EXPECT_EQ(Decoded("windows-1252", "Ren\xE9 \x80 \x93x\x94"),
            "Ren\xC3\xA9 \xE2\x82\xAC \xE2\x80\x9Cx\xE2\x80\x9D");
  EXPECT_EQ(Decoded("iso-8859-1", "\xE9\xA4"), "\xC3\xA9\xC2\xA4");
  EXPECT_EQ(Decoded("iso-8859-15", "\xE9\xA4"), "\xC3\xA9\xE2\x82\xAC");  // A4 is the euro
  EXPECT_EQ(Decoded("cp850", "\x82\x9C"), "\xC3\xA9\xC2\xA3");            // é £
}

TEST(TextDecoderTest, EbcdicCp037WithItsLineEnds) {
  // "AB1 é" then NL (0x15) and LF (0x25).
  EXPECT_EQ(Decoded("cp037", "\xC1\xC2\xF1\x40\x51\x15\xC1\x25"), "AB1 \xC3\xA9\nA\n");
}

TEST(TextDecoderTest, UnconvertibleBytesAreMarkedAndListed) {
  auto decoder = TextDecoder::Create("windows-1252");
  ASSERT_TRUE(decoder.ok());
  std::string out;
  std::vector<UnconvertibleByte> bad;
  EXPECT_EQ(decoder->Decode("a\xE9\x81z", &out, &bad), 1u);
  EXPECT_EQ(out, "a\xC3\xA9\xFFz");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].in_offset, 2u);
  EXPECT_EQ(bad[0].out_offset, 3u);
  EXPECT_EQ(bad[0].byte, 0x81);
  EXPECT_EQ(decoder->Reason(0x81, 1234), "cannot convert byte 0x81 from windows-1252 at byte 1234");
}

TEST(TextDecoderTest, UnknownAndMultiByteEncodingsAreRefused) {
  auto unknown = TextDecoder::Create("klingon-1");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown encoding 'klingon-1'"), std::string::npos);
  auto sjis = TextDecoder::Create("shift_jis");
  ASSERT_FALSE(sjis.ok());
  EXPECT_NE(sjis.status().message().find("not a single-byte encoding"), std::string::npos);
}

}  // namespace
}  // namespace sluice
