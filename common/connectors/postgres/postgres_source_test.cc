// The PostgreSQL source against the real test server (scripts/pg.sh). Each
// test works in a schema of its own, so the tests run in parallel with each
// other and with the target's.
#include "common/connectors/postgres/postgres_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "common/connectors/postgres/pg_test_server.h"
#include "common/connectors/postgres/pg_util.h"

namespace sluice {
namespace {

class PostgresSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = PgTestDsn();
    ASSERT_FALSE(dsn_.empty()) << kPgTestServerHelp;
    auto conn = PgConn::Connect(dsn_);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    schema_ = "pgsrc_" + name.substr(0, 40) + "_" + std::to_string(::getpid());
    Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " + schema_);
    Exec("CREATE TABLE " + schema_ +
         ".\"the people\"(id integer, name text, score numeric(6,2), note text, born date,"
         " seen timestamptz, ok boolean);"
         "INSERT INTO " +
         schema_ +
         ".\"the people\" VALUES"
         " (3, 'carol', 2.5, NULL, '1980-12-31', NULL, false),"
         " (1, 'alice', 10, '', '2001-02-03', '2020-01-02 03:04:05+02', true),"
         " (2, 'bob', NULL, 'x', NULL, NULL, NULL),"
         " (NULL, 'ghost', 0, '0', NULL, NULL, NULL),"
         " (10, 'dave', -1, 'y', NULL, NULL, NULL),"
         " (5, 'erin', 7, 'z', NULL, NULL, NULL)");
  }
  void TearDown() override {
    if (conn_ != nullptr) (void)conn_->Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
  }

  void Exec(const std::string& sql) {
    Status st = conn_->Exec(sql);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  SourceSpec Spec(std::map<std::string, std::string> options) {
    SourceSpec spec;
    spec.name = "erp";
    spec.kind = "postgres";
    spec.yaml_path = "sources.erp";
    spec.options = std::move(options);
    if (!spec.options.count("dsn")) spec.options["dsn"] = dsn_;
    return spec;
  }

  // Every batch of `max_rows` rows, with the rejects of each.
  static std::vector<std::pair<RecordBatch, std::vector<v1::Fate>>> ReadAll(Source& src,
                                                                            size_t max_rows) {
    std::vector<std::pair<RecordBatch, std::vector<v1::Fate>>> out;
    while (true) {
      RecordBatch b;
      std::vector<v1::Fate> rej;
      auto more = src.Next(max_rows, &b, &rej);
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok() || !*more) break;
      out.emplace_back(std::move(b), std::move(rej));
    }
    return out;
  }

  static void ExpectSameBatch(const RecordBatch& a, const RecordBatch& b) {
    ASSERT_EQ(a.records.size(), b.records.size());
    for (size_t i = 0; i < a.records.size(); ++i) {
      EXPECT_EQ(a.records[i].key, b.records[i].key);
      EXPECT_EQ(a.records[i].values, b.records[i].values);
      EXPECT_EQ(a.records[i].line, b.records[i].line);
      EXPECT_EQ(a.records[i].content_hash, b.records[i].content_hash);
    }
    EXPECT_EQ(a.range.SerializeAsString(), b.range.SerializeAsString());
  }

  std::string dsn_;
  std::unique_ptr<PgConn> conn_;
  std::string schema_;
};

TEST_F(PostgresSourceTest, TableInKeyOrderWithNulls) {
  auto src = OpenPostgresSource(Spec({{"table", schema_ + ".the people"}, {"key", "id"}}));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  const Schema& schema = (*src)->schema();
  ASSERT_EQ(schema.fields.size(), 7u);
  EXPECT_EQ(schema.fields[3].name, "note");
  EXPECT_EQ(schema.fields[3].type, FieldType::kString);
  RecordBatch b;
  std::vector<v1::Fate> rej;
  ASSERT_TRUE(*(*src)->Next(100, &b, &rej));
  // Integer keys in numeric order (10 after 5); NULL keys sort last and are
  // rejected with their rank as line.
  ASSERT_EQ(b.records.size(), 5u);
  std::vector<std::string> keys;
  for (const Record& r : b.records) keys.push_back(r.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"1", "2", "3", "5", "10"}));
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].reason(), "missing key");
  EXPECT_EQ(rej[0].rule(), "missing_key");
  EXPECT_EQ(rej[0].field(), "id");
  EXPECT_EQ(rej[0].key(), "line:6");
  EXPECT_EQ(rej[0].line(), 6u);
  EXPECT_EQ(rej[0].source(), "erp");
  EXPECT_EQ(rej[0].value(), ",ghost,0.00,0,,,");

  const Record& alice = b.records[0];
  EXPECT_EQ(alice.source, "erp");
  EXPECT_EQ(alice.line, 1u);
  EXPECT_EQ(alice.values[2].s, "10.00");  // numeric(6,2) as the server renders it
  EXPECT_FALSE(alice.values[3].is_null);  // '' is not NULL
  EXPECT_EQ(alice.values[3].s, "");
  EXPECT_EQ(alice.values[4].s, "2001-02-03");
  EXPECT_EQ(alice.values[5].s, "2020-01-02 01:04:05+00");  // always in UTC
  EXPECT_EQ(alice.values[6].s, "t");
  EXPECT_TRUE(b.records[1].values[2].is_null);
  EXPECT_TRUE(b.records[2].values[3].is_null);
  EXPECT_EQ(b.records[2].values[1].s, "carol");
  EXPECT_EQ(b.records[2].values[2].s, "2.50");
  EXPECT_EQ(b.records[2].content_hash, ContentHash(b.schema, b.records[2].values));
  EXPECT_EQ(b.schema, schema);
  EXPECT_EQ(b.range.begin_offset(), 0u);
  EXPECT_EQ(b.range.end_offset(), 6u);
  EXPECT_EQ(b.range.first_line(), 1u);
  EXPECT_FALSE(*(*src)->Next(100, &b, &rej));
}

TEST_F(PostgresSourceTest, QueryBatchesAndSeek) {
  auto spec = Spec({{"query", "SELECT id AS k, upper(name) AS n FROM " + schema_ +
                                  ".\"the people\" WHERE id IS NOT NULL -- live rows only\n"},
                    {"key", "k"}});
  auto src = OpenPostgresSource(spec);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  auto batches = ReadAll(**src, 2);
  ASSERT_EQ(batches.size(), 3u);
  for (const auto& [b, rej] : batches) EXPECT_TRUE(rej.empty());
  EXPECT_EQ(batches[1].first.range.begin_offset(), 2u);
  EXPECT_EQ(batches[1].first.range.end_offset(), 4u);
  EXPECT_EQ(batches[1].first.range.first_line(), 3u);
  ASSERT_EQ(batches[2].first.records.size(), 1u);
  EXPECT_EQ(batches[2].first.records[0].values[1].s, "DAVE");
  EXPECT_EQ(batches[2].first.records[0].line, 5u);

  // Back (the cursor is declared again), back, then forward (the running
  // cursor moves on).
  for (int k : {1, 0, 2}) {
    ASSERT_TRUE((*src)->Seek(batches[k].first.range).ok());
    RecordBatch b;
    std::vector<v1::Fate> rej;
    ASSERT_TRUE(*(*src)->Next(2, &b, &rej));
    ExpectSameBatch(b, batches[k].first);
  }
  // A re-extraction in another process: a new source seeks to one batch.
  for (int k : {2, 1}) {
    auto again = OpenPostgresSource(spec);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    ASSERT_TRUE((*again)->Seek(batches[k].first.range).ok());
    RecordBatch b;
    std::vector<v1::Fate> rej;
    ASSERT_TRUE(*(*again)->Next(2, &b, &rej));
    ExpectSameBatch(b, batches[k].first);
  }
}

// A key scan (issue 18) reads the key column alone: the same keys, the
// keyless row rejected; duplicate keys need no tie-break on the other
// columns (a json column cannot be ordered, and is not read).
TEST_F(PostgresSourceTest, KeysOnlyReadsTheKeyColumnAlone) {
  auto spec = Spec({{"table", schema_ + ".the people"}, {"key", "id"}});
  spec.keys_only = true;
  auto src = OpenPostgresSource(spec);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ASSERT_EQ((*src)->schema().fields.size(), 1u);
  EXPECT_EQ((*src)->schema().fields[0].name, "id");
  RecordBatch b;
  std::vector<v1::Fate> rej;
  ASSERT_TRUE(*(*src)->Next(100, &b, &rej));
  std::vector<std::string> keys;
  for (const Record& r : b.records) keys.push_back(r.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"1", "2", "3", "5", "10"}));
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].key(), "line:6");

  Exec("CREATE TABLE " + schema_ + ".contacts(code text, doc json);" + "INSERT INTO " + schema_ +
       ".contacts VALUES ('b', '{}'), ('a', '[]'), ('b', '1')");
  auto dup = Spec({{"table", schema_ + ".contacts"}, {"key", "code"}});
  dup.keys_only = true;
  auto codes = OpenPostgresSource(dup);
  ASSERT_TRUE(codes.ok()) << codes.status().ToString();
  RecordBatch c;
  ASSERT_TRUE(*(*codes)->Next(100, &c, &rej));
  keys.clear();
  for (const Record& r : c.records) keys.push_back(r.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "b"}));
}

// Residents (issue 18 item 3): only the listed keys, through a temporary
// table of the key's type (integer here, text for a query), in key order,
// batches ranked among them so that Seek reads one again; a listed key the
// table lacks is no row, and an incremental mark is not applied.
TEST_F(PostgresSourceTest, AKeyListReadsOnlyTheListedKeys) {
  auto spec = Spec({{"table", schema_ + ".the people"}, {"key", "id"}});
  spec.incremental_column = "score";
  spec.extract_above = "100";  // would keep no row
  auto src = OpenPostgresSourceByKeys(spec, {"10", "2", "3", "77"});
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  auto batches = ReadAll(**src, 2);
  ASSERT_EQ(batches.size(), 2u);
  std::vector<std::string> keys;
  for (const auto& [b, rej] : batches) {
    EXPECT_TRUE(rej.empty());
    for (const Record& r : b.records) keys.push_back(r.key);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"2", "3", "10"}));
  ASSERT_TRUE((*src)->Seek(batches[1].first.range).ok());
  RecordBatch again;
  std::vector<v1::Fate> rej;
  ASSERT_TRUE(*(*src)->Next(2, &again, &rej));
  ExpectSameBatch(batches[1].first, again);

  auto query =
      Spec({{"query", "SELECT name, note FROM " + schema_ + ".\"the people\""}, {"key", "name"}});
  auto by_name = OpenPostgresSourceByKeys(query, {"erin", "bob"});
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  keys.clear();
  for (const auto& [b, r] : ReadAll(**by_name, 10)) {
    for (const Record& rec : b.records) keys.push_back(rec.key);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"bob", "erin"}));
}

TEST_F(PostgresSourceTest, DuplicateKeysAndUnorderableColumnsKeepOneOrder) {
  Exec("CREATE TABLE " + schema_ +
       ".contacts(code text, doc json, n int);"
       "INSERT INTO " +
       schema_ +
       ".contacts VALUES ('b', '{\"x\": 2}', 1), ('a', '{\"x\": 1}', 2), ('b', '{\"x\": 1}', 3),"
       " ('', '{}', 4), ('B', '[]', 5)");
  auto spec = Spec({{"table", schema_ + ".contacts"}, {"key", "code"}});
  auto first = OpenPostgresSource(spec);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto batches = ReadAll(**first, 1);
  ASSERT_EQ(batches.size(), 5u);
  // The empty key is rejected; equal keys come in the same order every time.
  std::vector<std::string> order;
  size_t rejected = 0;
  for (const auto& [b, rej] : batches) {
    rejected += rej.size();
    for (const Record& r : b.records) order.push_back(r.key + "/" + r.values[2].s);
  }
  EXPECT_EQ(rejected, 1u);
  ASSERT_EQ(order.size(), 4u);
  for (int round = 0; round < 3; ++round) {
    auto again = OpenPostgresSource(spec);
    ASSERT_TRUE(again.ok());
    auto reread = ReadAll(**again, 1);
    ASSERT_EQ(reread.size(), batches.size());
    for (size_t k = 0; k < batches.size(); ++k) ExpectSameBatch(reread[k].first, batches[k].first);
  }
  ASSERT_TRUE((*first)->Seek(batches[3].first.range).ok());
  RecordBatch b;
  std::vector<v1::Fate> rej;
  ASSERT_TRUE(*(*first)->Next(1, &b, &rej));
  ExpectSameBatch(b, batches[3].first);
}

TEST_F(PostgresSourceTest, UniqueKeysPrimaryOrNullable) {
  // A primary key orders every row alone; a unique but nullable key lets
  // several NULL keys tie, and their rejects must still come in one order.
  Exec("CREATE TABLE " + schema_ + ".pk(id bigint PRIMARY KEY, v text);" + "CREATE TABLE " +
       schema_ + ".uq(id text UNIQUE, v text);" + "INSERT INTO " + schema_ +
       ".pk SELECT g, 'v' || g FROM generate_series(1, 9) g;" + "INSERT INTO " + schema_ +
       ".uq VALUES ('k2', 'a'), (NULL, 'z'), ('k1', 'b'), (NULL, 'c'), (NULL, 'm')");
  for (const char* table : {".pk", ".uq"}) {
    SCOPED_TRACE(table);
    auto spec = Spec({{"table", schema_ + table}, {"key", "id"}});
    auto src = OpenPostgresSource(spec);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    auto batches = ReadAll(**src, 2);
    for (int round = 0; round < 2; ++round) {
      auto again = OpenPostgresSource(spec);
      ASSERT_TRUE(again.ok());
      auto reread = ReadAll(**again, 2);
      ASSERT_EQ(reread.size(), batches.size());
      for (size_t k = 0; k < batches.size(); ++k) {
        ExpectSameBatch(reread[k].first, batches[k].first);
        ASSERT_EQ(reread[k].second.size(), batches[k].second.size());
        for (size_t j = 0; j < batches[k].second.size(); ++j) {
          EXPECT_EQ(reread[k].second[j].SerializeAsString(),
                    batches[k].second[j].SerializeAsString());
        }
      }
    }
    ASSERT_TRUE((*src)->Seek(batches[1].first.range).ok());
    RecordBatch b;
    std::vector<v1::Fate> rej;
    ASSERT_TRUE(*(*src)->Next(2, &b, &rej));
    ExpectSameBatch(b, batches[1].first);
  }
  auto pk = OpenPostgresSource(Spec({{"table", schema_ + ".pk"}, {"key", "id"}}));
  ASSERT_TRUE(pk.ok());
  auto batches = ReadAll(**pk, 4);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[2].first.records[0].key, "9");  // bigint order, not text order
  auto uq = OpenPostgresSource(Spec({{"table", schema_ + ".uq"}, {"key", "id"}}));
  ASSERT_TRUE(uq.ok());
  batches = ReadAll(**uq, 10);
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].second.size(), 3u);
  EXPECT_EQ(batches[0].second[0].value(), ",c");  // NULL keys last, by the rest
  EXPECT_EQ(batches[0].second[2].value(), ",z");
}

TEST_F(PostgresSourceTest, ReadsOneSnapshot) {
  auto src = OpenPostgresSource(Spec({{"table", schema_ + ".the people"}, {"key", "id"}}));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  auto batches = ReadAll(**src, 3);
  ASSERT_EQ(batches.size(), 2u);
  // A change committed meanwhile does not move the batches of this source.
  Exec("INSERT INTO " + schema_ + ".\"the people\"(id, name) VALUES (0, 'zero')");
  ASSERT_TRUE((*src)->Seek(batches[0].first.range).ok());
  RecordBatch b;
  std::vector<v1::Fate> rej;
  ASSERT_TRUE(*(*src)->Next(3, &b, &rej));
  ExpectSameBatch(b, batches[0].first);
}

TEST_F(PostgresSourceTest, RegisteredAsPostgres) {
  auto kinds = SourceKinds();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "postgres"), kinds.end());
  auto src = OpenSource(Spec({{"table", schema_ + ".the people"}, {"key", "name"}}));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  RecordBatch b;
  std::vector<v1::Fate> rej;
  ASSERT_TRUE(*(*src)->Next(10, &b, &rej));
  EXPECT_EQ(b.records.size(), 6u);
  EXPECT_TRUE(rej.empty());
  // A query as written in a file: a trailing ';' and blank lines are fine.
  auto q = OpenSource(
      Spec({{"query", "SELECT name FROM " + schema_ + ".\"the people\";  \n\n"}, {"key", "name"}}));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_TRUE(*(*q)->Next(10, &b, &rej));
  EXPECT_EQ(b.records.size(), 6u);
}

TEST_F(PostgresSourceTest, ClearErrors) {
  auto both = OpenPostgresSource(Spec({{"table", "t"}, {"query", "SELECT 1"}, {"key", "id"}}));
  EXPECT_EQ(both.status().code(), StatusCode::kInvalidArgument);

  auto no_dsn = OpenPostgresSource(Spec({{"dsn", ""}, {"table", "t"}, {"key", "id"}}));
  ASSERT_FALSE(no_dsn.ok());
  EXPECT_NE(no_dsn.status().message().find("sources.erp.dsn"), std::string::npos);

  auto no_key = OpenPostgresSource(Spec({{"table", "t"}}));
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.status().message().find("sources.erp.key"), std::string::npos);

  auto no_table = OpenPostgresSource(Spec({{"table", schema_ + ".nope"}, {"key", "id"}}));
  ASSERT_FALSE(no_table.ok());
  EXPECT_NE(no_table.status().message().find("sources.erp.table"), std::string::npos)
      << no_table.status().ToString();
  EXPECT_NE(no_table.status().message().find("does not exist"), std::string::npos)
      << no_table.status().ToString();

  auto bad_query = OpenPostgresSource(Spec({{"query", "SELEC 1"}, {"key", "id"}}));
  ASSERT_FALSE(bad_query.ok());
  EXPECT_NE(bad_query.status().message().find("sources.erp.query"), std::string::npos)
      << bad_query.status().ToString();

  auto no_col = OpenPostgresSource(Spec({{"table", schema_ + ".the people"}, {"key", "pk"}}));
  ASSERT_FALSE(no_col.ok());
  EXPECT_NE(no_col.status().message().find("sources.erp.key"), std::string::npos);

  auto dup = OpenPostgresSource(Spec({{"query", "SELECT 1 AS a, 2 AS a"}, {"key", "a"}}));
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate column 'a'"), std::string::npos);

  auto unorderable = OpenPostgresSource(Spec({{"query", "SELECT '{}'::json AS j"}, {"key", "j"}}));
  ASSERT_FALSE(unorderable.ok());
  EXPECT_NE(unorderable.status().message().find("sources.erp.key"), std::string::npos)
      << unorderable.status().ToString();

  // Nobody listens on port 1: unreachable, and the password is never echoed.
  auto down = OpenPostgresSource(
      Spec({{"dsn", "host=127.0.0.1 port=1 user=postgres password=hunter2 connect_timeout=2"},
            {"table", "t"},
            {"key", "id"}}));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable) << down.status().ToString();
  EXPECT_NE(down.status().message().find("sources.erp.dsn"), std::string::npos);
  EXPECT_EQ(down.status().message().find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace sluice
