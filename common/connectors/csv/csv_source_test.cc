#include "common/connectors/csv/csv_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/core/limits.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class CsvSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_csv_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  SourceSpec Spec(const std::string& content, std::map<std::string, std::string> options = {}) {
    std::string path = (dir_ / "in.csv").string();
    std::ofstream(path, std::ios::binary) << content;
    SourceSpec spec;
    spec.name = "crm";
    spec.kind = "csv";
    spec.path = path;
    spec.yaml_path = "sources.crm";
    spec.options = std::move(options);
    if (!spec.options.count("key")) spec.options["key"] = "id";
    return spec;
  }

  // Reads everything in one go.
  void ReadAll(const SourceSpec& spec, std::vector<Record>* records, std::vector<v1::Fate>* rejects,
               size_t batch = 1000) {
    auto src = OpenCsvSource(spec);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    RecordBatch b;
    while (true) {
      auto more = (*src)->Next(batch, &b, rejects);
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      if (!*more) break;
      for (auto& r : b.records) records->push_back(r);
    }
  }

  fs::path dir_;
};

std::vector<std::string> Strings(const Record& r) {
  std::vector<std::string> out;
  for (const auto& v : r.values) out.push_back(v.is_null ? "<null>" : v.s);
  return out;
}

TEST_F(CsvSourceTest, QuotingEmbeddedDelimiterNewlineAndDoubledQuotes) {
  std::vector<Record> recs;
  std::vector<v1::Fate> rej;
  ReadAll(Spec("id,name,note\n1,\"Smith, John\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",\n3,x,y\n"),
          &recs, &rej);
  ASSERT_TRUE(rej.empty()) << rej[0].reason();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(Strings(recs[0]), (std::vector<std::string>{"1", "Smith, John", "say \"hi\""}));
  EXPECT_EQ(Strings(recs[1]), (std::vector<std::string>{"2", "two\nlines", ""}));
  EXPECT_FALSE(recs[1].values[2].is_null);  // empty field is "", not NULL
  EXPECT_EQ(recs[0].source, "crm");
  EXPECT_EQ(recs[0].key, "1");
  // Line numbers follow physical lines, multi-line fields included.
  EXPECT_EQ(recs[0].line, 2u);
  EXPECT_EQ(recs[1].line, 3u);
  EXPECT_EQ(recs[2].line, 5u);
  auto src = OpenCsvSource(Spec("id,name,note\n1,a,b\n"));
  ASSERT_TRUE(src.ok());
  ASSERT_EQ((*src)->schema().fields.size(), 3u);
  EXPECT_EQ((*src)->schema().fields[1].name, "name");
  EXPECT_EQ(recs[2].content_hash, ContentHash((*src)->schema(), recs[2].values));
}

TEST_F(CsvSourceTest, SemicolonTabBomCrlfAndBlankLines) {
  std::vector<Record> recs;
  std::vector<v1::Fate> rej;
  ReadAll(Spec("\xEF\xBB\xBFid;name\r\n1;\"a;b\"\r\n\r\n2;c\r\n", {{"delimiter", ";"}}), &recs,
          &rej);
  ASSERT_TRUE(rej.empty()) << rej[0].DebugString();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(Strings(recs[0]), (std::vector<std::string>{"1", "a;b"}));
  EXPECT_EQ(Strings(recs[1]), (std::vector<std::string>{"2", "c"}));
  EXPECT_EQ(recs[1].line, 4u);

  recs.clear();
  ReadAll(Spec("id\tname\n1\tx,y\n", {{"delimiter", "tab"}}), &recs, &rej);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].values[1].s, "x,y");
}

TEST_F(CsvSourceTest, HeaderOff) {
  std::vector<Record> recs;
  std::vector<v1::Fate> rej;
  auto spec = Spec("1,a\n2,b", {{"header", "false"}, {"key", "c1"}});
  auto src = OpenCsvSource(spec);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->schema().fields[0].name, "c1");
  EXPECT_EQ((*src)->schema().fields[1].name, "c2");
  ReadAll(spec, &recs, &rej);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].line, 1u);
  EXPECT_EQ(recs[1].key, "2");
  EXPECT_EQ(recs[1].values[1].s, "b");
}

TEST_F(CsvSourceTest, WrongColumnCountIsRejectedWithLineAndKey) {
  std::vector<Record> recs;
  std::vector<v1::Fate> rej;
  ReadAll(Spec("id,a,b\n1,x,y\n2,x\n3,x,y,z\n4,x,y\n"), &recs, &rej);
  ASSERT_EQ(recs.size(), 2u);
  ASSERT_EQ(rej.size(), 2u);
  EXPECT_EQ(rej[0].kind(), v1::FATE_REJECTED);
  EXPECT_EQ(rej[0].source(), "crm");
  EXPECT_EQ(rej[0].key(), "2");
  EXPECT_EQ(rej[0].stage(), "extract");
  EXPECT_EQ(rej[0].rule(), "malformed_row");
  EXPECT_EQ(rej[0].reason(), "wrong column count: expected 3, found 2");
  EXPECT_EQ(rej[0].line(), 3u);
  EXPECT_EQ(rej[0].value(), "2,x");
  EXPECT_EQ(rej[1].reason(), "wrong column count: expected 3, found 4");
  EXPECT_EQ(rej[1].line(), 4u);
}

TEST_F(CsvSourceTest, InvalidUtf8IsRejectedWithSanitizedValue) {
  std::vector<Record> recs;
  std::vector<v1::Fate> rej;
  ReadAll(Spec("id,name\n1,caf\xC3\xA9\n2,bad\xFF\n3,ok\n"), &recs, &rej);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].values[1].s, "caf\xC3\xA9");
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].key(), "2");
  EXPECT_EQ(rej[0].field(), "name");
  // "id,name\n1,café\n" is 16 bytes; the bad byte is 5 bytes into row 2.
  EXPECT_EQ(rej[0].reason(), "invalid utf-8 at byte 21");
  EXPECT_EQ(rej[0].value(), "2,bad\xEF\xBF\xBD");
  EXPECT_EQ(rej[0].line(), 3u);
}

TEST_F(CsvSourceTest, LegacyEncodingIsConvertedAndItsHolesRejected) {
  std::vector<Record> recs;
  std::vector<v1::Fate> rej;
  ReadAll(Spec("id,name\n1,Ren\xE9\n2,bad\x81\n", {{"encoding", "windows-1252"}}), &recs, &rej);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].values[1].s, "Ren\xC3\xA9");
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].line(), 3u);
  EXPECT_EQ(rej[0].field(), "name");
  // The offset is the byte's in the file: "id,name\n1,Ren\xE9\n2,bad" is 20 bytes.
  EXPECT_EQ(rej[0].reason(), "cannot convert byte 0x81 from windows-1252 at byte 20");
}

// A windows-1252 file of 3.6 MB read a 1 MiB window at a time: rows with
// quoted line breaks straddle the windows, a 1.8 MB row is longer than one,
// and an unconvertible byte deep in the file is a rejection with its file
// offset. The same text in UTF-8 (read mapped, whole) is the reference.
TEST_F(CsvSourceTest, LegacyEncodingIsConvertedAWindowAtATime) {
  std::string cp1252 = "id,name,note\n", utf8 = cp1252;
  uint64_t bad_offset = 0;
  for (int i = 1; i <= 60000; ++i) {
    std::string row = std::to_string(i) + ",Ren\xE9 " + std::to_string(i) + ",";
    if (i == 30000) row.insert(row.size() - 1, std::string(900000, 'x'));
    if (i == 30000) row += std::string(900000, 'y');
    if (i % 7 == 0) row += "\"first line\nsecond, \xE9\"";
    if (i == 40000) {
      bad_offset = cp1252.size() + row.size();
      row += "\x81";
    }
    row += "\n";
    cp1252 += row;
    for (char c : row) utf8 += c == '\xE9' ? std::string("\xC3\xA9") : std::string(1, c);
  }
  std::vector<Record> want, got;
  std::vector<v1::Fate> want_rej, got_rej;
  ReadAll(Spec(utf8), &want, &want_rej);
  ReadAll(Spec(cp1252, {{"encoding", "windows-1252"}}), &got, &got_rej);
  ASSERT_EQ(got.size(), 59999u);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].line, want[i].line) << i;
    ASSERT_EQ(Strings(got[i]), Strings(want[i])) << i;
  }
  EXPECT_EQ(got[29999].values[2].s.size(), 900000u);  // a row longer than the window
  ASSERT_EQ(got_rej.size(), 1u);
  EXPECT_EQ(got_rej[0].line(), want_rej[0].line());
  EXPECT_EQ(got_rej[0].key(), "40000");
  EXPECT_EQ(got_rej[0].field(), "note");
  EXPECT_EQ(got_rej[0].reason(),
            "cannot convert byte 0x81 from windows-1252 at byte " + std::to_string(bad_offset));

  // Batch ranges are file offsets: a batch read again, from its range or
  // from its offset alone, gives the same records.
  auto src = OpenCsvSource(Spec(cp1252, {{"encoding", "windows-1252"}}));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  std::vector<RecordBatch> batches;
  std::vector<v1::Fate> rej;
  for (RecordBatch b; *(*src)->Next(5000, &b, &rej);) batches.push_back(b);
  ASSERT_EQ(batches.size(), 12u);
  EXPECT_EQ(batches.back().range.end_offset(), cp1252.size());
  for (size_t i : {0, 5, 7, 11}) {
    v1::BatchRange range = batches[i].range;
    for (bool count_line : {false, true}) {
      if (count_line) range.set_first_line(0);
      ASSERT_TRUE((*src)->Seek(range).ok()) << i;
      RecordBatch again;
      ASSERT_TRUE(*(*src)->Next(5000, &again, &rej));
      ASSERT_EQ(again.records.size(), batches[i].records.size()) << i;
      EXPECT_EQ(again.records.front().line, batches[i].records.front().line) << i;
      EXPECT_EQ(again.records.back().key, batches[i].records.back().key) << i;
      EXPECT_EQ(again.range.end_offset(), batches[i].range.end_offset()) << i;
    }
  }
}

// Resident memory of this process, in KiB.
long ResidentKiB() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST_F(CsvSourceTest, LegacyEncodingMemoryDoesNotGrowWithTheFile) {
  std::string row = "12345678,Ren\xE9 Dupr\xE9,\"Orl\xE9\nans\",some notes about the doctor\n";
  std::string text = "id,name,city,note\n";
  while (text.size() < (48u << 20)) text += row;
  SourceSpec spec = Spec(text, {{"encoding", "windows-1252"}, {"key", "name"}});
  text = std::string();
  const long before = ResidentKiB();
  auto src = OpenCsvSource(spec);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  RecordBatch b;
  std::vector<v1::Fate> rej;
  size_t rows = 0;
  long peak = before;
  while (*(*src)->Next(5000, &b, &rej)) {
    rows += b.records.size();
    peak = std::max(peak, ResidentKiB());
  }
  EXPECT_GT(rows, 700000u);
  EXPECT_TRUE(rej.empty());
  // The file is 48 MiB; the window 1 MiB and a batch about 1 MiB.
  EXPECT_LT(peak - before, 16 * 1024) << "KiB before " << before << ", peak " << peak;
}

TEST_F(CsvSourceTest, UnterminatedQuoteRejectsOnlyItsLine) {
  std::vector<Record> recs;
  std::vector<v1::Fate> rej;
  ReadAll(Spec("id,name\n1,a\n2,\"open\n3,b\n4,c\n"), &recs, &rej);
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].reason(), "unterminated quoted field");
  EXPECT_EQ(rej[0].line(), 3u);
  EXPECT_EQ(rej[0].key(), "2");
  EXPECT_EQ(rej[0].value(), "2,\"open");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1].key, "3");
  EXPECT_EQ(recs[1].line, 4u);
  EXPECT_EQ(recs[2].key, "4");
}

TEST_F(CsvSourceTest, UnbalancedQuoteSwallowingRowsIsUndone) {
  // The quote opened on line 3 closes on line 4: the scanned "row" spans
  // two lines and is malformed, so only line 3 is rejected.
  std::vector<Record> recs;
  std::vector<v1::Fate> rej;
  ReadAll(Spec("id,name\n1,a\n2,\"open\n3,\"b\"\n4,c\n"), &recs, &rej);
  ASSERT_EQ(rej.size(), 1u) << rej[1].reason();
  EXPECT_EQ(rej[0].line(), 3u);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(Strings(recs[1]), (std::vector<std::string>{"3", "b"}));
  EXPECT_EQ(recs[2].line, 5u);
}

TEST_F(CsvSourceTest, StrayQuotesAreRejected) {
  std::vector<Record> recs;
  std::vector<v1::Fate> rej;
  ReadAll(Spec("id,name\n1,O\"Brien\n2,\"x\"y\n3,ok\n"), &recs, &rej);
  ASSERT_EQ(rej.size(), 2u);
  EXPECT_EQ(rej[0].reason(), "quote inside an unquoted field");
  EXPECT_EQ(rej[0].key(), "1");
  EXPECT_EQ(rej[1].reason(), "unexpected text after a closing quote");
  EXPECT_EQ(rej[1].line(), 3u);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].key, "3");
}

TEST_F(CsvSourceTest, MissingKeyIsRejected) {
  std::vector<Record> recs;
  std::vector<v1::Fate> rej;
  ReadAll(Spec("name,id\nx,\ny,7\n"), &recs, &rej);
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].reason(), "missing key");
  EXPECT_EQ(rej[0].key(), "line:2");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].key, "7");
}

TEST_F(CsvSourceTest, OpenErrors) {
  auto empty = OpenCsvSource(Spec(""));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("in.csv: empty file: no header row"), std::string::npos);

  auto bom_only = OpenCsvSource(Spec("\xEF\xBB\xBF"));
  ASSERT_FALSE(bom_only.ok());
  EXPECT_NE(bom_only.status().message().find("empty file"), std::string::npos);

  SourceSpec missing = Spec("id\n1\n");
  missing.path = (dir_ / "nope.csv").string();
  auto nf = OpenCsvSource(missing);
  ASSERT_FALSE(nf.ok());
  EXPECT_EQ(nf.status().code(), StatusCode::kNotFound);
  EXPECT_NE(nf.status().message().find("nope.csv"), std::string::npos);

  auto no_key = OpenCsvSource(Spec("a,b\n1,2\n"));
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_key.status().message().find("sources.crm.key"), std::string::npos);

  EXPECT_FALSE(OpenCsvSource(Spec("id,id\n1,2\n")).ok());
  EXPECT_FALSE(OpenCsvSource(Spec("id,\n1,2\n")).ok());
  auto enc = OpenCsvSource(Spec("id\n1\n", {{"encoding", "klingon-1"}}));
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.status().message().find("sources.crm.encoding"), std::string::npos);
  EXPECT_FALSE(OpenCsvSource(Spec("id\n1\n", {{"delimiter", ";;"}})).ok());
}

TEST_F(CsvSourceTest, SeekReproducesEveryBatch) {
  std::string content = "id,name,note\n";
  for (int i = 1; i <= 50; ++i) {
    content += std::to_string(i);
    if (i % 7 == 0) {
      content += ",\"multi\nline " + std::to_string(i) + "\",x\n";
    } else if (i % 11 == 0) {
      content += ",short\n";  // rejected
    } else if (i % 13 == 0) {
      content += "\n\n";  // rejected, then blank lines
    } else {
      content += ",\"n, " + std::to_string(i) + "\",\"q\"\"\"\r\n";
    }
  }
  SourceSpec spec = Spec(content);
  auto src = OpenCsvSource(spec);
  ASSERT_TRUE(src.ok());
  struct Seen {
    v1::BatchRange range;
    std::vector<Record> records;
    std::vector<v1::Fate> rejects;
  };
  std::vector<Seen> batches;
  size_t total = 0;
  while (true) {
    RecordBatch b;
    std::vector<v1::Fate> rej;
    auto more = (*src)->Next(6, &b, &rej);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    total += b.records.size() + rej.size();
    batches.push_back({b.range, b.records, rej});
  }
  EXPECT_EQ(total, 50u);
  ASSERT_EQ(batches.size(), 9u);
  for (size_t k = 0; k + 1 < batches.size(); ++k) {
    EXPECT_EQ(batches[k].records.size() + batches[k].rejects.size(), 6u);
  }
  // Replay the batches in a different order, from a fresh reader.
  auto again = OpenCsvSource(spec);
  ASSERT_TRUE(again.ok());
  for (size_t k = batches.size(); k-- > 0;) {
    const Seen& want = batches[k];
    ASSERT_TRUE((*again)->Seek(want.range).ok());
    RecordBatch b;
    std::vector<v1::Fate> rej;
    ASSERT_TRUE(*(*again)->Next(6, &b, &rej));
    EXPECT_EQ(b.range.SerializeAsString(), want.range.SerializeAsString());
    ASSERT_EQ(b.records.size(), want.records.size());
    for (size_t i = 0; i < b.records.size(); ++i) {
      EXPECT_EQ(b.records[i].key, want.records[i].key);
      EXPECT_EQ(b.records[i].line, want.records[i].line);
      EXPECT_EQ(b.records[i].values, want.records[i].values);
      EXPECT_EQ(b.records[i].content_hash, want.records[i].content_hash);
    }
    ASSERT_EQ(rej.size(), want.rejects.size());
    for (size_t i = 0; i < rej.size(); ++i) {
      EXPECT_EQ(rej[i].SerializeAsString(), want.rejects[i].SerializeAsString());
    }
    // A stream leased again after its extractor died knows only the offset
    // (first_line 0): the source counts the line, the same one.
    v1::BatchRange offset_only = want.range;
    offset_only.set_first_line(0);
    ASSERT_TRUE((*again)->Seek(offset_only).ok()) << "batch " << k;
    RecordBatch counted;
    std::vector<v1::Fate> counted_rej;
    ASSERT_TRUE(*(*again)->Next(6, &counted, &counted_rej));
    EXPECT_EQ(counted.range.SerializeAsString(), want.range.SerializeAsString()) << "batch " << k;
    ASSERT_EQ(counted_rej.size(), want.rejects.size());
    for (size_t i = 0; i < counted_rej.size(); ++i) {
      EXPECT_EQ(counted_rej[i].SerializeAsString(), want.rejects[i].SerializeAsString());
    }
  }
  // Lines stay right across the multi-line fields and blank lines.
  for (const auto& s : batches) {
    for (const auto& r : s.records) {
      if (r.key == "8") {
        EXPECT_EQ(r.line, 10u);  // 7 spans two lines
      }
    }
  }
}

// Limits (issue 23, docs/limits.md): a field or a row past them is a
// rejection at its line; a header with too many columns is refused.
TEST_F(CsvSourceTest, LongFieldsAndRowsAreRejectedAtTheirLine) {
  const std::string big(limits::kMaxFieldBytes + 1, 'x');
  std::vector<Record> records;
  std::vector<v1::Fate> rejects;
  // Rows of the right shape only: a wrong column count is reported first.
  ReadAll(Spec("id,a\nk1,ok\nk2," + big + "\nk4,\"" + big + "\"\nk5,fine\n"), &records, &rejects);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].key, "k5");
  ASSERT_EQ(rejects.size(), 2u);
  EXPECT_EQ(rejects[0].line(), 3u);
  EXPECT_EQ(rejects[0].key(), "k2");
  EXPECT_EQ(rejects[0].field(), "a");
  EXPECT_EQ(rejects[0].reason(), "field longer than 1048576 bytes");
  EXPECT_LE(rejects[0].value().size(), 200u);
  EXPECT_EQ(rejects[1].key(), "k4");

  std::string header = "id";
  std::string row = "k3";
  for (int i = 0; i < 33; ++i) {  // 33 fields of 512 KiB: past 16 MiB
    header += ",c" + std::to_string(i);
    row += "," + std::string(1 << 19, 'y');
  }
  records.clear();
  rejects.clear();
  ReadAll(Spec(header + "\nk1" + std::string(33, ',') + "\n" + row + "\n"), &records, &rejects);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].reason(), "row longer than 16777216 bytes");
}

TEST_F(CsvSourceTest, ColumnsAreLimited) {
  std::string header = "id";
  for (size_t i = 0; i < limits::kMaxColumns; ++i) header += ",c" + std::to_string(i);
  auto src = OpenCsvSource(Spec(header + "\n"));
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find("line 1: 4097 columns (at most 4096)"), std::string::npos)
      << src.status().message();

  // A data row with a million delimiters holds no million fields.
  std::vector<Record> records;
  std::vector<v1::Fate> rejects;
  ReadAll(Spec("id,a\nk1," + std::string(1000000, ',') + "\nk2,b\n"), &records, &rejects);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].reason(), "wrong column count: expected 2, found 1000002");
}

}  // namespace
}  // namespace sluice
