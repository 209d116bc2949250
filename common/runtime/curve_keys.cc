#include "common/runtime/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sluice {
namespace {

namespace fs = std::filesystem;

constexpr const char kZ85Alphabet[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

// The value of `field = "..."` in a CZMQ certificate, or "".
std::string CertField(const std::string& text, const std::string& field) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t at = line.find_first_not_of(" \t");
    if (at == std::string::npos || line.compare(at, field.size(), field) != 0) continue;
    size_t open = line.find('"', at + field.size());
    size_t close = open == std::string::npos ? open : line.find('"', open + 1);
    if (close == std::string::npos) continue;
    return line.substr(open + 1, close - open - 1);
  }
  return "";
}

Result<std::string> Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Certificate(const std::string& name, const CurveKeyPair& keys, bool secret) {
  std::string text = "#   sluice CURVE " + std::string(secret ? "secret" : "public") + " key of " +
                     name +
                     (secret ? ": read by its own process only, never copy it elsewhere\n"
                             : ": give it to the coordinator that must accept " + name + "\n");
  text += "metadata\n    name = \"" + name + "\"\ncurve\n    public-key = \"" + keys.public_key +
          "\"\n";
  if (secret) text += "    secret-key = \"" + keys.secret_key + "\"\n";
  return text;
}

Status WriteNew(const std::string& path, const std::string& text, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return Status::FailedPrecondition(path + " exists: not overwritten");
    return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  }
  // The umask may have taken bits away, never added: say exactly which.
  bool ok = fchmod(fd, mode) == 0 &&
            write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok) return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

Result<CurveKeyPair> GenerateCurveKeyPair() {
  char public_key[41], secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return Status::Unavailable("cannot generate a CURVE key pair: " +
                               std::string(zmq_strerror(zmq_errno())));
  }
  return CurveKeyPair{public_key, secret_key};
}

bool IsCurveKey(const std::string& key) {
  return key.size() == 40 && key.find_first_not_of(kZ85Alphabet) == std::string::npos;
}

Status WriteCurveKeyPair(const std::string& dir, const std::string& name,
                         const CurveKeyPair& keys) {
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
    return Status::InvalidArgument("key name '" + name + "': letters, digits, '-' and '_' only");
  }
  std::error_code ec;
  if (!fs::exists(dir)) {
    fs::create_directories(dir, ec);
    if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  const std::string base = (fs::path(dir) / name).string();
  for (const char* suffix : {".key", ".key_secret"}) {
    if (fs::exists(base + suffix)) {
      return Status::FailedPrecondition(base + suffix + " exists: not overwritten");
    }
  }
  // The secret first: a public key without its secret would be of no use.
  SLUICE_RETURN_IF_ERROR(WriteNew(base + ".key_secret", Certificate(name, keys, true), 0600));
  return WriteNew(base + ".key", Certificate(name, keys, false), 0644);
}

namespace {

fs::path SupervisionDir(const std::string& state_dir, const std::string& run_id) {
  return fs::path(state_dir.empty() ? ".sluice" : state_dir) / "supervise" / run_id;
}

}  // namespace

Status WriteSupervisorKeys(const std::string& state_dir, const std::string& run_id,
                           const SupervisorKeys& keys) {
  const fs::path dir = SupervisionDir(state_dir, run_id);
  std::error_code ec;
  fs::remove_all(dir, ec);  // a coordinator that continues the run makes its own
  SLUICE_RETURN_IF_ERROR(WriteCurveKeyPair(dir.string(), "supervisor", keys.supervisor));
  return WriteNew((dir / "coordinator.key").string(),
                  Certificate("coordinator", CurveKeyPair{keys.coordinator_key, ""}, false), 0644);
}

Result<SupervisorKeys> ReadSupervisorKeys(const std::string& state_dir, const std::string& run_id) {
  const fs::path dir = SupervisionDir(state_dir, run_id);
  if (!fs::exists(dir / "coordinator.key")) {
    return Status::NotFound("no supervision keys for run " + run_id + " in " + dir.string());
  }
  SupervisorKeys keys;
  SLUICE_ASSIGN_OR_RETURN(keys.supervisor,
                          ReadCurveSecretFile((dir / "supervisor.key_secret").string()));
  SLUICE_ASSIGN_OR_RETURN(keys.coordinator_key,
                          ReadCurvePublicKey((dir / "coordinator.key").string()));
  return keys;
}

Result<CurveKeyPair> ReadCurveSecretFile(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Status::NotFound("no secret key file " + path);
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return Status::InvalidArgument("secret key file " + path + " is open to other users (mode " +
                                   mode + "): chmod 600 it");
  }
  SLUICE_ASSIGN_OR_RETURN(std::string text, Slurp(path));
  CurveKeyPair keys{CertField(text, "public-key"), CertField(text, "secret-key")};
  if (!IsCurveKey(keys.public_key) || !IsCurveKey(keys.secret_key)) {
    return Status::InvalidArgument(path + " holds no CURVE key pair (`sluice keys generate`)");
  }
  // The public half must belong to the secret one.
  char derived[41];
  if (zmq_curve_public(derived, keys.secret_key.c_str()) != 0 || keys.public_key != derived) {
    return Status::InvalidArgument(path + ": its public key does not match its secret key");
  }
  return keys;
}

Result<std::string> ReadCurvePublicKey(const std::string& key_or_path) {
  if (IsCurveKey(key_or_path) && !fs::exists(key_or_path)) return key_or_path;
  SLUICE_ASSIGN_OR_RETURN(std::string text, Slurp(key_or_path));
  std::string key = CertField(text, "public-key");
  if (!IsCurveKey(key)) return Status::InvalidArgument(key_or_path + " holds no CURVE public key");
  return key;
}

Result<std::map<std::string, std::string>> ReadAuthorizedKeys(const std::string& path) {
  std::map<std::string, std::string> keys;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.path().extension() != ".key") continue;
      SLUICE_ASSIGN_OR_RETURN(std::string key, ReadCurvePublicKey(entry.path().string()));
      keys[key] = entry.path().stem().string();
    }
  } else {
    SLUICE_ASSIGN_OR_RETURN(std::string text, Slurp(path));
    std::istringstream in(text);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      // '#' starts a comment only as a word of its own: Z85 keys contain it.
      std::istringstream words(line);
      std::string key, name;
      if (!(words >> key) || key[0] == '#') continue;
      if (!IsCurveKey(key)) {
        return Status::InvalidArgument(path + ":" + std::to_string(n) +
                                       ": not a Z85 CURVE public key");
      }
      if (!(words >> name) || name[0] == '#') name = "line " + std::to_string(n);
      keys[key] = name;
    }
  }
  if (keys.empty()) return Status::InvalidArgument("no public keys in " + path);
  return keys;
}

}  // namespace sluice
