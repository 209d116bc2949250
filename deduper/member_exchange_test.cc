#include "deduper/member_exchange.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>
#include <vector>

namespace sluice {
namespace {

RecordBatch Members(std::vector<std::string> keys) {
  RecordBatch b;
  b.id.set_entity("hcp");
  b.schema.fields.push_back({"name", FieldType::kString});
  for (const std::string& k : keys) {
    Record& r = b.records.emplace_back();
    r.source = "crm";
    r.key = k;
    r.values.resize(1);
    r.values[0].is_null = false;
    r.values[0].s = "name of " + k;
  }
  b.RehashAll();
  return b;
}

v1::DedupMemberRequest Ask(uint64_t epoch, uint32_t shard) {
  v1::DedupMemberRequest r;
  r.set_resolution("1-hcp");
  r.set_epoch(epoch);
  r.set_shard(shard);
  return r;
}

TEST(MemberExchange, ServesWhatWasPublishedForTheAskingShard) {
  auto server = MemberServer::Start("tcp://127.0.0.1:*");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  (*server)->Publish("1-hcp", 7, {{1, Members({"C1", "C2"})}, {2, Members({"C9"})}});
  auto got = FetchMembers((*server)->endpoint(), "", Ask(7, 1), std::chrono::seconds(5));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].key, "C1");
  EXPECT_EQ((*got)[1].values[0].s, "name of C2");
  // A shard nothing was published for gets an empty answer, not a wait.
  auto none = FetchMembers((*server)->endpoint(), "", Ask(7, 3), std::chrono::seconds(5));
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
}

TEST(MemberExchange, AnotherEpochWaitsUntilPublished) {
  auto server = MemberServer::Start("tcp://127.0.0.1:*");
  ASSERT_TRUE(server.ok());
  (*server)->Publish("1-hcp", 7, {{1, Members({"OLD"})}});
  std::jthread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    (*server)->Publish("1-hcp", 8, {{1, Members({"NEW"})}});
  });
  auto got = FetchMembers((*server)->endpoint(), "", Ask(8, 1), std::chrono::seconds(5));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].key, "NEW");
}

TEST(MemberExchange, SilentPeerFailsAsUnavailable) {
  // Bound then gone: nobody answers at that endpoint.
  std::string endpoint;
  {
    auto server = MemberServer::Start("tcp://127.0.0.1:*");
    ASSERT_TRUE(server.ok());
    endpoint = (*server)->endpoint();
  }
  auto got = FetchMembers(endpoint, "", Ask(1, 0), std::chrono::milliseconds(800));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << got.status().ToString();
}

RecordBatch Rows(const std::string& batch, const std::string& rows) {
  RecordBatch b;
  b.id.set_entity("hcp");
  b.id.set_source("crm");
  b.id.set_sequence(batch.size());
  b.guest_rows = rows;
  return b;
}

v1::DedupMemberRequest AskRows(uint64_t epoch, uint32_t shard) {
  v1::DedupMemberRequest r = Ask(epoch, shard);
  r.set_resolution("1-hcp/guests");
  return r;
}

// The pre-round's rows travel on the same socket as round 4's members, each
// batch as it came (its id names the occurrences), apart from the members.
TEST(MemberExchange, ServesGuestRowsApartFromMembers) {
  auto server = MemberServer::Start("tcp://127.0.0.1:*");
  ASSERT_TRUE(server.ok());
  std::map<uint32_t, std::vector<RecordBatch>> rows;
  rows[1].push_back(Rows("a", "rows of a"));
  rows[1].push_back(Rows("bb", "rows of bb"));
  (*server)->PublishGuests("1-hcp", 7, std::move(rows));
  (*server)->Publish("1-hcp", 7, {{1, Members({"C1"})}});
  auto got = FetchGuests((*server)->endpoint(), "", AskRows(7, 1), std::chrono::seconds(5));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].guest_rows, "rows of a");
  EXPECT_EQ((*got)[0].id.sequence(), 1u);
  EXPECT_EQ((*got)[1].guest_rows, "rows of bb");
  EXPECT_EQ((*got)[1].id.sequence(), 2u);
  auto none = FetchGuests((*server)->endpoint(), "", AskRows(7, 2), std::chrono::seconds(5));
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  auto members = FetchMembers((*server)->endpoint(), "", Ask(7, 1), std::chrono::seconds(5));
  ASSERT_TRUE(members.ok()) << members.status().ToString();
  ASSERT_EQ(members->size(), 1u);
  EXPECT_EQ((*members)[0].key, "C1");
  // Withdrawn: asked again until rows of the epoch asked for are published.
  (*server)->WithdrawGuests("1-hcp");
  std::jthread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::map<uint32_t, std::vector<RecordBatch>> again;
    again[1].push_back(Rows("a", "rows of epoch 8"));
    (*server)->PublishGuests("1-hcp", 8, std::move(again));
  });
  auto later_rows = FetchGuests((*server)->endpoint(), "", AskRows(8, 1), std::chrono::seconds(5));
  ASSERT_TRUE(later_rows.ok()) << later_rows.status().ToString();
  ASSERT_EQ(later_rows->size(), 1u);
  EXPECT_EQ((*later_rows)[0].guest_rows, "rows of epoch 8");
}

TEST(MemberExchange, MemberBindKeepsTheDataHost) {
  EXPECT_EQ(MemberBindFor("tcp://0.0.0.0:5601"), "tcp://0.0.0.0:*");
  EXPECT_EQ(MemberBindFor("tcp://127.0.0.1:*"), "tcp://127.0.0.1:*");
  EXPECT_EQ(MemberBindFor("ipc:///tmp/run/deduper-1"), "ipc:///tmp/run/deduper-1.members");
}

}  // namespace
}  // namespace sluice
