#include "common/runtime/codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "common/core/limits.h"
#include "sluice/v1/control.pb.h"

namespace sluice {
namespace {

// Strings, ints and the other integral types; NULLs in both kinds of column.
RecordBatch SampleBatch() {
  RecordBatch b;
  b.id.set_run_id("run-1");
  b.id.set_wave(2);
  b.id.set_entity("hcp");
  b.id.set_source("crm");
  b.id.set_sequence(7);
  b.epoch = 3;
  b.range.set_begin_offset(100);
  b.range.set_end_offset(900);
  b.range.set_first_line(5);
  b.schema.fields = {{"name", FieldType::kString},
                     {"n", FieldType::kInt},
                     {"amount", FieldType::kDecimal, 14, 2},
                     {"day", FieldType::kDate},
                     {"kind", FieldType::kEnum},
                     {"parent", FieldType::kReference}};
  const char* sources[] = {"crm", "erp", "crm", "legacy", "erp", "crm", "crm", "crm", "erp", "crm"};
  for (int i = 0; i < 10; ++i) {
    Record r;
    r.source = sources[i];
    r.key = i == 3 ? std::string() : "K" + std::to_string(i * 37);
    r.line = i == 4 ? 0 : 5 + i;
    r.values = {
        i % 4 == 1 ? Value::Null() : Value::Str(i == 2 ? "" : "name " + std::to_string(i)),
        i % 3 == 0 ? Value::Null() : Value::Int(-1000 + i),
        Value::Int(INT64_MAX - i),
        i == 9 ? Value::Null() : Value::Int(19000 + i),
        Value::Str("a longer value that does not fit in a small string " + std::to_string(i)),
        i == 5 ? Value::Str(std::string("bin\0\xff", 5)) : Value::Null()};
    b.records.push_back(std::move(r));
  }
  b.records[6].merged = {{"erp", "E1"}, {"legacy", "L9"}};
  b.RehashAll();
  return b;
}

void ExpectSameBatch(const RecordBatch& got, const RecordBatch& want) {
  EXPECT_EQ(BatchName(got.id), BatchName(want.id));
  EXPECT_EQ(got.epoch, want.epoch);
  EXPECT_EQ(got.range.SerializeAsString(), want.range.SerializeAsString());
  EXPECT_TRUE(got.schema == want.schema);
  ASSERT_EQ(got.records.size(), want.records.size());
  for (size_t i = 0; i < want.records.size(); ++i) {
    const Record& g = got.records[i];
    const Record& w = want.records[i];
    EXPECT_EQ(g.source, w.source) << "record " << i;
    EXPECT_EQ(g.key, w.key) << "record " << i;
    EXPECT_EQ(g.content_hash, w.content_hash) << "record " << i;
    EXPECT_EQ(g.line, w.line) << "record " << i;
    ASSERT_EQ(g.values.size(), w.values.size()) << "record " << i;
    for (size_t f = 0; f < w.values.size(); ++f) {
      EXPECT_EQ(g.values[f], w.values[f]) << "record " << i << " field " << f;
    }
    EXPECT_EQ(g.merged, w.merged) << "record " << i;
  }
}

v1::RecordBatch Encode(const RecordBatch& b) {
  v1::RecordBatch pb;
  EncodeBatch(b, &pb);
  return pb;
}

TEST(CodecTest, RoundTripsEveryField) {
  const RecordBatch b = SampleBatch();
  v1::RecordBatch pb = Encode(b);
  // Through bytes, as on the wire.
  v1::RecordBatch parsed;
  ASSERT_TRUE(parsed.ParseFromString(pb.SerializeAsString()));
  auto got = DecodeBatch(parsed);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameBatch(*got, b);
  EXPECT_EQ(got->KeyChecksumValue(), b.KeyChecksumValue());
}

TEST(CodecTest, RoundTripsAnEmptyBatch) {
  RecordBatch b = SampleBatch();
  b.records.clear();
  auto got = DecodeBatch(Encode(b));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameBatch(*got, b);
}

TEST(CodecTest, EncodingIsDeterministic) {
  const RecordBatch b = SampleBatch();
  EXPECT_EQ(Encode(b).SerializeAsString(), Encode(b).SerializeAsString());
  // And survives a second trip unchanged: what a replay would send again.
  auto again = DecodeBatch(Encode(b));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Encode(*again).SerializeAsString(), Encode(b).SerializeAsString());
}

TEST(CodecTest, WireLayoutFollowsTheContract) {
  const RecordBatch b = SampleBatch();
  const v1::RecordBatch pb = Encode(b);
  // Sources: a dictionary in order of first use.
  ASSERT_EQ(pb.source_names_size(), 3);
  EXPECT_EQ(pb.source_names(0), "crm");
  EXPECT_EQ(pb.source_names(1), "erp");
  EXPECT_EQ(pb.source_names(2), "legacy");
  const std::vector<uint32_t> want_index = {0, 1, 0, 2, 1, 0, 0, 0, 1, 0};
  EXPECT_EQ(std::vector<uint32_t>(pb.source_index().begin(), pb.source_index().end()), want_index);
  // Keys: concatenated, with cumulative end offsets (record 3 has an empty key).
  std::string keys;
  std::vector<uint32_t> key_ends;
  for (const Record& r : b.records) {
    keys += r.key;
    key_ends.push_back(static_cast<uint32_t>(keys.size()));
  }
  EXPECT_EQ(pb.key_data(), keys);
  EXPECT_EQ(std::vector<uint32_t>(pb.key_ends().begin(), pb.key_ends().end()), key_ends);
  // A string column: NULL keeps an empty slot and sets its bit.
  const v1::Column& name = pb.columns(0);
  EXPECT_EQ(name.ints_size(), 0);
  ASSERT_EQ(name.string_ends_size(), 10);
  EXPECT_EQ(name.string_ends(0), 6u);  // "name 0"
  EXPECT_EQ(name.string_ends(1), 6u);  // NULL
  EXPECT_EQ(name.string_ends(2), 6u);  // ""
  EXPECT_EQ(name.string_data().substr(0, 12), "name 0name 3");
  EXPECT_EQ(name.nulls(), std::string("\x22\x02", 2));  // records 1, 5 and 9
  // An integral column: NULL keeps a 0 slot.
  const v1::Column& n = pb.columns(1);
  EXPECT_EQ(n.string_ends_size(), 0);
  EXPECT_TRUE(n.string_data().empty());
  ASSERT_EQ(n.ints_size(), 10);
  EXPECT_EQ(n.ints(0), 0);
  EXPECT_EQ(n.ints(1), -999);
  // No NULL at all: no mask.
  EXPECT_TRUE(pb.columns(2).nulls().empty());
  EXPECT_TRUE(pb.columns(4).nulls().empty());
  // Merged keys: one entry per record once any record has some.
  ASSERT_EQ(pb.merged_size(), 10);
  EXPECT_EQ(pb.merged(6).keys_size(), 2);
  EXPECT_EQ(pb.merged(0).keys_size(), 0);
}

TEST(CodecTest, NoMergedKeysWithoutMerges) {
  RecordBatch b = SampleBatch();
  b.records[6].merged.clear();
  EXPECT_EQ(Encode(b).merged_size(), 0);
}

struct CorruptionCase {
  const char* name;
  std::function<void(v1::RecordBatch&)> damage;
};

TEST(CodecTest, RefusesInconsistentBatchesAsCorruption) {
  const CorruptionCase cases[] = {
      {"ragged lines", [](v1::RecordBatch& pb) { pb.mutable_lines()->RemoveLast(); }},
      {"ragged hashes", [](v1::RecordBatch& pb) { pb.add_content_hashes(1); }},
      {"ragged source index", [](v1::RecordBatch& pb) { pb.mutable_source_index()->RemoveLast(); }},
      {"source index out of range", [](v1::RecordBatch& pb) { pb.set_source_index(4, 3); }},
      {"no source names", [](v1::RecordBatch& pb) { pb.clear_source_names(); }},
      {"ragged keys", [](v1::RecordBatch& pb) { pb.mutable_key_ends()->RemoveLast(); }},
      {"key ends decrease", [](v1::RecordBatch& pb) { pb.set_key_ends(5, 1); }},
      {"key ends past the data", [](v1::RecordBatch& pb) { pb.set_key_ends(9, 1000000); }},
      {"key data longer than the ends",
       [](v1::RecordBatch& pb) { pb.mutable_key_data()->push_back('x'); }},
      {"key checksum", [](v1::RecordBatch& pb) { (*pb.mutable_key_data())[0] ^= 1; }},
      {"wrong checksum", [](v1::RecordBatch& pb) { pb.set_key_checksum(pb.key_checksum() + 1); }},
      {"column missing", [](v1::RecordBatch& pb) { pb.mutable_columns()->RemoveLast(); }},
      {"short string column",
       [](v1::RecordBatch& pb) { pb.mutable_columns(0)->mutable_string_ends()->RemoveLast(); }},
      {"long string column",
       [](v1::RecordBatch& pb) {
         auto* c = pb.mutable_columns(0);
         c->add_string_ends(c->string_ends(c->string_ends_size() - 1));
       }},
      {"string ends past the data",
       [](v1::RecordBatch& pb) { pb.mutable_columns(4)->set_string_ends(9, 1u << 31); }},
      {"string ends decrease",
       [](v1::RecordBatch& pb) { pb.mutable_columns(4)->set_string_ends(3, 2); }},
      {"string data left over",
       [](v1::RecordBatch& pb) { pb.mutable_columns(4)->mutable_string_data()->append("zz"); }},
      {"strings in an int column",
       [](v1::RecordBatch& pb) { pb.mutable_columns(1)->add_string_ends(0); }},
      {"bytes in an int column",
       [](v1::RecordBatch& pb) { pb.mutable_columns(1)->set_string_data("x"); }},
      {"ints in a string column", [](v1::RecordBatch& pb) { pb.mutable_columns(0)->add_ints(1); }},
      {"short int column",
       [](v1::RecordBatch& pb) { pb.mutable_columns(1)->mutable_ints()->RemoveLast(); }},
      {"short null mask", [](v1::RecordBatch& pb) { pb.mutable_columns(0)->set_nulls("\x01"); }},
      {"long null mask",
       [](v1::RecordBatch& pb) { pb.mutable_columns(0)->set_nulls(std::string("\x01\0\0", 3)); }},
      {"ragged merged keys", [](v1::RecordBatch& pb) { pb.mutable_merged()->RemoveLast(); }},
      {"untyped field",
       [](v1::RecordBatch& pb) {
         pb.mutable_schema()->mutable_fields(2)->set_type(v1::FIELD_TYPE_UNSPECIFIED);
       }},
  };
  const v1::RecordBatch good = Encode(SampleBatch());
  ASSERT_TRUE(DecodeBatch(good).ok());
  for (const CorruptionCase& c : cases) {
    v1::RecordBatch pb = good;
    c.damage(pb);
    auto got = DecodeBatch(pb);
    ASSERT_FALSE(got.ok()) << c.name;
    EXPECT_EQ(got.status().code(), StatusCode::kCorruption)
        << c.name << ": " << got.status().ToString();
  }
}

TEST(CodecTest, ErrorsNameTheBatch) {
  v1::RecordBatch pb = Encode(SampleBatch());
  pb.set_key_ends(5, 1);
  auto got = DecodeBatch(pb);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("run-1/2/hcp/crm/7"), std::string::npos)
      << got.status().ToString();
}

// Random damage to the serialized bytes: parsing may fail, decoding may fail,
// nothing may crash or read out of bounds (run under ASan to be sure).
TEST(CodecTest, SurvivesRandomDamage) {
  const std::string good = Encode(SampleBatch()).SerializeAsString();
  std::mt19937 rng(20240521);
  int decoded = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
    }
    v1::RecordBatch pb;
    if (!pb.ParseFromString(bytes)) continue;
    auto got = DecodeBatch(pb);
    if (got.ok()) {
      ++decoded;  // damage to values only: still a consistent batch
    } else {
      EXPECT_EQ(got.status().code(), StatusCode::kCorruption) << got.status().ToString();
    }
  }
  EXPECT_LT(decoded, 3000);
}

// Issue 23: a peer cannot make a decoder allocate past the limits.
TEST(CodecTest, RefusesBatchesPastTheLimitsBeforeAllocating) {
  v1::RecordBatch wire;
  EncodeBatch(SampleBatch(), &wire);
  v1::RecordBatch many = wire;
  many.mutable_key_ends()->Resize(static_cast<int>(limits::kMaxBatchRecords) + 1, 0);
  Result<RecordBatch> b = DecodeBatch(many);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kCorruption);
  EXPECT_NE(b.status().message().find("1000001 records of 6 columns: past the limits"),
            std::string::npos)
      << b.status().message();
  v1::RecordBatch wide = wire;
  for (size_t i = 0; i <= limits::kMaxColumns; ++i) wide.mutable_schema()->add_fields();
  b = DecodeBatch(wide);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("4103 schema fields (at most 4096)"), std::string::npos)
      << b.status().message();
}

// Issue 23: one raw byte from a source in a string field made a whole
// commit unparseable ("unparseable control message from extractor-0").
TEST(CodecTest, SentMessagesHoldValidUtf8) {
  v1::Envelope env;
  v1::Commit* commit = env.mutable_commit();
  commit->set_stage("extract");
  commit->add_out_keys("crm\x1fK1");
  commit->add_out_keys(
      "crm\x1f"
      "Caf\xe9");
  v1::Fate* fate = commit->add_fates();
  fate->set_key("line:2");
  fate->set_value("{\"name\": \"Caf\xe9\"}");
  (*commit->mutable_decimal_sums())["amount\xff"] = 12;
  commit->set_lineage(std::string("\xff\xfe raw bytes stay", 17));
  ASSERT_TRUE(HasInvalidUtf8(env));
  v1::Envelope parsed;
  EXPECT_FALSE(parsed.ParseFromString(env.SerializeAsString()));

  ASSERT_TRUE(parsed.ParseFromString(SerializeForWire(env)));
  EXPECT_FALSE(HasInvalidUtf8(parsed));
  EXPECT_EQ(parsed.commit().out_keys(0), "crm\x1fK1");
  EXPECT_EQ(parsed.commit().out_keys(1),
            "crm\x1f"
            "Caf\xEF\xBF\xBD");
  EXPECT_EQ(parsed.commit().fates(0).value(), "{\"name\": \"Caf\xEF\xBF\xBD\"}");
  EXPECT_EQ(parsed.commit().decimal_sums().count("amount\xEF\xBF\xBD"), 1u);
  EXPECT_EQ(parsed.commit().lineage(), env.commit().lineage());  // bytes: untouched

  // A valid message is sent as it is.
  EXPECT_EQ(SerializeForWire(parsed), parsed.SerializeAsString());
}

}  // namespace
}  // namespace sluice
