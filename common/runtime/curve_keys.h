// CurveZMQ key pairs and the files that hold them (docs/architecture.md,
// "Security"; deploy/README.md, "Keys").
//
// A key pair is two Z85 strings of 40 characters. On disk a pair named NAME
// is two files in the format of CZMQ's certificates, so zcert tools read
// them too:
//   NAME.key         the public key, handed to whoever must accept NAME;
//   NAME.key_secret  the public and the secret key, mode 0600, read only by
//                    NAME's own process.
// Secret keys are never logged or printed by anything in sluice.
#pragma once

#include <map>
#include <string>

#include "common/core/status.h"

namespace sluice {

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters; never logged
};

// A fresh key pair from libsodium's random source (zmq_curve_keypair).
Result<CurveKeyPair> GenerateCurveKeyPair();

// Whether `key` is a Z85-encoded 32-byte key (40 characters of the Z85
// alphabet).
bool IsCurveKey(const std::string& key);

// Writes DIR/NAME.key (mode 0644) and DIR/NAME.key_secret (mode 0600,
// created with O_EXCL so an existing key is never overwritten), creating DIR
// (mode 0700) when missing. FailedPrecondition when either file exists;
// IoError when a file cannot be written.
Status WriteCurveKeyPair(const std::string& dir, const std::string& name, const CurveKeyPair& keys);

// A sealed run's supervision keys (docs/operations.md): the key pair
// `sluice status` and `sluice halt` ask the coordinator with, made by the
// coordinator for that run only, and the coordinator's public key. They live
// in STATE_DIR/supervise/RUN/ (mode 0700; the secret 0600), so whoever may
// read the run's audit store may supervise it, and nobody else.
struct SupervisorKeys {
  CurveKeyPair supervisor;
  std::string coordinator_key;
};
// Writes them, replacing what an earlier coordinator of the run left.
Status WriteSupervisorKeys(const std::string& state_dir, const std::string& run_id,
                           const SupervisorKeys& keys);
// NotFound when the run left none (a plaintext run).
Result<SupervisorKeys> ReadSupervisorKeys(const std::string& state_dir, const std::string& run_id);

// Reads a secret key file (NAME.key_secret). InvalidArgument when the file
// is readable or writable by anyone but its owner (as ssh does), or holds no
// valid pair; NotFound when it is missing.
Result<CurveKeyPair> ReadCurveSecretFile(const std::string& path);

// A public key given on the command line: a Z85 key itself, or a file
// holding one (NAME.key, or NAME.key_secret of which only the public half
// is read).
Result<std::string> ReadCurvePublicKey(const std::string& key_or_path);

// The public keys a coordinator accepts, public key -> name: every NAME.key
// file of a directory (its NAME), or a file listing one key per line
// ("KEY [NAME]"; a line whose first word starts with '#' is a comment; the
// name defaults to the line number).
// InvalidArgument on a malformed key; an empty list is an error too.
Result<std::map<std::string, std::string>> ReadAuthorizedKeys(const std::string& path);

}  // namespace sluice
