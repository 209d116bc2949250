#include "common/connectors/fixed_width/fixed_width_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "common/connectors/fixed_width/fixed_width_layout.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class FixedWidthSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() /
             ("sluice_fw_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".dat"))
                .string();
  }
  void TearDown() override { fs::remove(path_); }

  Result<std::unique_ptr<Source>> Open(const std::string& bytes,
                                       std::map<std::string, std::string> options) {
    std::ofstream(path_, std::ios::binary) << bytes;
    SourceSpec spec;
    spec.name = "mainframe";
    spec.kind = "fixed_width";
    spec.path = path_;
    spec.yaml_path = "sources.mainframe";
    spec.options = std::move(options);
    if (!spec.options.count("key")) spec.options["key"] = "id";
    if (!spec.options.count("layout")) spec.options["layout"] = "id 1 4\nname 5 8\ncity 13 6\n";
    return OpenFixedWidthSource(spec);
  }

  std::string path_;
};

std::vector<std::string> Row(const Record& r) {
  std::vector<std::string> out;
  for (const auto& v : r.values) out.push_back(v.s);
  return out;
}

TEST(FixedWidthLayoutTest, StartLengthOrWidths) {
  auto a = FixedWidthLayout::Parse("# name start length\nid 1 4\nname 5 8  # padded\n\ncity 13 6");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->columns.size(), 3u);
  EXPECT_EQ(a->columns[2].start, 12u);
  EXPECT_EQ(a->width, 18u);
  auto b = FixedWidthLayout::Parse("id 4\nname 8\ncity 6");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->columns[2].start, 12u);
  EXPECT_EQ(b->width, 18u);
  EXPECT_EQ(FixedWidthLayout::Parse("id 1 4\nname 3 8").status().message(),
            "layout line 2: column 'name' overlaps 'id'");
  EXPECT_EQ(FixedWidthLayout::Parse("id 1 4\nid 8").status().message(),
            "layout line 2: duplicate column 'id'");
  EXPECT_FALSE(FixedWidthLayout::Parse("id one 4").ok());
  EXPECT_FALSE(FixedWidthLayout::Parse("").ok());
}

TEST_F(FixedWidthSourceTest, CutsTrimsAndRejectsShortLines) {
  auto src =
      Open("0001Dupont  Lyon  \r\n0002Martin  Paris \n\n0003Short\n    Nobody  Nice  \n", {});
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  RecordBatch b;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*(*src)->Next(100, &b, &rejects));
  ASSERT_EQ(b.records.size(), 2u);
  EXPECT_EQ(Row(b.records[0]), (std::vector<std::string>{"0001", "Dupont", "Lyon"}));
  EXPECT_EQ(b.records[1].key, "0002");
  EXPECT_EQ(b.records[1].line, 2u);
  ASSERT_EQ(rejects.size(), 2u);
  EXPECT_EQ(rejects[0].line(), 4u);
  EXPECT_EQ(rejects[0].reason(), "line too short: 9 characters, the layout needs 18");
  EXPECT_EQ(rejects[1].rule(), "missing_key");
  EXPECT_EQ(rejects[1].line(), 5u);
  EXPECT_FALSE(*(*src)->Next(100, &b, &rejects));
}

TEST_F(FixedWidthSourceTest, PadsShortLinesAndTrimsAsAsked) {
  auto src = Open("0003Short\n", {{"short_lines", "pad"}, {"trim", "none"}});
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  RecordBatch b;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*(*src)->Next(100, &b, &rejects));
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(Row(b.records[0]), (std::vector<std::string>{"0003", "Short", ""}));
}

TEST_F(FixedWidthSourceTest, RecordTypeSelectsTheLines) {
  auto src = Open("H20261206 header      \nD0001Dupont  \nT2         \nD0002Martin  \n",
                  {{"layout", "type 1\nid 4\nname 8"}, {"record_type", "type=D"}});
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  RecordBatch b;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*(*src)->Next(100, &b, &rejects));
  EXPECT_TRUE(rejects.empty());
  ASSERT_EQ(b.records.size(), 2u);
  EXPECT_EQ(Row(b.records[1]), (std::vector<std::string>{"D", "0002", "Martin"}));
  EXPECT_EQ(b.records[1].line, 4u);
}

TEST_F(FixedWidthSourceTest, Windows1252PositionsCountCharacters) {
  // "Hélène" is 6 bytes in windows-1252 and 8 in UTF-8: the city still
  // starts at character 13. 0x81 has no character in windows-1252.
  auto src =
      Open("0001H\xE9l\xE8ne  Lyon  \n0002Caf\x81    Paris \n", {{"encoding", "windows-1252"}});
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  RecordBatch b;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*(*src)->Next(100, &b, &rejects));
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(Row(b.records[0]), (std::vector<std::string>{"0001", "H\xC3\xA9l\xC3\xA8ne", "Lyon"}));
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].line(), 2u);
  EXPECT_EQ(rejects[0].rule(), "invalid_utf8");
  EXPECT_EQ(rejects[0].reason(), "cannot convert byte 0x81 from windows-1252 at byte 26");
  EXPECT_EQ(rejects[0].value(), "0002Caf\xEF\xBF\xBD    Paris ");
}

TEST_F(FixedWidthSourceTest, SeekRereadsABatch) {
  auto src = Open("0001A       X     \n0002B       Y     \n0003C       Z     \n", {});
  ASSERT_TRUE(src.ok());
  RecordBatch first, second, again;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*(*src)->Next(1, &first, &rejects));
  ASSERT_TRUE(*(*src)->Next(2, &second, &rejects));
  ASSERT_TRUE((*src)->Seek(second.range).ok());
  ASSERT_TRUE(*(*src)->Next(2, &again, &rejects));
  ASSERT_EQ(again.records.size(), 2u);
  EXPECT_EQ(again.records[0].key, "0002");
  EXPECT_EQ(again.records[0].line, 2u);
  EXPECT_EQ(again.range.end_offset(), second.range.end_offset());
  // A stream leased again knows only the offset (first_line 0): the line
  // of the offset is counted.
  v1::BatchRange offset_only;
  offset_only.set_begin_offset(second.range.begin_offset());
  ASSERT_TRUE((*src)->Seek(offset_only).ok());
  RecordBatch counted;
  ASSERT_TRUE(*(*src)->Next(2, &counted, &rejects));
  ASSERT_EQ(counted.records.size(), 2u);
  EXPECT_EQ(counted.records[0].line, 2u);
  EXPECT_EQ(counted.records[1].line, 3u);
  v1::BatchRange middle;
  middle.set_begin_offset(3);
  EXPECT_FALSE((*src)->Seek(middle).ok());
}

// `text` in EBCDIC cp037 (digits, letters, space, 'é', '{', '}').
std::string Ebcdic(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    unsigned char e = 0x40;
    if (c >= '0' && c <= '9') e = 0xF0 + (c - '0');
    if (c >= 'A' && c <= 'I') e = 0xC1 + (c - 'A');
    if (c >= 'J' && c <= 'R') e = 0xD1 + (c - 'J');
    if (c >= 'S' && c <= 'Z') e = 0xE2 + (c - 'S');
    if (c >= 'a' && c <= 'i') e = 0x81 + (c - 'a');
    if (c >= 'j' && c <= 'r') e = 0x91 + (c - 'j');
    if (c >= 's' && c <= 'z') e = 0xA2 + (c - 's');
    if (c == '{') e = 0xC0;
    if (c == '}') e = 0xD0;
    if (text.substr(i, 2) == "\xC3\xA9") e = 0x51, ++i;  // é
    out.push_back(static_cast<char>(e));
  }
  return out;
}

// A mainframe record: type(1) id(4) name(10) balance(4, packed, 2 decimals)
// count(3, zoned), padded to 24 bytes; no line ends.
std::string HostRecord(std::string_view head, std::string_view packed, std::string_view zoned) {
  return Ebcdic(head) + std::string(packed) + Ebcdic(zoned) + Ebcdic("  ");
}

const std::map<std::string, std::string> kHostOptions = {
    {"encoding", "cp037"},
    {"record_length", "24"},
    {"record_type", "type=D"},
    {"layout", "type 1\nid 4\nname 10\nbalance 4 packed:2\ncount 3 zoned"}};

TEST_F(FixedWidthSourceTest, MainframeRecordsWithPackedAndZonedFields) {
  using namespace std::literals;
  std::string file = HostRecord("H0000HEADER    ", "\x00\x00\x00\x0C"sv, "000") +
                     HostRecord("D0001Jos\xC3\xA9      ", "\x00\x12\x34\x5C"sv, "00C") +
                     HostRecord("D0002Zoe       ", "\x00\x00\x98\x7D"sv, "01J") +
                     HostRecord("D0003Bad       ", "\x00\x12\x3A\x4C"sv, "001") +  // digit A
                     HostRecord("D0004Sign      ", "\x00\x00\x00\x1C"sv, "0X1") +
                     std::string(24, '\x40') +  // blank padding
                     Ebcdic("D0005Short");      // cut short at the end
  auto src = Open(file, kHostOptions);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  RecordBatch b;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*(*src)->Next(100, &b, &rejects));
  ASSERT_EQ(b.records.size(), 2u);
  EXPECT_EQ(Row(b.records[0]),
            (std::vector<std::string>{"D", "0001", "Jos\xC3\xA9", "123.45", "3"}));
  EXPECT_EQ(b.records[0].line, 2u);  // the record's number
  EXPECT_EQ(Row(b.records[1]), (std::vector<std::string>{"D", "0002", "Zoe", "-9.87", "-11"}));
  ASSERT_EQ(rejects.size(), 3u);
  EXPECT_EQ(rejects[0].line(), 4u);
  EXPECT_EQ(rejects[0].key(), "line:4");
  EXPECT_EQ(rejects[0].field(), "balance");
  EXPECT_EQ(rejects[0].reason(), "column balance: not packed decimal: bytes 00 12 3A 4C");
  EXPECT_EQ(rejects[0].value(), "D0003Bad       [00 12 3A 4C]001");
  EXPECT_EQ(rejects[1].field(), "count");
  EXPECT_EQ(rejects[1].reason(), "column count: not zoned decimal: '0X1'");
  EXPECT_EQ(rejects[2].line(), 7u);
  EXPECT_EQ(rejects[2].reason(),
            "record too short: 10 bytes at the end of the file, record_length is 24");
  EXPECT_EQ(b.range.end_offset(), file.size());

  // A batch is read again from its offset: records are numbered by offset.
  v1::BatchRange third;
  third.set_begin_offset(2 * 24);
  ASSERT_TRUE((*src)->Seek(third).ok());
  RecordBatch again;
  ASSERT_TRUE(*(*src)->Next(1, &again, &rejects));
  ASSERT_EQ(again.records.size(), 1u);
  EXPECT_EQ(again.records[0].key, "0002");
  EXPECT_EQ(again.records[0].line, 3u);
  third.set_begin_offset(30);
  EXPECT_EQ((*src)->Seek(third).message(),
            "sources.mainframe: offset 30 is not the start of a record of " + path_);
}

TEST_F(FixedWidthSourceTest, UnconvertibleByteInARecordNamesItsColumn) {
  using namespace std::literals;
  std::string file = Ebcdic("D0001Ann") + "\xFF" + Ebcdic("      ") +
                     std::string("\x00\x00\x00\x0C"sv) + Ebcdic("001  ");
  auto src = Open(file, kHostOptions);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  RecordBatch b;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*(*src)->Next(100, &b, &rejects));
  EXPECT_TRUE(b.records.empty());
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].rule(), "invalid_utf8");
  EXPECT_EQ(rejects[0].field(), "name");
  EXPECT_EQ(rejects[0].reason(), "cannot convert byte 0xFF from cp037 at byte 8");
}

TEST_F(FixedWidthSourceTest, RecordLengthSettings) {
  EXPECT_EQ(Open("", {{"layout", "id 4\nbalance 4 packed:2"}}).status().message(),
            "sources.mainframe.record_length: required with a packed column: packed bytes may "
            "look like line ends, so the file must be read as fixed-length records");
  EXPECT_EQ(Open("", {{"record_length", "10"}}).status().message(),
            "sources.mainframe.record_length: 10 bytes is shorter than the layout (18)");
  EXPECT_EQ(Open("", {{"record_length", "x"}}).status().message(),
            "sources.mainframe.record_length: must be a positive number of bytes, got 'x'");
  EXPECT_EQ(FixedWidthLayout::Parse("id 4\nbalance 4 binary").status().message(),
            "layout line 2: unknown format 'binary' (text, zoned[:scale] or packed[:scale])");
  EXPECT_EQ(FixedWidthLayout::Parse("id 4\nbalance 2 packed:4").status().message(),
            "layout line 2: scale 4 is more than the 3 digits of column 'balance'");
  auto layout = FixedWidthLayout::Parse("id 1 4 text\nbalance 5 4 comp-3:2\ncount 3 zoned");
  ASSERT_TRUE(layout.ok()) << layout.status().ToString();
  EXPECT_EQ(layout->columns[1].format, FixedWidthFormat::kPacked);
  EXPECT_EQ(layout->columns[1].scale, 2);
  EXPECT_EQ(layout->columns[2].start, 8u);
  EXPECT_EQ(layout->width, 11u);
}

TEST_F(FixedWidthSourceTest, BadSettingsNameTheirPath) {
  EXPECT_EQ(Open("", {{"key", "zzzz"}}).status().message(),
            "sources.mainframe.key: column 'zzzz' is not in the layout");
  EXPECT_EQ(Open("", {{"key", "ID"}, {"record_type", "nmae=D"}}).status().message(),
            "sources.mainframe.key: column 'ID' is not in the layout (did you mean 'id'?)");
  EXPECT_NE(
      Open("", {{"encoding", "klingon"}}).status().message().find("sources.mainframe.encoding"),
      std::string::npos);
  EXPECT_NE(Open("", {{"record_type", "kind=D"}}).status().message().find("record_type"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice
