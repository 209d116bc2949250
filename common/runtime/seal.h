// How a process's sockets are secured (docs/architecture.md, "Security").
//
// A process is sealed once, as it starts and before it opens a socket. From
// then on every socket the runtime binds (BindSocket, transport.h) is a
// CurveZMQ server with the process's key pair, whose clients this process's
// ZAP handler admits only when their public key is accepted, and every
// socket it connects (ConnectSocket) is a CurveZMQ client that must be told
// its server's public key. Messages from an admitted client carry its public
// key (SenderKey). A process that is not sealed speaks plaintext, and
// BindSocket refuses a non-loopback interface unless plaintext was allowed
// there (`--insecure`).
//
// One seal per process, like the one ZeroMQ context: every function here is
// thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/core/status.h"
#include "common/runtime/curve_keys.h"

namespace sluice {

struct SealOptions {
  // This process's key pair; none: plaintext sockets.
  std::optional<CurveKeyPair> keys;
  // The public keys its bound sockets admit, public key -> name (for the
  // log). The coordinator's is complete: an unknown key is refused at once
  // (the client does not try again). A worker's grows as the coordinator
  // announces its peers (AcceptKeys): the handshake of an unknown key is
  // held for up to `peer_wait` in case its announcement is on its way, then
  // refused.
  std::map<std::string, std::string> accepted;
  bool accepted_complete = true;
  std::chrono::milliseconds peer_wait{30000};
  // Plaintext allowed on a non-loopback interface (`--insecure`); without
  // keys, BindSocket refuses one otherwise.
  bool insecure = false;
};

// Seals this process as `options` say, starting its ZAP handler when it has
// keys. Call before the first socket; calling again replaces the seal for
// the sockets opened afterwards (tests). Unavailable when the ZAP handler
// cannot bind.
Status SealProcess(const SealOptions& options);

// This process's key pair, or none when it speaks plaintext.
std::optional<CurveKeyPair> ProcessKeys();

// Whether a socket of this process may bind `endpoint` in plaintext: ipc,
// inproc and loopback TCP always, any other interface only when insecure.
bool PlaintextAllowed(const std::string& endpoint);

// Replaces the keys the process admits (a worker: its peers, as the
// coordinator announced them). Clients already admitted stay connected.
void AcceptKeys(const std::map<std::string, std::string>& accepted);

// The public keys refused at the handshake so far, in the order first seen.
std::vector<std::string> RefusedKeys();

// The sender's public key of a message received on a sealed socket (the
// ZAP handler's User-Id), or "" on a plaintext socket. Any frame of the
// message carries it.
std::string SenderKey(const zmq::message_t& message);

}  // namespace sluice
