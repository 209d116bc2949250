#include "examples/sample/consolidation.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace sluice::sample {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int64_t Lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

class ConsolidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice_consolidation_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ConsolidationTest, WritesThreeSystemsAndATruthThatAddUp) {
  ConsolidationCounts c;
  ASSERT_TRUE(WriteConsolidation({(dir_ / "a").string(), 2000, 7}, &c).ok());
  EXPECT_EQ(c.entities, 2000);
  EXPECT_EQ(Lines(ReadFile(dir_ / "a" / "crm.csv")), c.crm_rows + 1);  // header
  EXPECT_EQ(Lines(ReadFile(dir_ / "a" / "erp.jsonl")), c.erp_rows);
  const std::string truth = ReadFile(dir_ / "a" / "truth.csv");
  EXPECT_EQ(Lines(truth), c.crm_rows + c.erp_rows + c.sfa_rows + 1);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "a" / "sfa.db").string().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* count = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM contacts", -1, &count, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(count, 0), c.sfa_rows);
  sqlite3_finalize(count);
  sqlite3_close(db);
  // Duplicates within and across systems, and the pairs they make.
  EXPECT_GT(c.in_system_duplicates, 20);
  EXPECT_GT(c.cross_system_people, 600);
  std::map<std::string, int64_t> rows_of;
  std::istringstream in(truth);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) ++rows_of[line.substr(line.rfind(',') + 1)];
  int64_t pairs = 0;
  for (const auto& [entity, n] : rows_of) pairs += n * (n - 1) / 2;
  EXPECT_EQ(pairs, c.true_pairs);
  EXPECT_EQ(static_cast<int64_t>(rows_of.size()), c.entities);
}

TEST_F(ConsolidationTest, SameSeedSameBytesOtherSeedOtherBytes) {
  ConsolidationCounts c;
  ASSERT_TRUE(WriteConsolidation({(dir_ / "a").string(), 500, 3}, &c).ok());
  ASSERT_TRUE(WriteConsolidation({(dir_ / "b").string(), 500, 3}, &c).ok());
  ASSERT_TRUE(WriteConsolidation({(dir_ / "c").string(), 500, 4}, &c).ok());
  for (const char* f : {"crm.csv", "erp.jsonl", "truth.csv"}) {
    EXPECT_EQ(ReadFile(dir_ / "a" / f), ReadFile(dir_ / "b" / f)) << f;
    EXPECT_NE(ReadFile(dir_ / "a" / f), ReadFile(dir_ / "c" / f)) << f;
  }
}

// Initials and typos never cut a multi-byte character.
TEST_F(ConsolidationTest, EveryFileIsValidUtf8) {
  ConsolidationCounts c;
  ASSERT_TRUE(WriteConsolidation({(dir_ / "a").string(), 5000, 1}, &c).ok());
  for (const char* f : {"crm.csv", "erp.jsonl"}) {
    const std::string text = ReadFile(dir_ / "a" / f);
    for (size_t i = 0; i < text.size();) {
      const unsigned char lead = static_cast<unsigned char>(text[i]);
      const size_t len = lead < 0x80 ? 1 : lead >= 0xC2 && lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
      ASSERT_TRUE(lead < 0x80 || (lead >= 0xC2 && lead < 0xF5)) << f << " at byte " << i;
      for (size_t k = 1; k < len; ++k) {
        ASSERT_EQ(static_cast<unsigned char>(text.at(i + k)) & 0xC0, 0x80) << f << " at " << i;
      }
      i += len;
    }
  }
}

TEST_F(ConsolidationTest, RefusesAnEmptyPopulation) {
  ConsolidationCounts c;
  EXPECT_EQ(WriteConsolidation({(dir_ / "a").string(), 0, 1}, &c).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::sample
