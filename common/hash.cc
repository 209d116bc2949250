#include "common/hash.h"

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <string>

namespace sluice {
namespace {
constexpr uint64_t kSeed = 0x5111CE5EEDull;  // fixed forever: hashes are persisted
}  // namespace

uint64_t Hash64(std::string_view bytes) { return XXH64(bytes.data(), bytes.size(), kSeed); }

uint64_t KeyHash(std::string_view source, std::string_view key) {
  XXH64_state_t state;
  XXH64_reset(&state, kSeed);
  XXH64_update(&state, source.data(), source.size());
  const char sep = '\x1f';
  XXH64_update(&state, &sep, 1);
  XXH64_update(&state, key.data(), key.size());
  return XXH64_digest(&state);
}

}  // namespace sluice
