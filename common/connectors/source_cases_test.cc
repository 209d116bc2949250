// Golden cases of the text sources: every tests/data/sources/*.yaml is one
// case (tests/data/sources/README.md), so adding a case needs no C++. The
// test runs from the repository root.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "common/connectors/connector.h"

namespace sluice {
namespace {

constexpr const char* kCaseDir = "tests/data/sources";

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kCaseDir, ec)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

SourceSpec ReadSpec(const YAML::Node& node) {
  SourceSpec spec;
  spec.name = "src";
  spec.yaml_path = "sources.src";
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const std::string value = kv.second.as<std::string>();
    if (key == "kind") {
      spec.kind = value;
    } else if (key == "path") {
      spec.path = std::string(kCaseDir) + "/" + value;
    } else {
      spec.options[key] = value;
    }
  }
  return spec;
}

void RunCase(const std::string& file) {
  SCOPED_TRACE(file);
  YAML::Node root = YAML::LoadFile(file);
  const YAML::Node expect = root["expect"];
  auto source = OpenSource(ReadSpec(root["source"]));
  if (expect["open_error"]) {
    ASSERT_FALSE(source.ok());
    EXPECT_EQ(source.status().message(), expect["open_error"].as<std::string>());
    return;
  }
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  std::vector<std::string> columns;
  for (const auto& f : (*source)->schema().fields) columns.push_back(f.name);
  EXPECT_EQ(columns, expect["columns"].as<std::vector<std::string>>());

  std::vector<std::vector<std::string>> records;
  std::vector<v1::Fate> rejects;
  RecordBatch batch;
  while (true) {
    auto more = (*source)->Next(2, &batch, &rejects);  // small batches: ranges too
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    for (const Record& r : batch.records) {
      std::vector<std::string> row{std::to_string(r.line)};
      for (const Value& v : r.values) row.push_back(v.is_null ? "~" : v.s);
      records.push_back(std::move(row));
    }
  }
  std::vector<std::vector<std::string>> want;
  for (const auto& row : expect["records"]) want.push_back(row.as<std::vector<std::string>>());
  EXPECT_EQ(records, want);

  const YAML::Node want_rejects = expect["rejects"];
  ASSERT_EQ(rejects.size(), want_rejects.size());
  for (size_t i = 0; i < rejects.size(); ++i) {
    EXPECT_EQ(rejects[i].line(), want_rejects[i]["line"].as<uint64_t>()) << "reject " << i;
    EXPECT_EQ(rejects[i].rule(), want_rejects[i]["rule"].as<std::string>()) << "reject " << i;
    EXPECT_EQ(rejects[i].reason(), want_rejects[i]["reason"].as<std::string>()) << "reject " << i;
  }
}

TEST(SourceCasesTest, EveryCase) {
  const std::vector<std::string> files = CaseFiles();
  ASSERT_FALSE(files.empty()) << "no case in " << kCaseDir << " (run from the repository root)";
  for (const std::string& file : files) RunCase(file);
}

}  // namespace
}  // namespace sluice
