// A message on the control channel as the coordinator receives it: who
// sent it, with which key, and what. Apart from transport.h so that the
// coordinator's channel interface names it without ZeroMQ.
#pragma once

#include <string>

#include "sluice/v1/control.pb.h"

namespace sluice {

struct ControlMessage {
  std::string sender;  // the worker socket's identity: "loader-0", "loader-0/hb"
  std::string
      sender_key;  // its CURVE public key, as its handshake proved (seal.h); "" in plaintext
  v1::Envelope envelope;
};

}  // namespace sluice
