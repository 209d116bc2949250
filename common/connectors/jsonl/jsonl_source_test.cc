#include "common/connectors/jsonl/jsonl_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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
  EXPECT_FALSE(Open("id", "cp037").ok());  // EBCDIC lines do not end with 0x0A
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

}  // namespace
}  // namespace sluice
