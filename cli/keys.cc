// `sluice keys generate --out DIR NAME`: a CurveZMQ key pair for a worker's
// machine or the coordinator (docs/architecture.md#security,
// deploy/README.md "Keys").
#include <filesystem>

#include "cli/command.h"
#include "common/runtime/curve_keys.h"

namespace sluice::cli {
namespace {

struct KeysArgs {
  std::string out_dir;
  std::string name;
};

// Writes OUT/NAME.key and OUT/NAME.key_secret (mode 0600) and says where,
// with the public key; the secret key is never printed.
int Generate(const KeysArgs& args, CommandContext& ctx) {
  auto keys = GenerateCurveKeyPair();
  Status st = keys.ok() ? WriteCurveKeyPair(args.out_dir, args.name, *keys) : keys.status();
  if (!st.ok()) return ctx.Fail(st.message(), kExitError);
  const std::string base = (std::filesystem::path(args.out_dir) / args.name).string();
  ctx.out() << "public key " << keys->public_key << "\n"
            << "wrote " << base << ".key (public: give it to the coordinator's --authorized-keys, "
            << "or to the workers' --coordinator-key)\n"
            << "wrote " << base << ".key_secret (mode 0600: only " << args.name
            << "'s own processes read it, with --key)\n";
  return kExitOk;
}

}  // namespace

void AddKeysCommands(CommandSet& commands) {
  CLI::App* keys = commands.Group("keys", "CurveZMQ keys for workers and the coordinator");
  auto [generate, args] =
      commands.Add(keys, "generate", "write a new key pair NAME.key and NAME.key_secret", Generate);
  generate->add_option("name", args->name, "whose key: a machine or a worker, e.g. host-b")
      ->required();
  generate->add_option("--out", args->out_dir, "the folder to write into")->required();
}

}  // namespace sluice::cli
