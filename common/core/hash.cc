#include "common/core/hash.h"

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <cstring>
#include <string>

namespace sluice {
namespace {
constexpr uint64_t kSeed = 0x5111CE5EEDull;  // fixed forever: hashes are persisted
}  // namespace

uint64_t Hash64(std::string_view bytes) { return XXH64(bytes.data(), bytes.size(), kSeed); }

uint64_t KeyHash(std::string_view source, std::string_view key) {
  // xxh64 of source + '\x1f' + key. Streaming and one-shot xxh64 agree on the
  // same bytes; the one-shot call on a stack copy is several times faster for
  // the short keys this sees for every record in every stage.
  constexpr char kSeparator = '\x1f';
  char buf[256];
  const size_t size = source.size() + 1 + key.size();
  if (size <= sizeof buf) {
    std::memcpy(buf, source.data(), source.size());
    buf[source.size()] = kSeparator;
    std::memcpy(buf + source.size() + 1, key.data(), key.size());
    return XXH64(buf, size, kSeed);
  }
  XXH64_state_t state;
  XXH64_reset(&state, kSeed);
  XXH64_update(&state, source.data(), source.size());
  XXH64_update(&state, &kSeparator, 1);
  XXH64_update(&state, key.data(), key.size());
  return XXH64_digest(&state);
}

}  // namespace sluice
