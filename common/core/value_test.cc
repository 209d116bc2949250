#include "common/core/value.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/core/hash.h"

namespace sluice {
namespace {

Schema MixedSchema() {
  Schema s;
  s.fields = {{"name", FieldType::kString},
              {"n", FieldType::kInt},
              {"amount", FieldType::kDecimal, 14, 2},
              {"day", FieldType::kDate},
              {"kind", FieldType::kEnum},
              {"ok", FieldType::kBool}};
  return s;
}

TEST(EncodeCanonicalTest, LaysOutTagsLengthsAndValuesLittleEndian) {
  Schema s;
  s.fields = {
      {"name", FieldType::kString}, {"n", FieldType::kInt}, {"amount", FieldType::kDecimal, 14, 2}};
  std::string out;
  EncodeCanonical(s, {Value::Str("ab"), Value::Int(-2), Value::Null()}, &out);
  const std::string expected(
      "\x02\x02\x00\x00\x00"
      "ab"
      "\x01\xfe\xff\xff\xff\xff\xff\xff\xff"
      "\x00",
      17);
  EXPECT_EQ(out, expected);
}

TEST(EncodeCanonicalTest, AppendsToWhatIsThere) {
  Schema s;
  s.fields = {{"n", FieldType::kInt}};
  std::string out = "prefix";
  EncodeCanonical(s, {Value::Int(1)}, &out);
  EXPECT_EQ(out, std::string("prefix\x01\x01\x00\x00\x00\x00\x00\x00\x00", 15));
}

TEST(EncodeCanonicalTest, NullDiffersFromEmptyString) {
  Schema s;
  s.fields = {{"name", FieldType::kString}};
  EXPECT_NE(ContentHash(s, {Value::Null()}), ContentHash(s, {Value::Str("")}));
}

TEST(ContentHashTest, IsXxh64OfTheCanonicalEncoding) {
  const Schema s = MixedSchema();
  const std::vector<Value> values = {Value::Str("Zoé Masson"), Value::Int(-1),
                                     Value::Int(449898),       Value::Int(19000),
                                     Value::Str("CLINIC"),     Value::Int(1)};
  std::string bytes;
  EncodeCanonical(s, values, &bytes);
  EXPECT_EQ(ContentHash(s, values), Hash64(bytes));
}

// Content and key hashes are persisted (audit store, ledger, reconciliation):
// these values were computed by the byte-by-byte implementation the current
// one replaced, and must never change.
TEST(PersistedHashesTest, ContentHashesAreStable) {
  const Schema s = MixedSchema();
  struct Case {
    std::vector<Value> values;
    size_t encoded_size;
    uint64_t hash;
  };
  const Case cases[] = {
      {{}, 0, 0x92579d51d015d976ull},
      {{Value::Null(), Value::Null(), Value::Null(), Value::Null(), Value::Null(), Value::Null()},
       6,
       0x4521000daf8ac9b2ull},
      {{Value::Str(""), Value::Int(0), Value::Int(0), Value::Int(0), Value::Str(""), Value::Int(0)},
       46,
       0x3109dcd845ec1602ull},
      {{Value::Str("Zoé Masson"), Value::Int(-1), Value::Int(449898), Value::Int(19000),
        Value::Str("CLINIC"), Value::Int(1)},
       63,
       0x536c329e39b7993cull},
      {{Value::Str(std::string(300, 'x') + std::string("\0\xff", 2)), Value::Int(INT64_MIN),
        Value::Int(INT64_MAX), Value::Null(), Value::Str("a"), Value::Int(0)},
       341,
       0xe84aa1490c6cedb5ull},
      // More values than fields: the extra ones are encoded as strings.
      {{Value::Str("a"), Value::Int(7), Value::Int(8), Value::Int(9), Value::Str("b"),
        Value::Int(1), Value::Str("extra"), Value::Int(5)},
       63,
       0x1d353da265ae1890ull},
  };
  for (const Case& c : cases) {
    std::string bytes;
    EncodeCanonical(s, c.values, &bytes);
    EXPECT_EQ(bytes.size(), c.encoded_size);
    EXPECT_EQ(ContentHash(s, c.values), c.hash) << "encoded size " << c.encoded_size;
  }
}

TEST(PersistedHashesTest, KeyHashesAreStable) {
  EXPECT_EQ(Hash64("abc"), 0xd834b4d7e4b5df6aull);
  EXPECT_EQ(Hash64(""), 0x92579d51d015d976ull);
  EXPECT_EQ(KeyHash("crm", "CRM0000001"), 0x29bf1b9e99badf99ull);
  EXPECT_EQ(KeyHash("", ""), 0xa955a12842d611e2ull);
  // Around and beyond the size hashed from a stack copy.
  EXPECT_EQ(KeyHash("erp", std::string(252, 'k')), 0x9450191939f7d97full);
  EXPECT_EQ(KeyHash("erp", std::string(253, 'k')), 0xbbe4b5cb9009725eull);
  EXPECT_EQ(KeyHash("legacy", std::string(1000, 'z')), 0xd01c5b1ad8bb8561ull);
}

TEST(KeyChecksumTest, IsTheSumOfKeyHashesInAnyOrder) {
  KeyChecksum a, b;
  a.Add("crm", "1");
  a.Add("erp", "2");
  b.Add("erp", "2");
  b.Add("crm", "1");
  EXPECT_EQ(a.value(), b.value());
  EXPECT_EQ(a.value(), KeyHash("crm", "1") + KeyHash("erp", "2"));
}

}  // namespace
}  // namespace sluice
