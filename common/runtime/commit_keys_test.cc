// A commit's key lists packed in one string (issue 20): what MakeCommit
// writes, ForEachOutKey reads back as out_keys would have held it.
#include "common/runtime/commit_keys.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/core/hash.h"
#include "common/runtime/crash_trail.h"
#include "common/runtime/worker.h"

namespace sluice {
namespace {

std::vector<std::string> Keys(const v1::Commit& c, bool* whole = nullptr) {
  std::vector<std::string> out;
  bool ok = ForEachOutKey(c, [&](std::string_view k) { out.emplace_back(k); });
  if (whole != nullptr) *whole = ok;
  return out;
}

TEST(CommitKeysTest, MakeCommitPacksTheKeysOfThePassedRecordsInOrder) {
  RecordBatch in;
  in.id.set_entity("hcp");
  std::vector<Record> passed(3);
  passed[0].source = "crm";
  passed[0].key = "K2";
  passed[1].source = "erp";
  passed[1].key = std::string(200, 'x');  // a length of two varint bytes
  passed[2].source = "crm";
  passed[2].key = "";
  in.records = passed;
  in.RehashAll();
  v1::Commit c = MakeCommit("transform", in, passed, {});
  EXPECT_EQ(c.out_keys_size(), 0);  // packed instead
  EXPECT_EQ(Keys(c),
            (std::vector<std::string>{JoinKey("crm", "K2"), JoinKey("erp", std::string(200, 'x')),
                                      JoinKey("crm", "")}));
  EXPECT_EQ(OutKeyCount(c), 3);
  KeyChecksum sum;
  for (const Record& r : passed) sum.Add(r.source, r.key);
  EXPECT_EQ(c.counts().out(), 3u);
  EXPECT_EQ(c.counts().out_checksum(), sum.value());
}

TEST(CommitKeysTest, AnOlderWorkersRepeatedKeysAreReadAlike) {
  v1::Commit c;
  c.add_out_keys(JoinKey("crm", "A"));
  c.add_out_keys(JoinKey("crm", "B"));
  EXPECT_EQ(Keys(c), (std::vector<std::string>{JoinKey("crm", "A"), JoinKey("crm", "B")}));
  EXPECT_EQ(OutKeyCount(c), 2);
  EXPECT_EQ(OutKeyCount(v1::Commit()), 0);
}

TEST(CommitKeysTest, PackedKeysCutShortAreDamage) {
  std::string packed;
  AppendPackedKey("crm", "K1", &packed);
  AppendPackedKey("crm", "K22", &packed);
  v1::Commit c;
  c.set_packed_out_keys(packed.substr(0, packed.size() - 1));
  bool whole = true;
  EXPECT_EQ(Keys(c, &whole), (std::vector<std::string>{JoinKey("crm", "K1")}));
  EXPECT_FALSE(whole);
  EXPECT_EQ(OutKeyCount(c), -1);
  c.set_packed_out_keys(std::string(1, '\x80'));  // a varint that never ends
  EXPECT_EQ(OutKeyCount(c), -1);
}

TEST(CommitKeysTest, EveryStageCommitButAStartNoticeTakesACredit) {
  v1::Envelope e;
  EXPECT_FALSE(TakesCommitCredit(e));
  e.mutable_heartbeat();
  EXPECT_FALSE(TakesCommitCredit(e));
  e.mutable_commit()->set_stage("load");
  EXPECT_TRUE(TakesCommitCredit(e));
  e.mutable_commit()->set_stage(kStartStage);
  EXPECT_FALSE(TakesCommitCredit(e));
}

}  // namespace
}  // namespace sluice
