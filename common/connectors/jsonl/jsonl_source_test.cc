#include "common/connectors/jsonl/jsonl_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/core/limits.h"
#include "common/core/utf8.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class JsonlSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() /
             ("sluice_jsonl_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".jsonl"))
                .string();
  }
  void TearDown() override { fs::remove(path_); }

  void Write(const std::string& text) { std::ofstream(path_, std::ios::binary) << text; }

  Result<std::unique_ptr<Source>> Open(const std::string& key = "id",
                                       const std::string& encoding = "") {
    SourceSpec spec;
    spec.name = "eu";
    spec.kind = "jsonl";
    spec.path = path_;
    spec.yaml_path = "sources.eu";
    spec.options["key"] = key;
    if (!encoding.empty()) spec.options["encoding"] = encoding;
    return OpenJsonlSource(spec);
  }

  std::string path_;
};

// The text of column `name` of record `r`, "NULL" for NULL.
std::string Cell(const RecordBatch& b, size_t r, const std::string& name) {
  const int c = b.schema.IndexOf(name);
  if (c < 0) return "<no column " + name + ">";
  const Value& v = b.records[r].values[c];
  return v.is_null ? "NULL" : v.s;
}

TEST_F(JsonlSourceTest, LegacyEncodingIsConvertedAndItsHolesRejected) {
  Write("{\"id\": \"E1\", \"name\": \"Ren\xE9\"}\n{\"id\": \"E2\", \"name\": \"x\x81\"}\n");
  auto src = Open("id", "windows-1252");
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  RecordBatch b;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*(*src)->Next(10, &b, &rejects));
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(Cell(b, 0, "name"), "Ren\xC3\xA9");
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].line(), 2u);
  // The first line is 29 bytes with its newline; the byte is 23 bytes in.
  EXPECT_EQ(rejects[0].reason(), "cannot convert byte 0x81 from windows-1252 at byte 52");
  // EBCDIC (lines ending with NL 0x15): tests/data/sources/jsonl_cp037.yaml.
}

TEST_F(JsonlSourceTest, NestedFieldsBecomePathColumns) {
  Write(
      R"({"id": "E1", "name": "Martin, Claire", "address": {"city": "Lyon", "geo": {"lat": 45.7}}, "tags": ["a", "b"], "active": true}
{"id": "E2", "address": {"city": null}, "visits": 3}

{"id": "E3", "name": "Rossi, Marco"}
)");
  auto src = Open();
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  std::vector<std::string> names;
  for (const auto& f : (*src)->schema().fields) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"active", "address.city", "address.geo.lat", "id",
                                             "name", "tags", "visits"}));
  RecordBatch b;
  std::vector<v1::Fate> rejects;
  auto more = (*src)->Next(10, &b, &rejects);
  ASSERT_TRUE(more.ok() && *more);
  ASSERT_EQ(b.records.size(), 3u);
  EXPECT_TRUE(rejects.empty());
  EXPECT_EQ(b.records[0].key, "E1");
  EXPECT_EQ(Cell(b, 0, "address.city"), "Lyon");
  EXPECT_EQ(Cell(b, 0, "address.geo.lat"), "45.7");
  EXPECT_EQ(Cell(b, 0, "tags"), R"(["a","b"])");
  EXPECT_EQ(Cell(b, 0, "active"), "true");
  EXPECT_EQ(Cell(b, 1, "address.city"), "NULL");
  EXPECT_EQ(Cell(b, 1, "visits"), "3");
  EXPECT_EQ(Cell(b, 1, "name"), "NULL");
  EXPECT_EQ(b.records[2].line, 4u);  // the blank line counts
}

TEST_F(JsonlSourceTest, BadLinesAreRejectedWithTheirLine) {
  Write("{\"id\": \"E1\"}\n{\"id\": \"E2\", \"name\": \"Bro\n[1, 2]\n{\"name\": \"no key\"}\n");
  auto src = Open();
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  RecordBatch b;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*(*src)->Next(10, &b, &rejects));
  ASSERT_EQ(b.records.size(), 1u);
  ASSERT_EQ(rejects.size(), 3u);
  EXPECT_EQ(rejects[0].line(), 2u);
  EXPECT_EQ(rejects[0].key(), "line:2");
  EXPECT_NE(rejects[0].reason().find("invalid JSON"), std::string::npos) << rejects[0].reason();
  EXPECT_EQ(rejects[1].reason(), "not a JSON object");
  EXPECT_EQ(rejects[2].reason(), "missing key");
  EXPECT_EQ(rejects[2].field(), "id");
}

TEST_F(JsonlSourceTest, SeekReadsTheSameBatchAgain) {
  std::string text;
  for (int i = 0; i < 10; ++i) {
    text += "{\"id\": \"E" + std::to_string(i) + "\", \"n\": " + std::to_string(i) + "}\n";
  }
  Write(text);
  auto src = Open();
  ASSERT_TRUE(src.ok());
  std::vector<RecordBatch> batches;
  while (true) {
    RecordBatch b;
    std::vector<v1::Fate> rejects;
    auto more = (*src)->Next(4, &b, &rejects);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    batches.push_back(std::move(b));
  }
  ASSERT_EQ(batches.size(), 3u);
  // Resume from an offset alone (the line is recounted).
  v1::BatchRange range = batches[1].range;
  range.set_first_line(0);
  ASSERT_TRUE((*src)->Seek(range).ok());
  RecordBatch again;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*(*src)->Next(4, &again, &rejects));
  ASSERT_EQ(again.records.size(), 4u);
  EXPECT_EQ(again.records[0].key, "E4");
  EXPECT_EQ(again.records[0].line, 5u);
  EXPECT_EQ(again.range.end_offset(), batches[1].range.end_offset());
  EXPECT_EQ(again.range.first_line(), batches[1].range.first_line());
}

TEST_F(JsonlSourceTest, KeyMustAppear) {
  Write("{\"id\": \"E1\"}\n");
  auto src = Open("code");
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find("sources.eu.key: field 'code' appears in no line"),
            std::string::npos)
      << src.status().message();
}

// Hostile lines (issue 23): tests/data/fuzz/, read from the source folder as
// ctest runs the tests.
std::string FuzzCase(const std::string& name) {
  std::ifstream in("tests/data/fuzz/" + name, std::ios::binary);
  EXPECT_TRUE(in) << "tests/data/fuzz/" << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every batch of the source: its records' keys and its rejects.
struct ReadAll {
  std::vector<std::string> keys;
  std::vector<v1::Fate> rejects;
};
ReadAll Drain(Source& src) {
  ReadAll all;
  for (;;) {
    RecordBatch b;
    auto more = src.Next(10, &b, &all.rejects);
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) return all;
    for (const Record& r : b.records) all.keys.push_back(r.key);
  }
}

TEST_F(JsonlSourceTest, DeepNestingIsRejectedAtItsLine) {
  // Both crashed the extractor and `sluice profile` (SIGSEGV: 70,000 nested
  // arrays when the value was printed, 30,000 nested objects when walked).
  for (const char* name : {"jsonl_deep_array.jsonl", "jsonl_deep_object.jsonl"}) {
    Write(FuzzCase(name));
    auto src = Open();
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    ReadAll all = Drain(**src);
    EXPECT_EQ(all.keys, std::vector<std::string>{"E2"}) << name;
    ASSERT_EQ(all.rejects.size(), 1u) << name;
    EXPECT_EQ(all.rejects[0].key(), "line:1");
    EXPECT_EQ(all.rejects[0].reason(), "JSON nested deeper than 64 levels");
  }
}

TEST_F(JsonlSourceTest, AnInvalidByteIsRejectedAndTravelsAsValidUtf8) {
  // One Latin-1 byte halted the run: the raw line went into a protobuf
  // string field, and the coordinator could not parse the commit.
  Write(FuzzCase("jsonl_invalid_utf8.jsonl"));
  auto src = Open();
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ReadAll all = Drain(**src);
  EXPECT_EQ(all.keys, std::vector<std::string>{"E2"});
  ASSERT_EQ(all.rejects.size(), 1u);
  const v1::Fate& f = all.rejects[0];
  EXPECT_EQ(f.rule(), "malformed_row");
  EXPECT_NE(f.reason().find("invalid JSON"), std::string::npos) << f.reason();
  EXPECT_EQ(FindInvalidUtf8(f.reason()), std::string::npos) << f.reason();
  EXPECT_EQ(f.value(), "{\"id\": \"E1\", \"name\": \"Caf\xEF\xBF\xBD\"}");
  v1::Fate back;
  EXPECT_TRUE(back.ParseFromString(f.SerializeAsString()));
}

TEST_F(JsonlSourceTest, LongLinesAndValuesAreRejectedWithoutHoldingThem) {
  const std::string huge(limits::kMaxLineBytes + 10, 'x');
  const std::string big(limits::kMaxFieldBytes + 1, 'y');
  Write("{\"id\": \"E1\"}\n{\"id\": \"E2\", \"n\": \"" + huge + "\"}\n{\"id\": \"E3\", \"n\": \"" +
        big + "\"}\n{\"id\": \"E4\"}\n");
  auto src = Open();
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ReadAll all = Drain(**src);
  EXPECT_EQ(all.keys, (std::vector<std::string>{"E1", "E4"}));
  ASSERT_EQ(all.rejects.size(), 2u);
  EXPECT_EQ(all.rejects[0].line(), 2u);
  EXPECT_EQ(all.rejects[0].reason(), "line longer than 16777216 bytes");
  EXPECT_EQ(all.rejects[1].line(), 3u);
  EXPECT_EQ(all.rejects[1].reason(), "value of 'n' longer than 1048576 bytes");
  EXPECT_LE(all.rejects[0].value().size(), 200u);
}

TEST_F(JsonlSourceTest, WideRowsAreLimited) {
  // One line with 9,000 keys made each record of a 20,000-line file 9,000
  // values wide: `sluice profile` ran for minutes in 6.5 GB. Past 4,096
  // distinct fields the source does not open.
  Write(FuzzCase("jsonl_wide_line.jsonl"));
  auto src = Open();
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find("sources.eu: more than 4096 distinct fields"),
            std::string::npos)
      << src.status().message();

  // Under it, batches hold fewer rows, within limits::kMaxBatchValues.
  std::string text = "{\"id\": \"W\"";
  for (int i = 0; i < 3000; ++i) text += ", \"k" + std::to_string(i) + "\": 1";
  text += "}\n";
  for (int i = 0; i < 3000; ++i) text += "{\"id\": \"E" + std::to_string(i) + "\"}\n";
  Write(text);
  src = Open();
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  RecordBatch b;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*(*src)->Next(4096, &b, &rejects));
  EXPECT_EQ(b.records.size(), limits::kMaxBatchValues / 3001);
}

}  // namespace
}  // namespace sluice
