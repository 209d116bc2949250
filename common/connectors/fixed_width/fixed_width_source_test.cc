#include "common/connectors/fixed_width/fixed_width_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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
