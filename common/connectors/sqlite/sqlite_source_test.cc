#include "common/connectors/sqlite/sqlite_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/audit/sqlite_util.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class SqliteSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_sqlsrc_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "legacy.db").string();
    auto db = SqliteDb::Open(path_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)
                    ->Exec("CREATE TABLE \"the people\"(id INTEGER, name TEXT, score REAL, note);"
                           "INSERT INTO \"the people\" VALUES (3, 'carol', 2.5, NULL),"
                           " (1, 'alice', 10, ''), (2, 'bob', NULL, 'x'), (NULL, 'ghost', 0, 0),"
                           " (4, 'dave', -1, 'y'), (5, 'erin', 7, 'z');")
                    .ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  SourceSpec Spec(std::map<std::string, std::string> options) {
    SourceSpec spec;
    spec.name = "erp";
    spec.kind = "sqlite";
    spec.path = path_;
    spec.yaml_path = "sources.erp";
    spec.options = std::move(options);
    return spec;
  }

  fs::path dir_;
  std::string path_;
};

// A key scan (issue 18) reads the key column alone: the same keys in the
// same order, the keyless row rejected the same way.
TEST_F(SqliteSourceTest, KeysOnlyReadsTheKeyColumnAlone) {
  SourceSpec spec = Spec({{"table", "the people"}, {"key", "id"}});
  spec.keys_only = true;
  auto src = OpenSqliteSource(spec);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ASSERT_EQ((*src)->schema().fields.size(), 1u);
  EXPECT_EQ((*src)->schema().fields[0].name, "id");
  RecordBatch b;
  std::vector<v1::Fate> rej;
  ASSERT_TRUE(*(*src)->Next(100, &b, &rej));
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].key(), "line:1");
  std::vector<std::string> keys;
  for (const Record& r : b.records) keys.push_back(r.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  ASSERT_EQ(b.records[0].values.size(), 1u);
  EXPECT_FALSE(*(*src)->Next(100, &b, &rej));
}

TEST_F(SqliteSourceTest, TableInKeyOrderWithNulls) {
  auto src = OpenSqliteSource(Spec({{"table", "the people"}, {"key", "id"}}));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ASSERT_EQ((*src)->schema().fields.size(), 4u);
  EXPECT_EQ((*src)->schema().fields[3].name, "note");
  RecordBatch b;
  std::vector<v1::Fate> rej;
  ASSERT_TRUE(*(*src)->Next(100, &b, &rej));
  // NULL keys sort first in SQLite: rank 0 is the rejected ghost.
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].reason(), "missing key");
  EXPECT_EQ(rej[0].key(), "line:1");
  EXPECT_EQ(rej[0].line(), 1u);
  ASSERT_EQ(b.records.size(), 5u);
  EXPECT_EQ(b.records[0].key, "1");
  EXPECT_EQ(b.records[0].line, 2u);
  EXPECT_EQ(b.records[0].values[2].s, "10.0");  // REAL as SQLite renders it
  EXPECT_FALSE(b.records[0].values[3].is_null);
  EXPECT_EQ(b.records[0].values[3].s, "");
  EXPECT_TRUE(b.records[1].values[2].is_null);
  EXPECT_TRUE(b.records[2].values[3].is_null);
  EXPECT_EQ(b.records[2].values[1].s, "carol");
  EXPECT_EQ(b.records[2].content_hash, ContentHash(b.schema, b.records[2].values));
  EXPECT_EQ(b.range.begin_offset(), 0u);
  EXPECT_EQ(b.range.end_offset(), 6u);
  EXPECT_FALSE(*(*src)->Next(100, &b, &rej));
}

TEST_F(SqliteSourceTest, QueryBatchesAndSeek) {
  auto spec = Spec({{"query",
                     "SELECT id AS k, upper(name) AS n FROM \"the people\" "
                     "WHERE id IS NOT NULL;"},
                    {"key", "k"}});
  auto src = OpenSqliteSource(spec);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  std::vector<RecordBatch> batches;
  while (true) {
    RecordBatch b;
    std::vector<v1::Fate> rej;
    auto more = (*src)->Next(2, &b, &rej);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    EXPECT_TRUE(rej.empty());
    batches.push_back(b);
  }
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[1].range.begin_offset(), 2u);
  EXPECT_EQ(batches[1].range.end_offset(), 4u);
  EXPECT_EQ(batches[1].range.first_line(), 3u);
  EXPECT_EQ(batches[2].records.size(), 1u);
  EXPECT_EQ(batches[2].records[0].values[1].s, "ERIN");
  for (int k : {1, 0, 2}) {
    ASSERT_TRUE((*src)->Seek(batches[k].range).ok());
    RecordBatch b;
    std::vector<v1::Fate> rej;
    ASSERT_TRUE(*(*src)->Next(2, &b, &rej));
    ASSERT_EQ(b.records.size(), batches[k].records.size());
    for (size_t i = 0; i < b.records.size(); ++i) {
      EXPECT_EQ(b.records[i].key, batches[k].records[i].key);
      EXPECT_EQ(b.records[i].values, batches[k].records[i].values);
      EXPECT_EQ(b.records[i].line, batches[k].records[i].line);
    }
    EXPECT_EQ(b.range.SerializeAsString(), batches[k].range.SerializeAsString());
  }
}

TEST_F(SqliteSourceTest, ClearErrors) {
  auto both = OpenSqliteSource(Spec({{"table", "t"}, {"query", "SELECT 1"}, {"key", "id"}}));
  EXPECT_EQ(both.status().code(), StatusCode::kInvalidArgument);

  auto no_table = OpenSqliteSource(Spec({{"table", "nope"}, {"key", "id"}}));
  ASSERT_FALSE(no_table.ok());
  EXPECT_NE(no_table.status().message().find("sources.erp.table"), std::string::npos);
  EXPECT_NE(no_table.status().message().find("no such table"), std::string::npos);

  auto no_col = OpenSqliteSource(Spec({{"table", "the people"}, {"key", "pk"}}));
  ASSERT_FALSE(no_col.ok());
  EXPECT_NE(no_col.status().message().find("sources.erp.key"), std::string::npos);

  auto spec = Spec({{"table", "the people"}, {"key", "id"}});
  spec.path = (dir_ / "missing.db").string();
  auto missing = OpenSqliteSource(spec);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("sources.erp.path"), std::string::npos);
  EXPECT_NE(missing.status().message().find("missing.db"), std::string::npos);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// Residents (issue 18 item 3): only the listed keys, selected in the query
// (an integer key column matches the keys' text), in key order, batches
// ranked among them so that Seek reads one again; a listed key the table
// lacks is no row, and an incremental mark is not applied.
TEST_F(SqliteSourceTest, AKeyListReadsOnlyTheListedKeys) {
  SourceSpec spec = Spec({{"table", "the people"}, {"key", "id"}});
  spec.incremental_column = "score";
  spec.extract_above = "100";  // would keep no row
  auto src = OpenSqliteSourceByKeys(spec, {"2", "4", "5", "77"});
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  RecordBatch first, second, again;
  std::vector<v1::Fate> rej;
  ASSERT_TRUE(*(*src)->Next(2, &first, &rej));
  ASSERT_TRUE(*(*src)->Next(2, &second, &rej));
  RecordBatch none;
  EXPECT_FALSE(*(*src)->Next(2, &none, &rej));
  EXPECT_TRUE(rej.empty());
  ASSERT_EQ(first.records.size(), 2u);
  EXPECT_EQ(first.records[0].key, "2");
  EXPECT_EQ(first.records[1].key, "4");
  ASSERT_EQ(second.records.size(), 1u);
  EXPECT_EQ(second.records[0].key, "5");
  EXPECT_EQ(second.range.begin_offset(), 2u);
  ASSERT_TRUE((*src)->Seek(second.range).ok());
  ASSERT_TRUE(*(*src)->Next(2, &again, &rej));
  ASSERT_EQ(again.records.size(), 1u);
  EXPECT_EQ(again.records[0].key, "5");
  EXPECT_EQ(again.records[0].values, second.records[0].values);
}

}  // namespace
}  // namespace sluice
