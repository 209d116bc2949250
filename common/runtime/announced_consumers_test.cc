#include "common/runtime/announced_consumers.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

v1::PeerKeys Peers(const std::map<std::string, std::string>& keys) {
  v1::PeerKeys peers;
  for (const auto& [name, key] : keys) {
    auto* p = peers.add_keys();
    p->set_identity(name);
    p->set_public_key(key);
  }
  return peers;
}

// A validator's batches go to loaders, each with the key the coordinator
// announced for it; any other key, name or role gets nothing.
TEST(AnnouncedConsumers, OnlyAnnouncedConsumersOfTheNextRoleWithTheirKeys) {
  AnnouncedConsumers gate("validator");
  gate.Announce(Peers({{"loader-0", "K-loader"}, {"extractor-0", "K-extractor"}}));
  EXPECT_TRUE(gate.Admits("loader-0@1f", "K-loader"));
  EXPECT_FALSE(gate.Admits("loader-0@1f", "K-extractor")) << "another worker's key";
  EXPECT_FALSE(gate.Admits("loader-1@1f", "K-loader")) << "a name never announced";
  EXPECT_FALSE(gate.Admits("extractor-0@1f", "K-extractor")) << "no consumer of a validator";
  // Announcements replace each other: a replacement's new key.
  gate.Announce(Peers({{"loader-0", "K-new"}}));
  EXPECT_FALSE(gate.Admits("loader-0@2a", "K-loader"));
  EXPECT_TRUE(gate.Admits("loader-0@2a", "K-new"));
}

// In plaintext there is no key to check: only the role is.
TEST(AnnouncedConsumers, PlaintextChecksTheRoleOnly) {
  AnnouncedConsumers gate("transformer");
  EXPECT_TRUE(gate.Admits("deduper-1@9", ""));
  EXPECT_TRUE(gate.Admits("deduper-0", ""));
  EXPECT_FALSE(gate.Admits("loader-0@9", ""));
}

}  // namespace
}  // namespace sluice
