// Issue 18 item 3: file sources read residents by key, filtered as they are
// read (KeyListSource): only the listed keys, every row of the stretch read
// counted, a batch read again the same way after Seek, malformed rows
// passed on only when their key is listed.
#include "extractor/key_list_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sluice {
namespace {

namespace fs = std::filesystem;

class KeyListSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("key_list_source_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Source> Open(const std::string& kind, const std::string& file,
                               const std::vector<std::string>& keys) {
    SourceSpec spec;
    spec.name = "crm";
    spec.kind = kind;
    spec.path = (dir_ / file).string();
    spec.options = {{"key", "id"}};
    spec.yaml_path = "sources.crm";
    auto source = OpenSourceByKeys(spec, keys);
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    return std::move(*source);
  }
  static std::vector<std::string> Keys(const RecordBatch& b) {
    std::vector<std::string> out;
    for (const Record& r : b.records) out.push_back(r.key);
    return out;
  }

  fs::path dir_;
};

TEST_F(KeyListSourceTest, ACsvSourceKeepsTheListedKeysAndCountsTheRest) {
  {
    std::ofstream out(dir_ / "s.csv");
    out << "id,name\n";
    for (int i = 1; i <= 10; ++i) out << "k" << i << ",n" << i << "\n";
  }
  auto source = Open("csv", "s.csv", {"k2", "k3", "k9", "k99"});
  RecordBatch first, second, none;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*source->Next(2, &first, &rejects));
  EXPECT_EQ(Keys(first), (std::vector<std::string>{"k2", "k3"}));
  EXPECT_EQ(first.range.skipped(), 1u);  // k1
  ASSERT_TRUE(*source->Next(2, &second, &rejects));
  EXPECT_EQ(Keys(second), (std::vector<std::string>{"k9"}));
  EXPECT_EQ(second.range.skipped(), 6u);  // k4..k8, k10
  EXPECT_FALSE(*source->Next(2, &none, &rejects));
  EXPECT_TRUE(rejects.empty());
  // Read again from its range: the same batch.
  ASSERT_TRUE(source->Seek(second.range).ok());
  RecordBatch again;
  ASSERT_TRUE(*source->Next(2, &again, &rejects));
  EXPECT_EQ(Keys(again), Keys(second));
  EXPECT_EQ(again.records[0].values, second.records[0].values);
  EXPECT_EQ(again.range.end_offset(), second.range.end_offset());
}

TEST_F(KeyListSourceTest, AJsonLinesSourceKeepsTheListedKeysAndTheirRejectsOnly) {
  {
    std::ofstream out(dir_ / "s.jsonl");
    out << R"({"id": "a", "name": "x"})"
        << "\n"
        << R"({"name": "no key"})"
        << "\n"
        << R"({"id": "b", "name": "y"})"
        << "\n"
        << R"({"id": "c", "name": "z"})"
        << "\n";
  }
  auto source = Open("jsonl", "s.jsonl", {"c", "a"});
  RecordBatch b;
  std::vector<v1::Fate> rejects;
  ASSERT_TRUE(*source->Next(100, &b, &rejects));
  EXPECT_EQ(Keys(b), (std::vector<std::string>{"a", "c"}));
  // The keyless row is the delta's extraction's to reject, not the residents'.
  EXPECT_TRUE(rejects.empty());
  EXPECT_EQ(b.range.skipped(), 2u);
}

}  // namespace
}  // namespace sluice
