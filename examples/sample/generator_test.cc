#include "examples/sample/generator.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "examples/sample/consolidation.h"
#include "examples/sample/person.h"

namespace sluice::sample {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class SampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice_sample_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SampleTest, QuickstartIsByteIdenticalForTheSameSeed) {
  QuickstartOptions options{.out_dir = (dir_ / "a").string(), .crm_rows = 2000, .erp_rows = 1000};
  QuickstartCounts counts;
  ASSERT_TRUE(WriteQuickstart(options, &counts).ok());
  options.out_dir = (dir_ / "b").string();
  ASSERT_TRUE(WriteQuickstart(options, &counts).ok());
  options.out_dir = (dir_ / "c").string();
  options.seed = 2;
  ASSERT_TRUE(WriteQuickstart(options, &counts).ok());
  for (const char* file : {"hcp_crm.csv", "erp.db"}) {
    EXPECT_EQ(ReadFile(dir_ / "a" / file), ReadFile(dir_ / "b" / file)) << file;
    EXPECT_NE(ReadFile(dir_ / "a" / file), ReadFile(dir_ / "c" / file)) << file;
  }
}

TEST_F(SampleTest, QuickstartCountsMatchTheFiles) {
  QuickstartOptions options{.out_dir = dir_.string()};
  QuickstartCounts c;
  ASSERT_TRUE(WriteQuickstart(options, &c).ok());
  EXPECT_EQ(c.crm_rows, 40000);
  EXPECT_EQ(c.crm_duplicates, 200);
  EXPECT_EQ(c.erp_duplicates, 75);
  EXPECT_EQ(c.erp_shared, 1800);

  const std::string csv = ReadFile(dir_ / "hcp_crm.csv");
  int64_t lines = 0;
  for (char ch : csv) lines += ch == '\n';
  EXPECT_EQ(lines, c.crm_rows + 1);  // the header

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "erp.db").string().c_str(), &db), SQLITE_OK);
  auto count = [db](const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    const int64_t n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
  };
  EXPECT_EQ(count("SELECT count(*) FROM doctors"), c.erp_rows);
  EXPECT_EQ(count("SELECT count(*) FROM doctors WHERE spec_code = 99"), c.erp_unknown_spec_code);
  EXPECT_EQ(count("SELECT count(*) FROM doctors WHERE nat_id IS NULL"), c.erp_null_national_id);
  EXPECT_EQ(count("SELECT count(*) FROM doctors WHERE mail NOT LIKE '%@%'"),
            c.erp_email_without_at);
  EXPECT_EQ(count("SELECT count(*) FROM doctors WHERE turnover LIKE '-%'"), c.erp_negative_revenue);
  EXPECT_EQ(count("SELECT count(nat_id) - count(DISTINCT nat_id) FROM doctors"), c.erp_duplicates);
  sqlite3_close(db);
}

TEST(PersonTest, DistinctPersonsHaveDistinctNationalIds) {
  std::set<uint64_t> ids;
  for (uint64_t i = 0; i < 200000; ++i) ids.insert(MakePerson(7, i).national_id);
  EXPECT_EQ(ids.size(), 200000u);
}

TEST(PersonTest, DatesAndAmountsAreFormattedWithoutLocale) {
  std::string s;
  AppendDayMonthYear(18321, &s);  // 2020-02-29
  EXPECT_EQ(s, "29/02/2020");
  EXPECT_EQ(IsoDate(18321), "2020-02-29");
  EXPECT_EQ(IsoTimestamp(18321LL * 86400 + 3661), "2020-02-29T01:01:01");
  s.clear();
  AppendCents(1234507, &s);
  EXPECT_EQ(s, "12345.07");
}

TEST_F(SampleTest, BenchIsAboutTheDesignSize) {
  int64_t bytes = 0;
  ASSERT_TRUE(WriteBenchCsv({.out_path = (dir_.string() + ".csv"), .rows = 20000}, &bytes).ok());
  std::filesystem::remove(dir_.string() + ".csv");
  EXPECT_GT(bytes / 20000, 130);
  EXPECT_LT(bytes / 20000, 145);
}

// sluice-sample consolidation (consolidation.h).
int64_t Lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

TEST_F(SampleTest, ConsolidationWritesThreeSystemsAndATruthThatAddUp) {
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

TEST_F(SampleTest, ConsolidationSameSeedSameBytesOtherSeedOtherBytes) {
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
TEST_F(SampleTest, ConsolidationEveryFileIsValidUtf8) {
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

// The hard profile (bench/dedup_hard): deterministic, valid UTF-8, and every
// national id as the population holds it passes the Luhn check (a row's id
// may carry a digit error).
TEST_F(SampleTest, HardConsolidationIsDeterministicWithLuhnIds) {
  ConsolidationCounts c;
  ConsolidationOptions o{(dir_ / "a").string(), 2000, 5, true};
  ASSERT_TRUE(WriteConsolidation(o, &c).ok());
  o.out_dir = (dir_ / "b").string();
  ASSERT_TRUE(WriteConsolidation(o, &c).ok());
  EXPECT_EQ(ReadFile(dir_ / "a" / "crm.csv"), ReadFile(dir_ / "b" / "crm.csv"));
  EXPECT_EQ(ReadFile(dir_ / "a" / "truth.csv"), ReadFile(dir_ / "b" / "truth.csv"));
  ASSERT_TRUE(WriteConsolidation({(dir_ / "c").string(), 2000, 5}, &c).ok());
  EXPECT_NE(ReadFile(dir_ / "a" / "crm.csv"), ReadFile(dir_ / "c" / "crm.csv"));
  std::istringstream crm(ReadFile(dir_ / "a" / "crm.csv"));
  std::string line;
  int ids = 0, valid = 0;
  std::getline(crm, line);
  while (std::getline(crm, line)) {
    // crm_id,first,last,birth,national_id,...: names never hold commas here.
    size_t at = 0;
    for (int k = 0; k < 4; ++k) at = line.find(',', at) + 1;
    const std::string id = line.substr(at, line.find(',', at) - at);
    if (id.empty()) continue;
    ++ids;
    int sum = 0;
    for (size_t i = 0; i < id.size(); ++i) {
      int d = id[id.size() - 1 - i] - '0';
      if (i % 2 == 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    valid += sum % 10 == 0;
  }
  ASSERT_GT(ids, 1000);
  EXPECT_GT(valid, ids * 9 / 10);  // about 6% of rows carry a digit error
  EXPECT_LT(valid, ids);
}

TEST_F(SampleTest, ConsolidationRefusesAnEmptyPopulation) {
  ConsolidationCounts c;
  EXPECT_EQ(WriteConsolidation({(dir_ / "a").string(), 0, 1}, &c).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::sample
