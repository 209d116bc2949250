// CurveZMQ on the runtime's sockets: key files, the ZAP handler's admission
// and refusal, and what a listener without the keys can read.
#include "common/runtime/seal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/runtime/request_reply.h"
#include "common/runtime/transport.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

const std::string kAnyPort = "tcp://127.0.0.1:*";

// A scratch folder for key files.
struct KeyDir {
  KeyDir() : path(fs::temp_directory_path() / ("sluice-seal-" + std::to_string(getpid()))) {
    fs::remove_all(path);
  }
  ~KeyDir() { fs::remove_all(path); }
  fs::path path;
};

// Seals the process with `keys` admitting `accepted`, and unseals it again
// when the test ends (the other tests of the binary run in plaintext).
struct ScopedSeal {
  ScopedSeal(const CurveKeyPair& keys, std::map<std::string, std::string> accepted,
             bool complete = true) {
    SealOptions o;
    o.keys = keys;
    o.accepted = std::move(accepted);
    o.accepted_complete = complete;
    EXPECT_TRUE(SealProcess(o).ok());
  }
  ~ScopedSeal() { EXPECT_TRUE(SealProcess(SealOptions{}).ok()); }
};

CurveKeyPair NewKeys() {
  auto keys = GenerateCurveKeyPair();
  EXPECT_TRUE(keys.ok());
  return *keys;
}

// A data message whose batch names `name` (as a record's value would).
std::string OneBatch(const std::string& name) {
  v1::DataMessage m;
  m.mutable_batch()->mutable_id()->set_entity("hcp");
  m.mutable_batch()->mutable_id()->set_source(name);
  return m.SerializeAsString();
}

bool Refused(const std::string& key) {
  auto refused = RefusedKeys();
  return std::find(refused.begin(), refused.end(), key) != refused.end();
}

// --- key files ---

TEST(CurveKeys, GeneratedPairIsWrittenWithAPrivateSecretFile) {
  KeyDir dir;
  CurveKeyPair keys = NewKeys();
  ASSERT_TRUE(IsCurveKey(keys.public_key));
  ASSERT_TRUE(WriteCurveKeyPair(dir.path.string(), "host-b", keys).ok());
  struct stat st {};
  ASSERT_EQ(stat((dir.path / "host-b.key_secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(dir.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // The public file holds no secret.
  std::ifstream pub(dir.path / "host-b.key");
  std::string text((std::istreambuf_iterator<char>(pub)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(keys.public_key), std::string::npos);
  EXPECT_EQ(text.find(keys.secret_key), std::string::npos);

  auto back = ReadCurveSecretFile((dir.path / "host-b.key_secret").string());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->public_key, keys.public_key);
  EXPECT_EQ(back->secret_key, keys.secret_key);
  auto public_only = ReadCurvePublicKey((dir.path / "host-b.key").string());
  ASSERT_TRUE(public_only.ok());
  EXPECT_EQ(*public_only, keys.public_key);
  // Never overwritten.
  EXPECT_EQ(WriteCurveKeyPair(dir.path.string(), "host-b", NewKeys()).code(),
            StatusCode::kFailedPrecondition);
}

TEST(CurveKeys, ASecretFileOthersCanReadIsRefused) {
  KeyDir dir;
  ASSERT_TRUE(WriteCurveKeyPair(dir.path.string(), "w", NewKeys()).ok());
  fs::permissions(dir.path / "w.key_secret", fs::perms::group_read, fs::perm_options::add);
  auto keys = ReadCurveSecretFile((dir.path / "w.key_secret").string());
  ASSERT_EQ(keys.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(keys.status().message().find("chmod 600"), std::string::npos);
}

TEST(CurveKeys, AuthorizedKeysFromADirectoryOrAList) {
  KeyDir dir;
  CurveKeyPair a = NewKeys(), b = NewKeys();
  ASSERT_TRUE(WriteCurveKeyPair((dir.path / "workers").string(), "host-a", a).ok());
  ASSERT_TRUE(WriteCurveKeyPair((dir.path / "workers").string(), "host-b", b).ok());
  auto from_dir = ReadAuthorizedKeys((dir.path / "workers").string());
  ASSERT_TRUE(from_dir.ok()) << from_dir.status().ToString();
  EXPECT_EQ(from_dir->size(), 2u);  // the .key files, not the secrets
  EXPECT_EQ(from_dir->at(a.public_key), "host-a");

  std::ofstream(dir.path / "list") << "# the workers\n"
                                   << a.public_key << " host-a\n\n"
                                   << b.public_key << "\n";
  auto from_list = ReadAuthorizedKeys((dir.path / "list").string());
  ASSERT_TRUE(from_list.ok()) << from_list.status().ToString();
  EXPECT_EQ(from_list->at(a.public_key), "host-a");
  EXPECT_EQ(from_list->at(b.public_key), "line 4");

  std::ofstream(dir.path / "bad") << "not-a-key host-c\n";
  EXPECT_EQ(ReadAuthorizedKeys((dir.path / "bad").string()).status().code(),
            StatusCode::kInvalidArgument);
}

// --- binding ---

TEST(Seal, PlaintextOnANonLoopbackInterfaceIsRefusedUnlessInsecure) {
  EXPECT_TRUE(PlaintextAllowed("tcp://127.0.0.1:5570"));
  EXPECT_TRUE(PlaintextAllowed("tcp://localhost:5570"));
  EXPECT_TRUE(PlaintextAllowed("ipc:///tmp/x"));
  EXPECT_FALSE(PlaintextAllowed("tcp://0.0.0.0:5570"));
  EXPECT_FALSE(PlaintextAllowed("tcp://*:5570"));
  EXPECT_FALSE(PlaintextAllowed("tcp://10.0.0.5:5570"));

  auto refused = DataProducer::Create("tcp://0.0.0.0:*");
  ASSERT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("--insecure"), std::string::npos);

  SealOptions insecure;
  insecure.insecure = true;
  ASSERT_TRUE(SealProcess(insecure).ok());
  EXPECT_TRUE(DataProducer::Create("tcp://0.0.0.0:*").ok());
  ASSERT_TRUE(SealProcess(SealOptions{}).ok());

  // With keys, any interface.
  CurveKeyPair keys = NewKeys();
  ScopedSeal seal(keys, {});
  EXPECT_TRUE(DataProducer::Create("tcp://0.0.0.0:*").ok());
}

TEST(Seal, ASealedProcessConnectsOnlyToAKnownServer) {
  CurveKeyPair keys = NewKeys();
  ScopedSeal seal(keys, {});
  auto c = DataConsumer::Create("tcp://127.0.0.1:1", "loader-0", 0, "");
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
}

// --- data over CURVE ---

TEST(Seal, AnAcceptedConsumerGetsBatchesAnUnknownKeyIsRefusedAndLogged) {
  // One process plays producer and consumer: its own key is the one its
  // producer accepts.
  CurveKeyPair keys = NewKeys();
  ScopedSeal seal(keys, {{keys.public_key, "validator-0"}});
  auto producer = DataProducer::Create(kAnyPort);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  auto consumer = DataConsumer::Create((*producer)->endpoint(), "loader-0", 0, keys.public_key);
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  ASSERT_TRUE((*consumer)->Grant(2).ok());
  (*producer)->Enqueue(0, OneBatch("Okafor"));
  std::optional<v1::RecordBatch> got;
  for (int i = 0; i < 100 && !got; ++i) {
    ASSERT_TRUE((*producer)->Pump().ok());
    auto r = (*consumer)->Receive(milliseconds(20));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    got = *r;
  }
  ASSERT_TRUE(got) << "no batch over CURVE";
  EXPECT_EQ(got->id().source(), "Okafor");

  // An intruder with a key of its own, in a context of its own (its own
  // process, as far as ZeroMQ knows), knowing the producer's public key.
  CurveKeyPair intruder = NewKeys();
  zmq::context_t other;
  zmq::socket_t dealer(other, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::routing_id, "loader-0");
  dealer.set(zmq::sockopt::curve_serverkey, keys.public_key);
  dealer.set(zmq::sockopt::curve_publickey, intruder.public_key);
  dealer.set(zmq::sockopt::curve_secretkey, intruder.secret_key);
  dealer.connect((*producer)->endpoint());
  v1::DataMessage credit;
  credit.mutable_credit()->set_credits(10);
  credit.mutable_credit()->set_reset(true);
  (void)dealer.send(zmq::buffer(credit.SerializeAsString()), zmq::send_flags::dontwait);
  (*producer)->Enqueue(0, OneBatch("Adeyemi"));
  for (int i = 0; i < 50 && !Refused(intruder.public_key); ++i) {
    ASSERT_TRUE((*producer)->Pump().ok());
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(Refused(intruder.public_key));
  // The batch waits for the real consumer's credit; the intruder got nothing.
  ASSERT_TRUE((*producer)->Pump().ok());
  zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
  EXPECT_EQ(zmq::poll(&item, 1, milliseconds(200)), 0);
  dealer.close();
}

TEST(Seal, AListenerWithoutTheKeysReadsNothing) {
  // A plaintext client against a sealed producer: the handshake fails, so
  // it never sees a batch even with credit granted.
  CurveKeyPair keys = NewKeys();
  ScopedSeal seal(keys, {{keys.public_key, "validator-0"}});
  auto producer = DataProducer::Create(kAnyPort);
  ASSERT_TRUE(producer.ok());
  zmq::context_t other;
  zmq::socket_t dealer(other, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect((*producer)->endpoint());
  v1::DataMessage credit;
  credit.mutable_credit()->set_credits(10);
  credit.mutable_credit()->set_reset(true);
  (void)dealer.send(zmq::buffer(credit.SerializeAsString()), zmq::send_flags::dontwait);
  (*producer)->Enqueue(0, OneBatch("Okafor"));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*producer)->Pump().ok());
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ((*producer)->queued(), 1u);
  zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
  EXPECT_EQ(zmq::poll(&item, 1, milliseconds(200)), 0);
  dealer.close();
}

TEST(Seal, APeerAnnouncedLaterIsAdmittedAnUnannouncedOneRefusedAfterTheWait) {
  // A worker's producer learns its consumers' keys from the coordinator,
  // maybe after a consumer knocked: its handshake waits for the
  // announcement (SealOptions::peer_wait), then goes through.
  CurveKeyPair keys = NewKeys();
  SealOptions o;
  o.keys = keys;
  o.accepted_complete = false;
  o.peer_wait = milliseconds(1500);
  ASSERT_TRUE(SealProcess(o).ok());
  auto producer = DataProducer::Create(kAnyPort);
  ASSERT_TRUE(producer.ok());
  auto consumer = DataConsumer::Create((*producer)->endpoint(), "loader-0", 0, keys.public_key);
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->Grant(2).ok());
  (*producer)->Enqueue(0, OneBatch("Okafor"));
  for (int i = 0; i < 10; ++i) {  // held: nothing yet
    ASSERT_TRUE((*producer)->Pump().ok());
    auto r = (*consumer)->Receive(milliseconds(20));
    ASSERT_TRUE(r.ok());
    ASSERT_FALSE(*r);
  }
  AcceptKeys({{keys.public_key, "loader-0"}});
  std::optional<v1::RecordBatch> got;
  for (int i = 0; i < 100 && !got; ++i) {
    ASSERT_TRUE((*producer)->Pump().ok());
    auto r = (*consumer)->Receive(milliseconds(20));
    ASSERT_TRUE(r.ok());
    got = *r;
  }
  EXPECT_TRUE(got) << "the consumer was not let in once its key was announced";
  EXPECT_FALSE(Refused(keys.public_key));

  // A key never announced is refused once the wait is over.
  CurveKeyPair intruder = NewKeys();
  zmq::context_t other;
  zmq::socket_t dealer(other, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::curve_serverkey, keys.public_key);
  dealer.set(zmq::sockopt::curve_publickey, intruder.public_key);
  dealer.set(zmq::sockopt::curve_secretkey, intruder.secret_key);
  dealer.connect((*producer)->endpoint());
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_FALSE(Refused(intruder.public_key));  // still held
  for (int i = 0; i < 100 && !Refused(intruder.public_key); ++i) {
    std::this_thread::sleep_for(milliseconds(30));
  }
  EXPECT_TRUE(Refused(intruder.public_key));
  dealer.close();
  ASSERT_TRUE(SealProcess(SealOptions{}).ok());
}

TEST(Seal, ControlMessagesCarryTheSendersKey) {
  CurveKeyPair keys = NewKeys();
  ScopedSeal seal(keys, {{keys.public_key, "loader-0"}});
  auto server = ControlServer::Create(kAnyPort);
  ASSERT_TRUE(server.ok());
  auto client = ControlClient::Create((*server)->endpoint(), "loader-0", keys.public_key);
  ASSERT_TRUE(client.ok());
  v1::Envelope hb;
  hb.mutable_heartbeat()->set_sequence(1);
  ASSERT_TRUE((*client)->Send(hb).ok());
  auto got = (*server)->Receive(milliseconds(3000));
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->sender, "loader-0");
  EXPECT_EQ((*got)->sender_key, keys.public_key);
}

TEST(Seal, RequestReplyOverCurve) {
  CurveKeyPair keys = NewKeys();
  ScopedSeal seal(keys, {{keys.public_key, "deduper-1"}});
  auto server = RequestServer::Start(kAnyPort, [](const std::string& r) { return r + "!"; });
  ASSERT_TRUE(server.ok());
  auto client = RequestClient::Create((*server)->endpoint(), keys.public_key);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Send("members").ok());
  auto reply = (*client)->Receive(milliseconds(3000));
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(*reply);
  EXPECT_EQ(**reply, "members!");
}

}  // namespace
}  // namespace sluice
