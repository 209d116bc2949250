#include "common/runtime/endpoint.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(AdvertisedEndpointTest, WildcardHostBecomesTheHostName) {
  EXPECT_EQ(AdvertisedEndpoint("tcp://0.0.0.0:5601", "", "node-b"), "tcp://node-b:5601");
  EXPECT_EQ(AdvertisedEndpoint("tcp://*:5601", "", "node-b"), "tcp://node-b:5601");
  EXPECT_EQ(AdvertisedEndpoint("tcp://[::]:5601", "", "node-b"), "tcp://node-b:5601");
}

TEST(AdvertisedEndpointTest, ConcreteAddressesAndLocalTransportsAreKept) {
  EXPECT_EQ(AdvertisedEndpoint("tcp://10.0.0.7:5601", "", "node-b"), "tcp://10.0.0.7:5601");
  EXPECT_EQ(AdvertisedEndpoint("tcp://127.0.0.1:41234", "", "node-b"), "tcp://127.0.0.1:41234");
  EXPECT_EQ(AdvertisedEndpoint("ipc:///tmp/sluice/x", "", "node-b"), "ipc:///tmp/sluice/x");
}

TEST(AdvertisedEndpointTest, AnExplicitAdvertisementWins) {
  EXPECT_EQ(AdvertisedEndpoint("tcp://0.0.0.0:5601", "tcp://lb.example:7001", "node-b"),
            "tcp://lb.example:7001");
}

TEST(AdvertisedEndpointTest, HostNameIsNeverEmpty) { EXPECT_FALSE(LocalHostName().empty()); }

}  // namespace
}  // namespace sluice
