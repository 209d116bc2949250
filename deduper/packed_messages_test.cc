#include "deduper/packed_messages.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "deduper/packed_batches.h"
#include "deduper/packed_values.h"
#include "sluice/v1/control.pb.h"

namespace sluice {
namespace {

v1::Fate FateNumber(int i) {
  v1::Fate f;
  f.set_source("crm");
  f.set_key("k" + std::to_string(i));
  // Large enough that a few thousand fill several 1 MiB chunks.
  f.set_reason(std::string(700 + i % 300, static_cast<char>('a' + i % 26)));
  return f;
}

// Spilled or not, the same items in the same order, sorted or not.
TEST(PackedMessagesTest, SpilledChunksReadBackAsHeld) {
  const std::string dir = testing::TempDir();
  PackedMessages<v1::Fate> held, spilled;
  auto spill = std::make_shared<PackedSpill>(dir);
  spilled.SpillTo(spill);
  const int n = 5000;
  for (int i = 0; i < n; ++i) {
    held.push_back(FateNumber(i));
    spilled.push_back(FateNumber(i));
  }
  EXPECT_GT(spill->size(), size_t{3} << 20);  // most chunks went to the file
  ASSERT_EQ(spilled.size(), held.size());
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(spilled.bytes(i), held.bytes(i)) << i;
  }
  // Out of order: by key text, descending.
  auto by_key_desc = [](const PackedMessages<v1::Fate>& p) {
    return [&p](uint32_t x, uint32_t y) { return p[x].key() > p[y].key(); };
  };
  held.StableSortFrom(0, by_key_desc(held));
  spilled.StableSortFrom(0, by_key_desc(spilled));
  int i = 0;
  for (const v1::Fate& f : spilled) {
    ASSERT_EQ(f.SerializeAsString(), held[i].SerializeAsString()) << i;
    ++i;
  }
  EXPECT_EQ(i, n);
  // A copy reads the same file; clearing one leaves the other whole.
  PackedMessages<v1::Fate> copy = spilled;
  spilled.clear();
  EXPECT_EQ(copy[n - 1].key(), held[n - 1].key());
}

// A spill that cannot make its file keeps everything in memory.
TEST(PackedMessagesTest, UnwritableSpillKeepsItemsInMemory) {
  PackedMessages<v1::Fate> p;
  auto spill = std::make_shared<PackedSpill>("/nonexistent/sluice-spill");
  p.SpillTo(spill);
  for (int i = 0; i < 3000; ++i) p.push_back(FateNumber(i));
  EXPECT_EQ(spill->size(), 0u);
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(p[i].key(), "k" + std::to_string(i));
}

// Output batches held encoded, spilled or not: each decodes to the batch
// that went in, with its count, sequence and key checksum beside it.
TEST(PackedBatchesTest, BatchesDecodeAsTheyWentIn) {
  Schema schema;
  schema.fields = {{"name", FieldType::kString}, {"n", FieldType::kInt}};
  auto spill = std::make_shared<PackedSpill>(testing::TempDir());
  PackedBatches held, spilled;
  spilled.SpillTo(spill);
  std::vector<RecordBatch> in;
  for (int s = 0; s < 40; ++s) {
    RecordBatch& b = in.emplace_back();
    b.id.set_entity("person");
    b.id.set_sequence(s);
    b.schema = schema;
    for (int i = 0; i < 300; ++i) {
      Record& r = b.records.emplace_back();
      r.source = "crm";
      r.key = "k" + std::to_string(s * 1000 + i);
      r.line = static_cast<uint64_t>(i + 1);
      r.values = {Value::Str(std::string(100 + i % 50, static_cast<char>('a' + i % 26))),
                  i % 7 == 0 ? Value::Null() : Value::Int(i)};
      if (i % 10 == 0) r.merged = {{"erp", "e" + std::to_string(i)}};
    }
    b.RehashAll();
    held.push_back(b);
    spilled.push_back(b);
  }
  EXPECT_GT(spill->size(), 0u);  // some chunks went to the file
  ASSERT_EQ(spilled.size(), in.size());
  size_t total = 0;
  for (size_t s = 0; s < in.size(); ++s) {
    for (const PackedBatches* p : {&held, &spilled}) {
      const RecordBatch b = (*p)[s];
      ASSERT_EQ(b.records.size(), in[s].records.size());
      EXPECT_EQ(b.id.sequence(), s);
      EXPECT_EQ(p->sequence(s), s);
      EXPECT_EQ(p->records(s), in[s].records.size());
      EXPECT_EQ(p->key_checksum(s), in[s].KeyChecksumValue());
      for (size_t i = 0; i < b.records.size(); ++i) {
        EXPECT_EQ(b.records[i].key, in[s].records[i].key);
        EXPECT_EQ(b.records[i].values, in[s].records[i].values);
        EXPECT_EQ(b.records[i].merged, in[s].records[i].merged);
        EXPECT_EQ(b.records[i].content_hash, in[s].records[i].content_hash);
        EXPECT_EQ(b.records[i].line, in[s].records[i].line);
      }
    }
    total += in[s].records.size();
  }
  EXPECT_EQ(spilled.total_records(), total);
}

// Values packed and read back as they went in, NULLs and integers
// included, held or spilled, in order or not.
TEST(PackedValuesTest, ValuesReadBackAsTheyWentIn) {
  Schema schema;
  schema.fields = {{"name", FieldType::kString}, {"n", FieldType::kInt}};
  for (const bool spill : {false, true}) {
    PackedValues packed;
    if (spill) packed.SpillTo(std::make_shared<PackedSpill>(testing::TempDir()));
    std::vector<std::vector<Value>> in;
    for (int i = 0; i < 40000; ++i) {
      in.push_back(
          {i % 5 == 0 ? Value::Null() : Value::Str(std::string(i % 90, 'x')), Value::Int(-i)});
      EXPECT_EQ(packed.Add(schema, in.back()), static_cast<uint32_t>(i));
    }
    for (int i = 0; i < 40000; i += 1 + i % 3) {  // forward, with gaps
      auto v = packed.Get(schema, static_cast<uint32_t>(i));
      ASSERT_TRUE(v.ok()) << v.status().ToString();
      EXPECT_EQ(*v, in[i]) << i;
    }
    for (int i = 39999; i >= 0; --i) {
      auto v = packed.Get(schema, static_cast<uint32_t>(i));
      ASSERT_TRUE(v.ok()) << v.status().ToString();
      EXPECT_EQ(*v, in[i]) << i;
    }
    EXPECT_FALSE(packed.Get(schema, 40000).ok());
    packed.Clear();
    EXPECT_EQ(packed.size(), 0u);
  }
}

}  // namespace
}  // namespace sluice
